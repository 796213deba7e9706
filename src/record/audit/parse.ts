// Parses one line of an audit trail: auditd's log (RAW and ENRICHED formats),
// or the kernel log (`/dev/kmsg` records, `dmesg`, syslog/journal `kernel:`
// lines). Pure and allocation-light; never throws. The kernel hex-encodes any
// untrusted string holding a quote, a space or a control byte (comm=, exe=),
// so a quoted value never contains `"` and the first 0x1d separates the
// enriched part: a field scanner that honours quotes cannot be led astray by a
// process name. Forged lines (e.g. `logger` text in a syslog file) are outside
// what any parser can tell apart and are not attempted.
import type { SeccompRecord } from './seccomp-record.js';
import { decimal, matchAt, parseSeccompFields } from './seccomp-record.js';

export type { SeccompAction, SeccompRecord } from './seccomp-record.js';
export { actionOf, decodeUntrusted } from './seccomp-record.js';

export type KernelLossKind = 'backlog' | 'rate' | 'hold-queue' | 'lost-counter' | 'suppressed';

export type ParsedLine =
  | { kind: 'seccomp'; record: SeccompRecord }
  /** Any other audit record: its serial still matters for gap detection. */
  | { kind: 'audit'; node: string; type: string; serial: number; time: number }
  /** The kernel saying it dropped audit records or suppressed messages. */
  | { kind: 'kernel-loss'; loss: KernelLossKind; count?: number; text: string }
  /** A kernel log line that is not about audit. */
  | { kind: 'kernel-other' }
  | { kind: 'blank' }
  /** Unusable; `serial` when the record's stamp could still be read (it was seen, not lost). */
  | { kind: 'malformed'; reason: string; node?: string; serial?: number; time?: number };

const SECCOMP_TYPES = new Set(['SECCOMP', '1326', 'UNKNOWN[1326]']);

const malformed = (reason: string): ParsedLine => ({ kind: 'malformed', reason });

/** Classifies and parses one line (without its newline). */
export function parseAuditLine(line: string): ParsedLine {
  const c = line.charCodeAt(0);
  // t(ype=) or n(ode=): auditd's own format.
  if (c === 0x74 || c === 0x6e) {
    if (line.startsWith('type=') || line.startsWith('node=')) return parseAuditdRecord(line);
  }
  if (line.length === 0 || line.trim().length === 0) return { kind: 'blank' };
  const at = kernelMessageStart(line);
  if (at < 0) return malformed('not an audit record nor a kernel log line');
  return parseKernelMessage(line, at);
}

/**
 * Where the message starts in a kernel log line, or -1: after `/dev/kmsg`'s
 * `PRI,SEQ,USEC,FLAGS;`, `dmesg`'s `[ 12.345678] ` (also `<5>` and `-T`
 * stamps), or a syslog/journal prefix ending in `kernel: ` (plus an optional stamp).
 */
export function kernelMessageStart(line: string): number {
  const c = line.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) {
    const semi = line.indexOf(';');
    if (semi > 0 && semi < 64 && /^\d+,\d+,\d+,[^;]*$/.test(line.slice(0, semi))) return semi + 1;
  }
  if (c === 0x20 && /^ [A-Z]+=/.test(line)) return line.length; // kmsg dictionary continuation
  let i = 0;
  if (c === 0x3c) {
    const gt = line.indexOf('>');
    if (gt > 0 && gt < 6) i = gt + 1;
  }
  if (line.charCodeAt(i) === 0x5b) return afterStamp(line, i);
  const k = line.indexOf(' kernel: ');
  if (k >= 0 && k < 256) {
    const j = k + 9;
    return line.charCodeAt(j) === 0x5b ? Math.max(afterStamp(line, j), j) : j;
  }
  return -1;
}

function afterStamp(line: string, open: number): number {
  const close = line.indexOf('] ', open);
  return close > open && close - open < 48 ? close + 2 : -1;
}

/** Parses the message part of a kernel log line (from `at`). */
export function parseKernelMessage(line: string, at: number): ParsedLine {
  if (line.startsWith('audit: ', at)) {
    const m = at + 7;
    if (line.startsWith('type=', m)) {
      const sp = line.indexOf(' ', m);
      if (sp < 0) return malformed('audit record without a body');
      const type = line.slice(m + 5, sp);
      if (!line.startsWith('audit(', sp + 1)) return malformed(`type=${type} without audit(time:serial)`);
      return parseStampAndBody(line, sp + 7, '', type);
    }
    return kernelLoss(line, m);
  }
  // `audit_log_start: 20 callbacks suppressed`, `kauditd_printk_skb: 12 callbacks suppressed`
  const colon = line.indexOf(': ', at);
  if (colon > at && colon - at < 40 && line.endsWith(' callbacks suppressed')) {
    const fn = line.slice(at, colon);
    if (/^k?audit/.test(fn)) {
      const count = Number(line.slice(colon + 2, line.length - 21));
      return { kind: 'kernel-loss', loss: 'suppressed', count: Number.isSafeInteger(count) ? count : undefined, text: line.slice(at) };
    }
  }
  return { kind: 'kernel-other' };
}

function kernelLoss(line: string, m: number): ParsedLine {
  const text = line.slice(m - 7);
  if (line.startsWith('audit_lost=', m)) {
    const n = /^audit_lost=(\d+)/.exec(line.slice(m, m + 32));
    return { kind: 'kernel-loss', loss: 'lost-counter', count: n ? Number(n[1]) : undefined, text };
  }
  if (line.startsWith('backlog limit exceeded', m) || line.startsWith('audit_backlog=', m)) return { kind: 'kernel-loss', loss: 'backlog', text };
  if (line.startsWith('rate limit exceeded', m)) return { kind: 'kernel-loss', loss: 'rate', text };
  if (line.startsWith('kauditd hold queue overflow', m)) return { kind: 'kernel-loss', loss: 'hold-queue', text };
  return { kind: 'kernel-other' };
}

function parseAuditdRecord(line: string): ParsedLine {
  // The common case first: no node=, no type name to cut out.
  if (matchAt(line, 'type=SECCOMP msg=audit(', 0)) return parseStampAndBody(line, 23, '', 'SECCOMP');
  let i = 0;
  let node = '';
  if (line.startsWith('node=')) {
    const sp = line.indexOf(' ');
    if (sp < 0) return malformed('node= without a record');
    node = line.slice(5, sp);
    i = sp + 1;
    if (!line.startsWith('type=', i)) return malformed('node= not followed by type=');
  }
  const sp = line.indexOf(' ', i);
  if (sp < 0) return malformed('type= without msg=audit(...)');
  const type = line.slice(i + 5, sp);
  if (!line.startsWith('msg=audit(', sp + 1)) return malformed(`type=${type} without msg=audit(time:serial)`);
  return parseStampAndBody(line, sp + 11, node, type);
}

/** `1795734018.290:256): body` from `p` on. */
function parseStampAndBody(line: string, p: number, node: string, type: string): ParsedLine {
  const close = line.indexOf(')', p);
  if (close < 0 || close - p > 40) return malformed('audit( without a closing )');
  const dot = line.indexOf('.', p);
  const colon = line.indexOf(':', p);
  const seconds = dot > 0 && dot < close ? decimal(line, p, dot, 12) : -1;
  const millis = seconds >= 0 && colon === dot + 4 ? decimal(line, dot + 1, colon, 3) : -1;
  const serial = millis >= 0 && colon < close ? decimal(line, colon + 1, close, 10) : -1;
  if (serial < 0 || line.charCodeAt(close + 1) !== 0x3a) {
    const stamp = line.slice(p, close);
    if (stamp.includes('/')) return malformed('interpreted format (ausearch -i): give ausearch --raw output instead');
    return malformed(`bad audit(${stamp.slice(0, 40)})`);
  }
  const time = seconds * 1000 + millis;
  if (!SECCOMP_TYPES.has(type)) {
    if (type.length === 0 || type.length > 32) return malformed('bad type=');
    return { kind: 'audit', node, type, serial, time };
  }
  const parsed = parseSeccompFields(line, close + 2, node, time, serial);
  if (typeof parsed === 'string') return { kind: 'malformed', reason: parsed, node, serial, time };
  return { kind: 'seccomp', record: parsed };
}

