// The fields of one SECCOMP record body, read into a SeccompRecord. Two
// scanners: a strict one for the kernel's own layout (the common case, fast),
// and a general key=value scanner for anything else (older kernels, other
// orders), which honours quotes and refuses a record naming a field twice.
// Every value is checked (digits, ranges) before it is used.

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

/** Digits from s to e as a number, or -1 (empty, a non-digit, or more than maxDigits). */
export function decimal(line: string, s: number, e: number, maxDigits: number): number {
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

/** `line.startsWith(key, pos)`, by char codes: V8's startsWith with a position is the slower path. */
export function matchAt(line: string, key: string, pos: number): boolean {
  if (pos + key.length > line.length) return false;
  for (let k = 0; k < key.length; k++) if (line.charCodeAt(pos + k) !== key.charCodeAt(k)) return false;
  return true;
}

// The strict scanner's cursor: module state, so no closure is made per record
// (parsing is synchronous and never re-entered).
let at = 0;
let cur = '';
let stop = 0;

/** `key=` then a decimal (optionally negative) or `0x` hex number, then a space or the end. */
function numField(key: string, hexAfter0x: boolean, f: number): boolean {
  const line = cur;
  if (!matchAt(line, key, at)) return false;
  let j = at + key.length;
  const vs = j;
  if (hexAfter0x) {
    if (!matchAt(line, '0x', j)) return false;
    j += 2;
  } else if (line.charCodeAt(j) === 0x2d) j++;
  const ds = j;
  for (; j < stop; j++) {
    const c = line.charCodeAt(j);
    if (c === 0x20) break;
    if (!((c >= 48 && c <= 57) || (hexAfter0x && ((c >= 97 && c <= 102) || (c >= 65 && c <= 70))))) return false;
  }
  if (j === ds) return false;
  if (f >= 0) {
    bounds[2 * f] = vs;
    bounds[2 * f + 1] = j;
  }
  at = j + 1;
  return true;
}

/** `key=` then a quoted string or a bare word (no `=` in it), then a space or the end. */
function wordField(key: string, f: number): boolean {
  const line = cur;
  if (!matchAt(line, key, at)) return false;
  const vs = at + key.length;
  let ve: number;
  if (line.charCodeAt(vs) === 0x22) {
    const q = line.indexOf('"', vs + 1);
    if (q < 0 || q >= stop) return false;
    ve = q + 1;
  } else {
    ve = line.indexOf(' ', vs);
    if (ve < 0 || ve > stop) ve = stop;
    const e = line.indexOf('=', vs);
    if (e >= 0 && e < ve) return false;
  }
  if (ve < stop && line.charCodeAt(ve) !== 0x20) return false;
  if (f >= 0) {
    bounds[2 * f] = vs;
    bounds[2 * f + 1] = ve;
  }
  at = ve + 1;
  return true;
}

/**
 * The kernel's own layout, field by field (kernel/auditsc.c audit_seccomp):
 * `auid= uid= gid= ses= [subj=] pid= comm= exe= sig= arch= syscall= compat= ip= code=`.
 * Checked strictly in that order, to the end of the record; fills `bounds`
 * and returns true, or false for anything else (the general scanner then
 * decides). It accepts only what the general scanner would read the same way.
 */
function kernelLayout(line: string, start: number, end: number): boolean {
  cur = line;
  at = start;
  stop = end;
  if (!(numField('auid=', false, -1) && numField('uid=', false, F_UID) && numField('gid=', false, -1) && numField('ses=', false, -1))) return false;
  if (matchAt(line, 'subj=', at) && !wordField('subj=', -1)) return false;
  if (!(numField('pid=', false, F_PID) && wordField('comm=', F_COMM) && wordField('exe=', F_EXE) && numField('sig=', false, F_SIG))) return false;
  // arch= is hex without 0x: read as a word, checked by hex32 afterwards.
  if (!(wordField('arch=', F_ARCH) && numField('syscall=', false, F_SYSCALL) && numField('compat=', false, -1))) return false;
  if (!(numField('ip=', true, -1) && numField('code=', true, F_CODE))) return false;
  return at >= end;
}

/** The record in line[start..] (up to an enriched part), or why it cannot be read. */
export function parseSeccompFields(line: string, start: number, node: string, time: number, serial: number): SeccompRecord | string {
  const sep = line.indexOf(ENRICHED_SEPARATOR, start);
  const end = sep < 0 ? line.length : sep;
  bounds.fill(-1);
  if (kernelLayout(line, line.charCodeAt(start) === 0x20 ? start + 1 : start, end)) return seccompRecord(line, node, time, serial);
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
      if (q < 0 || q >= end) return (`unterminated quote in ${line.slice(i, eq)}=`);
      ve = q + 1;
      if (ve < end && line.charCodeAt(ve) !== 0x20) return (`text after the closing quote of ${line.slice(i, eq)}=`);
    } else {
      ve = sp;
    }
    const f = fieldOf(line, i, eq);
    if (f >= 0) {
      // Two pid= (or arch=, ...) in one record cannot come from the kernel: refuse to guess.
      if (bounds[2 * f] >= 0) return (`duplicate ${FIELD_NAMES[f]}=`);
      bounds[2 * f] = vs;
      bounds[2 * f + 1] = ve;
    }
    i = ve;
  }
  if (bounds[2 * F_PID] < 0 || bounds[2 * F_ARCH] < 0 || bounds[2 * F_SYSCALL] < 0 || bounds[2 * F_CODE] < 0) {
    const missing = [F_PID, F_ARCH, F_SYSCALL, F_CODE].filter((f) => bounds[2 * f] < 0);
    return (`SECCOMP record without ${missing.map((f) => FIELD_NAMES[f]).join(', ')}`);
  }
  return seccompRecord(line, node, time, serial);
}

/** The record from the value bounds found (by either scanner); checks every value. */
function seccompRecord(line: string, node: string, time: number, serial: number): SeccompRecord | string {
  const pid = decimal(line, bounds[2 * F_PID], bounds[2 * F_PID + 1], 7);
  if (pid <= 0 || pid > PID_MAX) return (`bad pid=${valueOf(line, F_PID).slice(0, 20)}`);
  const auditArch = hex32(line, bounds[2 * F_ARCH], bounds[2 * F_ARCH + 1]);
  if (auditArch < 0) return (`bad arch=${valueOf(line, F_ARCH).slice(0, 20)}`);
  const ns = bounds[2 * F_SYSCALL];
  const negative = line.charCodeAt(ns) === 0x2d;
  const absNr = decimal(line, negative ? ns + 1 : ns, bounds[2 * F_SYSCALL + 1], 10);
  if (absNr < 0 || absNr > (negative ? 0x80000000 : 0xffffffff)) return (`bad syscall=${valueOf(line, F_SYSCALL).slice(0, 20)}`);
  const cs = bounds[2 * F_CODE];
  const code = line.startsWith('0x', cs) ? hex32(line, cs + 2, bounds[2 * F_CODE + 1]) : -1;
  if (code < 0) return (`bad code=${valueOf(line, F_CODE).slice(0, 20)}`);
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
  return record;
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
