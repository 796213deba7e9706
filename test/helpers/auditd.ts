// The kernel's audit for tests: its status, a private auditd started and
// stopped by the test, and the audit/printk settings saved and restored, so a
// test leaves the machine as it found it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditctlStatus } from '../../src/record/audit/status.js';
import type { AuditStatus } from '../../src/record/audit/status.js';
import { hasCommand } from './fixtures.js';

export function auditStatus(): AuditStatus | undefined {
  try {
    return parseAuditctlStatus(execFileSync('auditctl', ['-s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch {
    return undefined;
  }
}

/**
 * Why SCMP_ACT_LOG cannot be seen in the audit stream on this host, or false: the kernel
 * must log the `log` action, and a locked audit configuration cannot be changed and restored.
 */
export function seccompLogSkipReason(): string | false {
  if (!hasCommand('auditctl')) return 'auditd is not installed (apt-get install auditd)';
  let logged: string;
  try {
    logged = readFileSync('/proc/sys/kernel/seccomp/actions_logged', 'utf8').trim();
  } catch (err) {
    return `cannot read /proc/sys/kernel/seccomp/actions_logged: ${(err as Error).message}`;
  }
  if (!logged.split(/\s+/).includes('log'))
    return `kernel.seccomp.actions_logged is "${logged}", without "log": SCMP_ACT_LOG writes no audit record (sysctl -w kernel.seccomp.actions_logged="${logged} log")`;
  const status = auditStatus();
  if (!status) return 'auditctl -s gave no status (root needed)';
  if (status.enabled === 2) return 'the audit configuration is locked (auditctl -s: enabled 2): these tests change and restore it';
  return false;
}

/** Why a test that starts its own auditd cannot run here, or false. */
export function auditdSkipReason(): string | false {
  if (!hasCommand('auditd') || !hasCommand('auditctl')) return 'auditd is not installed (apt-get install auditd)';
  const pid = auditStatus()?.pid ?? 0;
  if (pid !== 0) return `an audit daemon (pid ${pid}) already runs: these tests need the kernel's audit to themselves`;
  return seccompLogSkipReason();
}

export async function until(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PrivateAuditd {
  dir: string;
  conf: string;
  log: string;
  pid: number;
  /** SIGTERM and wait for it to exit; idempotent. */
  stop(): Promise<void>;
}

/** auditd on a private configuration and log in `dir`; resolves once the kernel has it as its audit daemon. */
export async function startPrivateAuditd(dir: string): Promise<PrivateAuditd> {
  mkdirSync(join(dir, 'plugins.d'), { recursive: true });
  const log = join(dir, 'audit.log');
  const conf = join(dir, 'auditd.conf');
  writeFileSync(
    conf,
    [`log_file = ${log}`, 'log_format = RAW', 'flush = INCREMENTAL_ASYNC', 'freq = 1', 'num_logs = 5', 'max_log_file = 0', 'max_log_file_action = IGNORE',
      'space_left = 2', 'admin_space_left = 1', 'disk_full_action = IGNORE', 'disk_error_action = IGNORE', `plugin_dir = ${join(dir, 'plugins.d')}`, ''].join('\n'),
    { mode: 0o640 },
  );
  const child = spawn('auditd', ['-n', '-c', dir], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      try {
        process.kill(child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await exited;
  };
  await until(() => auditStatus()?.pid === child.pid, 'auditd to register with the kernel');
  return { dir, conf, log, pid: child.pid!, stop };
}

/** Saves the kernel audit settings and the given /proc files now; the function returned puts them back. */
export function saveAuditSettings(procFiles: string[]): () => void {
  const s = auditStatus()!;
  const files = procFiles.map((f) => [f, readFileSync(f, 'utf8').trim()] as const);
  return () => {
    for (const args of [['-e', String(s.enabled)], ['-b', String(s.backlogLimit)], ['-r', String(s.rateLimit)], ...(s.backlogWaitTime === undefined ? [] : [['--backlog_wait_time', String(s.backlogWaitTime)]])])
      execFileSync('auditctl', args, { stdio: 'ignore' });
    for (const [f, v] of files) writeFileSync(f, v);
  };
}
