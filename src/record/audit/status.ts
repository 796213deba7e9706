// The kernel's audit status (enabled, the consumer's pid, backlog and rate
// limits, the lost counter) read through `auditctl -s`. The kernel gives it
// only over an AUDIT_GET netlink request, which Node cannot send; parsing the
// output of auditd's own tool is the simplest honest route (root and the
// auditd package needed; without them the lost counter is reported unknown).
import { execFile } from 'node:child_process';

export interface AuditStatus {
  enabled: number;
  /** pid of the registered audit daemon; 0 when none. */
  pid: number;
  rateLimit: number;
  backlogLimit: number;
  lost: number;
  backlog: number;
  backlogWaitTime?: number;
}

const KEYS: Record<string, keyof AuditStatus> = {
  enabled: 'enabled',
  pid: 'pid',
  rate_limit: 'rateLimit',
  backlog_limit: 'backlogLimit',
  lost: 'lost',
  backlog: 'backlog',
  backlog_wait_time: 'backlogWaitTime',
};

/** Parses `auditctl -s` output; undefined when a required line is missing. */
export function parseAuditctlStatus(text: string): AuditStatus | undefined {
  const out: Partial<AuditStatus> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (\d+)\b/.exec(line.trim());
    const key = m && KEYS[m[1]];
    if (key) out[key] = Number(m[2]);
  }
  for (const k of ['enabled', 'pid', 'rateLimit', 'backlogLimit', 'lost', 'backlog'] as const) if (out[k] === undefined) return undefined;
  return out as AuditStatus;
}

export type StatusResult = { ok: true; status: AuditStatus } | { ok: false; reason: string };

/** Runs `auditctl -s` (bounded to 5 s); never throws. */
export function readAuditStatus(auditctl = 'auditctl'): Promise<StatusResult> {
  return new Promise((resolve) => {
    execFile(auditctl, ['-s'], { timeout: 5000, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? `${auditctl} not found (Debian: apt-get install auditd)` : String(stderr || err.message).trim().split('\n')[0];
        resolve({ ok: false, reason: why });
        return;
      }
      const status = parseAuditctlStatus(stdout);
      resolve(status ? { ok: true, status } : { ok: false, reason: `unexpected ${auditctl} -s output` });
    });
  });
}

export const AUDITD_CONF = '/etc/audit/auditd.conf';
export const DEFAULT_AUDIT_LOG = '/var/log/audit/audit.log';

/**
 * Where auditd writes its log, from its configuration (`log_file`, default
 * /var/log/audit/audit.log); undefined when it writes none (`write_logs = no`).
 */
export function auditdLogFile(confText: string | undefined): string | undefined {
  let file = DEFAULT_AUDIT_LOG;
  for (const raw of (confText ?? '').split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    if (m[1] === 'log_file' && m[2]) file = m[2];
    if (m[1] === 'write_logs' && m[2].toLowerCase() === 'no') return undefined;
  }
  return file;
}
