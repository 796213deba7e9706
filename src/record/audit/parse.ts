// Parses one line of an audit trail: auditd's log (RAW and ENRICHED formats),
// or the kernel log (`/dev/kmsg` records, `dmesg`, syslog/journal `kernel:`
// lines). Pure and allocation-light; never throws. The kernel hex-encodes any
// untrusted string holding a quote, a space or a control byte (comm=, exe=),
// so a quoted value never contains `"` and the first 0x1d separates the
// enriched part: a field scanner that honours quotes cannot be led astray by a
// process name. Forged lines (e.g. `logger` text in a syslog file) are outside
// what any parser can tell apart and are not attempted.

/** The syscall record one SCMP_ACT_LOG (or logged denial) produced. */
export interface SeccompRecord {
  /** `node=` of remote auditd logs; '' when absent. */
  node: string;
  /** Milliseconds since the epoch, from `audit(SECONDS.MILLIS:SERIAL)`. */
  time: number;
  serial: number;
  pid: number;
  uid?: number;
  comm?: string;
  exe?: string;
  /** AUDIT_ARCH_* number. */
  auditArch: number;
  nr: number;
  /** Full `code=` value: the seccomp action with its data (errno, ...). */
  code: number;
  action: SeccompAction;
  sig?: number;
}

export type SeccompAction = 'log' | 'kill_process' | 'kill_thread' | 'trap' | 'errno' | 'user_notif' | 'trace' | 'allow' | 'unknown';

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

/** SECCOMP_RET_ACTION_FULL values (include/uapi/linux/seccomp.h). */
const ACTIONS = new Map<number, SeccompAction>([
  [0x80000000, 'kill_process'],
  [0x00000000, 'kill_thread'],
  [0x00030000, 'trap'],
  [0x00050000, 'errno'],
  [0x7fc00000, 'user_notif'],
  [0x7ff00000, 'trace'],
  [0x7ffc0000, 'log'],
  [0x7fff0000, 'allow'],
]);

export function actionOf(code: number): SeccompAction {
  return ACTIONS.get((code & 0xffff0000) >>> 0) ?? 'unknown';
}

/** PID_MAX_LIMIT on 64-bit kernels. */
const PID_MAX = 4 * 1024 * 1024;
const ENRICHED_SEPARATOR = '\x1d';
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
  if (line.startsWith('type=SECCOMP msg=audit(')) return parseStampAndBody(line, 23, '', 'SECCOMP');
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

/** Digits from s to e as a number, or -1 (empty, a non-digit, or more than maxDigits). */
function decimal(line: string, s: number, e: number, maxDigits: number): number {
  if (e <= s || e - s > maxDigits) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Hex digits from s to e (either case) as an unsigned 32-bit number, or -1. */
function hex32(line: string, s: number, e: number): number {
  if (e <= s || e - s > 8) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
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
  const parsed = parseSeccompBody(line, close + 2, node, time, serial);
  if (parsed.kind === 'malformed') {
    parsed.node = node;
    parsed.serial = serial;
    parsed.time = time;
  }
  return parsed;
}

// The fields read from a SECCOMP record, as indexes into the value bounds below.
const F_PID = 0;
const F_UID = 1;
const F_COMM = 2;
const F_EXE = 3;
const F_ARCH = 4;
const F_SYSCALL = 5;
const F_CODE = 6;
const F_SIG = 7;
const FIELD_NAMES = ['pid', 'uid', 'comm', 'exe', 'arch', 'syscall', 'code', 'sig'];
/** [start, end) of each field's value in the line; -1 when absent. Reused: parsing is synchronous. */
const bounds = new Int32Array(16);

/** Which wanted field the key at [i, eq) is, or -1; compares char codes in place, no substring made. */
function fieldOf(line: string, i: number, eq: number): number {
  const c0 = line.charCodeAt(i);
  switch (eq - i) {
    case 3: {
      const c1 = line.charCodeAt(i + 1);
      const c2 = line.charCodeAt(i + 2);
      if (c0 === 0x70 && c1 === 0x69 && c2 === 0x64) return F_PID; // pid
      if (c0 === 0x75 && c1 === 0x69 && c2 === 0x64) return F_UID; // uid
      if (c0 === 0x65 && c1 === 0x78 && c2 === 0x65) return F_EXE; // exe
      if (c0 === 0x73 && c1 === 0x69 && c2 === 0x67) return F_SIG; // sig
      return -1;
    }
    case 4:
      if (c0 === 0x63) return line.startsWith('comm', i) ? F_COMM : line.startsWith('code', i) ? F_CODE : -1;
      if (c0 === 0x61) return line.startsWith('arch', i) ? F_ARCH : -1;
      return -1;
    case 7:
      return c0 === 0x73 && line.startsWith('syscall', i) ? F_SYSCALL : -1;
    default:
      return -1;
  }
}

function valueOf(line: string, f: number): string {
  return line.slice(bounds[2 * f], bounds[2 * f + 1]);
}

/**
 * The kernel's own layout, field by field (kernel/auditsc.c audit_seccomp):
 * `auid= uid= gid= ses= [subj=] pid= comm= exe= sig= arch= syscall= compat= ip= code=`.
 * Checked strictly in that order, to the end of the record; fills `bounds`
 * and returns true, or false for anything else (the general scanner then
 * decides). It accepts only what the general scanner would read the same way.
 */
function kernelLayout(line: string, start: number, end: number): boolean {
  let i = start;
  /** After `key=` at i: the end of a number (decimal, or hex after 0x), or -1. */
  const num = (key: string, hexAfter0x: boolean, f: number): boolean => {
    if (!line.startsWith(key, i)) return false;
    let j = i + key.length;
    const vs = j;
    if (hexAfter0x) {
      if (!line.startsWith('0x', j)) return false;
      j += 2;
    } else if (line.charCodeAt(j) === 0x2d) j++;
    const ds = j;
    for (let c = line.charCodeAt(j); j < end && c !== 0x20; c = line.charCodeAt(++j)) {
      const hex = (c >= 48 && c <= 57) || (hexAfter0x && ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)));
      if (!hex) return false;
    }
    if (j === ds) return false;
    if (f >= 0) {
      bounds[2 * f] = vs;
      bounds[2 * f + 1] = j;
    }
    i = j + 1;
    return true;
  };
  const word = (key: string, f: number): boolean => {
    if (!line.startsWith(key, i)) return false;
    const vs = i + key.length;
    let ve: number;
    if (line.charCodeAt(vs) === 0x22) {
      const q = line.indexOf('"', vs + 1);
      if (q < 0 || q >= end) return false;
      ve = q + 1;
    } else {
      ve = line.indexOf(' ', vs);
      if (ve < 0 || ve > end) ve = end;
      const e = line.indexOf('=', vs);
      if (e >= 0 && e < ve) return false;
    }
    if (ve < end && line.charCodeAt(ve) !== 0x20) return false;
    if (f >= 0) {
      bounds[2 * f] = vs;
      bounds[2 * f + 1] = ve;
    }
    i = ve + 1;
    return true;
  };
  if (!(num('auid=', false, -1) && num('uid=', false, F_UID) && num('gid=', false, -1) && num('ses=', false, -1))) return false;
  if (line.startsWith('subj=', i) && !word('subj=', -1)) return false;
  if (!(num('pid=', false, F_PID) && word('comm=', F_COMM) && word('exe=', F_EXE) && num('sig=', false, F_SIG))) return false;
  // arch= is hex without 0x: read as a word, checked by hex32 later.
  if (!(word('arch=', F_ARCH) && num('syscall=', false, F_SYSCALL) && num('compat=', false, -1) && num('ip=', true, -1) && num('code=', true, F_CODE))) return false;
  return i >= end;
}

function parseSeccompBody(line: string, start: number, node: string, time: number, serial: number): ParsedLine {
  const sep = line.indexOf(ENRICHED_SEPARATOR, start);
  const end = sep < 0 ? line.length : sep;
  bounds.fill(-1);
  if (kernelLayout(line, start, end)) return seccompRecord(line, node, time, serial);
  bounds.fill(-1);
  let i = start;
  while (i < end) {
    while (i < end && line.charCodeAt(i) === 0x20) i++;
    if (i >= end) break;
    const eq = line.indexOf('=', i);
    let sp = line.indexOf(' ', i);
    if (sp < 0 || sp > end) sp = end;
    if (eq < 0 || eq > sp) {
      i = sp; // a bare word: not a field of ours
      continue;
    }
    const vs = eq + 1;
    let ve: number;
    if (line.charCodeAt(vs) === 0x22) {
      const q = line.indexOf('"', vs + 1);
      if (q < 0 || q >= end) return malformed(`unterminated quote in ${line.slice(i, eq)}=`);
      ve = q + 1;
      if (ve < end && line.charCodeAt(ve) !== 0x20) return malformed(`text after the closing quote of ${line.slice(i, eq)}=`);
    } else {
      ve = sp;
    }
    const f = fieldOf(line, i, eq);
    if (f >= 0) {
      // Two pid= (or arch=, ...) in one record cannot come from the kernel: refuse to guess.
      if (bounds[2 * f] >= 0) return malformed(`duplicate ${FIELD_NAMES[f]}=`);
      bounds[2 * f] = vs;
      bounds[2 * f + 1] = ve;
    }
    i = ve;
  }
  if (bounds[2 * F_PID] < 0 || bounds[2 * F_ARCH] < 0 || bounds[2 * F_SYSCALL] < 0 || bounds[2 * F_CODE] < 0) {
    const missing = [F_PID, F_ARCH, F_SYSCALL, F_CODE].filter((f) => bounds[2 * f] < 0);
    return malformed(`SECCOMP record without ${missing.map((f) => FIELD_NAMES[f]).join(', ')}`);
  }
  return seccompRecord(line, node, time, serial);
}

/** The record from the value bounds found (by either scanner); checks every value. */
function seccompRecord(line: string, node: string, time: number, serial: number): ParsedLine {
  const pid = decimal(line, bounds[2 * F_PID], bounds[2 * F_PID + 1], 7);
  if (pid <= 0 || pid > PID_MAX) return malformed(`bad pid=${valueOf(line, F_PID).slice(0, 20)}`);
  const auditArch = hex32(line, bounds[2 * F_ARCH], bounds[2 * F_ARCH + 1]);
  if (auditArch < 0) return malformed(`bad arch=${valueOf(line, F_ARCH).slice(0, 20)}`);
  const ns = bounds[2 * F_SYSCALL];
  const negative = line.charCodeAt(ns) === 0x2d;
  const absNr = decimal(line, negative ? ns + 1 : ns, bounds[2 * F_SYSCALL + 1], 10);
  if (absNr < 0 || absNr > (negative ? 0x80000000 : 0xffffffff)) return malformed(`bad syscall=${valueOf(line, F_SYSCALL).slice(0, 20)}`);
  const cs = bounds[2 * F_CODE];
  const code = line.startsWith('0x', cs) ? hex32(line, cs + 2, bounds[2 * F_CODE + 1]) : -1;
  if (code < 0) return malformed(`bad code=${valueOf(line, F_CODE).slice(0, 20)}`);
  const record: SeccompRecord = {
    node,
    time,
    serial,
    pid,
    auditArch,
    nr: negative ? -absNr : absNr,
    code,
    action: actionOf(code),
  };
  const uid = bounds[2 * F_UID] < 0 ? -1 : decimal(line, bounds[2 * F_UID], bounds[2 * F_UID + 1], 10);
  if (uid >= 0) record.uid = uid;
  const sig = bounds[2 * F_SIG] < 0 ? -1 : decimal(line, bounds[2 * F_SIG], bounds[2 * F_SIG + 1], 3);
  if (sig >= 0) record.sig = sig;
  const comm = bounds[2 * F_COMM] < 0 ? undefined : decodeUntrusted(valueOf(line, F_COMM));
  const exe = bounds[2 * F_EXE] < 0 ? undefined : decodeUntrusted(valueOf(line, F_EXE));
  if (comm !== undefined) record.comm = comm;
  if (exe !== undefined) record.exe = exe;
  return { kind: 'seccomp', record };
}

/**
 * An audit "untrusted string": `"text"`, upper-case hex of the raw bytes, or
 * `(null)`. Undecodable values come back as they were written.
 */
export function decodeUntrusted(v: string | undefined): string | undefined {
  if (v === undefined || v === '(null)' || v === '?') return undefined;
  if (v.length >= 2 && v.charCodeAt(0) === 0x22) return v.slice(1, -1);
  if (v.length % 2 === 0 && /^[0-9A-F]+$/.test(v)) return Buffer.from(v, 'hex').toString('utf8');
  return v;
}
