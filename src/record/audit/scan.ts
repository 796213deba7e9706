// The fast path of `import-audit`: whole blocks of lines handed to the native
// scanner (native/audit_scan.c), which reads auditd's common layouts straight
// from the bytes; what it does not know comes back marked, and is decoded and
// parsed by parse.ts as before. Without the native build, every line takes
// the string parser (slower, same results).
//
// With a ScanTally (an import without --pid/--comm/--exe), the scanner counts
// in C the lines whose whole effect is known without JS (log-action SECCOMP
// records and other record types that continue the loss tracker's serials),
// and hands back only the rest, in order: the per-record JS work (an object
// and two handler calls per record) was, once profiled, the larger half of
// an import.
import type { SeccompRecord } from './seccomp-record.js';
import { actionOf, decodeUntrusted } from './seccomp-record.js';
import { parseAuditLine } from './parse.js';
import { ByteLineSplitter } from './lines.js';
import { nativeAddon } from '../native.js';
import type { AuditLineHandler } from './stream.js';
import type { LossTracker } from './loss.js';

// One line's slot in the scanner's output (native/audit_scan.c, enum S_*).
const S_KIND = 0;
const S_START = 1;
const S_END = 2;
const S_RAW_END = 3;
const S_TIME = 4;
const S_SERIAL = 5;
const S_PID = 6;
const S_ARCH = 7;
const S_NR = 8;
const S_CODE = 9;
const S_UID = 10;
const S_SIG = 11;
const S_COMM_START = 12;
const S_COMM_END = 13;
const S_EXE_START = 14;
const S_EXE_END = 15;
const S_SAME = 16;
const S_SKIPPED = 17;
const S_HIGH = 18;
const SLOT = 19;
// native/audit_scan.c B_*: the bulk counts.
const B_HIGH = 0;
const B_MAX_LINE = 1;
const B_NEXT = 2;
const B_TAIL = 3;
const B_SECCOMP = 4;
const B_OTHER = 5;
const B_FIRST = 6;
const B_LAST = 7;
const B_ARCH = 8;
const BULK_ARCHES = 4;
const B_COUNTS = B_ARCH + BULK_ARCHES;
const BULK_NRS = 1024;
const BULK_SIZE = B_COUNTS + BULK_ARCHES * BULK_NRS;
/** native/audit_scan.c STATE_SIZE. */
const STATE_SIZE = 2 * (4 + 512);
const S_TYPE_START = S_PID;
const S_TYPE_END = S_ARCH;
const K_SECCOMP = 1;
const K_OTHER = 2;

/** Lines described per native call. */
const BATCH_LINES = 4096;

export type AuditScan = (bytes: Buffer, start: number, end: number, out: Float64Array, state: Uint8Array, bulk?: Float64Array) => number;

/** Where records the scanner counted in bulk go: what the per-record path would have done for each. */
export interface ScanTally {
  /** The handler's loss tracker: told of the serials counted in bulk. */
  loss: LossTracker;
  /** count log-action SECCOMP records of (arch, nr). */
  add(auditArch: number, nr: number, count: number): void;
  /** The earliest and latest stamps (ms) among them. */
  span(first: number, last: number): void;
}

/** The native scanner, or undefined when the native part is not built. */
export function nativeAuditScan(): AuditScan | undefined {
  try {
    return nativeAddon().auditScan;
  } catch {
    return undefined;
  }
}

/**
 * A line splitter that hands the lines wholly inside a chunk to the native
 * scanner in one call, and the few that straddle chunks one by one.
 */
export class ScanningSplitter extends ByteLineSplitter {
  private readonly out = new Float64Array(BATCH_LINES * SLOT);
  private readonly typeNames = new Map<number, string[]>();
  /** The scanner's memory of the last comm= and exe= bytes, and their strings here: records come in runs from one process. */
  private readonly state = new Uint8Array(STATE_SIZE).fill(0xff); // no value remembered yet
  private lastComm: string | undefined;
  private lastExe: string | undefined;

  constructor(
    private readonly scan: AuditScan,
    private readonly handler: AuditLineHandler,
    maxLineBytes?: number,
    onOversized?: () => void,
    /** When given, lines whose effect is known in C are counted there (see the header). */
    private readonly tally?: ScanTally,
  ) {
    // A line the splitter hands over has lost one trailing CR, which the scanner drops itself: give it back (it is at `end`).
    super((bytes, start, end) => this.block(bytes, start, bytes[end] === 0x0d ? end + 1 : end, false), maxLineBytes, onOversized);
    if (tally) {
      this.bulk = new Float64Array(BULK_SIZE);
      this.clearBulk();
    }
  }

  private readonly bulk?: Float64Array;

  private clearBulk(): void {
    const b = this.bulk!;
    b.fill(0);
    b.fill(-1, B_ARCH, B_ARCH + BULK_ARCHES);
    b[B_FIRST] = Infinity;
    b[B_LAST] = -Infinity;
    b[B_MAX_LINE] = this.maxLineBytes;
  }

  /** Hands the bulk counts to the tally (they are kept in C's table until the end of the input). */
  override end(): void {
    super.end();
    const b = this.bulk;
    if (!b) return;
    for (let a = 0; a < BULK_ARCHES && b[B_ARCH + a] !== -1; a++)
      for (let nr = 0, at = B_COUNTS + a * BULK_NRS; nr < BULK_NRS; nr++) if (b[at + nr]) this.tally!.add(b[B_ARCH + a], nr, b[at + nr]);
    if (b[B_FIRST] <= b[B_LAST]) this.tally!.span(b[B_FIRST], b[B_LAST]);
    this.clearBulk();
  }

  override push(chunk: Buffer): void {
    const first = chunk.indexOf(0x0a);
    if (first < 0) return super.push(chunk);
    const last = chunk.lastIndexOf(0x0a);
    super.push(chunk.subarray(0, first + 1));
    if (last > first) {
      this.stats.bytes += last - first;
      this.block(chunk, first + 1, last + 1, true);
    }
    if (last + 1 < chunk.length) super.push(chunk.subarray(last + 1));
  }

  /** Lines in bytes[start, end); `counted` false for one line the splitter has counted already. */
  private block(bytes: Buffer, start: number, end: number, counted: boolean): void {
    if (start === end) {
      // An empty line (the scanner describes none in an empty range).
      if (!counted) this.handler.parsed(parseAuditLine(''));
      return;
    }
    if (counted && this.bulk) return this.bulkBlock(bytes, start, end);
    const out = this.out;
    while (start < end) {
      const n = this.scan(bytes, start, end, out, this.state);
      for (let i = 0, o = 0; i < n; i++, o += SLOT) {
        if (counted && !this.countLine(o)) continue;
        this.line(bytes, o);
      }
      start = out[(n - 1) * SLOT + S_RAW_END] + 1;
    }
  }

  /** Counts the line in slot `o`: false (counted as oversized, and to be skipped) past maxLineBytes. */
  private countLine(o: number): boolean {
    const out = this.out;
    if (out[o + S_RAW_END] - out[o + S_START] > this.maxLineBytes) {
      this.stats.oversized++;
      this.onOversized?.();
      return false;
    }
    this.stats.lines++;
    return true;
  }

  /** block() with lines counted in C; the slots that come back are read in order, after the lines counted before each. */
  private bulkBlock(bytes: Buffer, start: number, end: number): void {
    const out = this.out;
    const b = this.bulk!;
    const { loss } = this.tally!;
    const handler = this.handler;
    while (start < end) {
      b[B_HIGH] = loss.continuity('');
      const n = this.scan(bytes, start, end, out, this.state, b);
      const inBulk = b[B_SECCOMP] + b[B_OTHER];
      this.stats.lines += inBulk;
      handler.countedInBulk(b[B_SECCOMP], b[B_OTHER]);
      for (let i = 0, o = 0; i < n; i++, o += SLOT) {
        const skipped = out[o + S_SKIPPED];
        if (skipped) {
          handler.lineNo += skipped;
          loss.continueTo('', out[o + S_HIGH]);
        }
        if (!this.countLine(o)) continue;
        this.line(bytes, o);
      }
      if (b[B_TAIL]) {
        handler.lineNo += b[B_TAIL];
        loss.continueTo('', b[B_HIGH]);
      }
      start = b[B_NEXT];
    }
  }

  private line(bytes: Buffer, o: number): void {
    const out = this.out;
    const kind = out[o + S_KIND];
    if (kind === K_SECCOMP) {
      const code = out[o + S_CODE];
      const record: SeccompRecord = {
        node: '',
        time: out[o + S_TIME],
        serial: out[o + S_SERIAL],
        pid: out[o + S_PID],
        auditArch: out[o + S_ARCH],
        nr: out[o + S_NR],
        code,
        action: actionOf(code),
      };
      const uid = out[o + S_UID];
      if (uid >= 0) record.uid = uid;
      const sig = out[o + S_SIG];
      if (sig >= 0) record.sig = sig;
      const same = out[o + S_SAME];
      const comm = same & 1 ? this.lastComm : (this.lastComm = untrusted(bytes, out[o + S_COMM_START], out[o + S_COMM_END]));
      const exe = same & 2 ? this.lastExe : (this.lastExe = untrusted(bytes, out[o + S_EXE_START], out[o + S_EXE_END]));
      if (comm !== undefined) record.comm = comm;
      if (exe !== undefined) record.exe = exe;
      this.handler.parsedSeccomp(record);
    } else if (kind === K_OTHER) {
      this.handler.parsedAudit('', this.typeName(bytes, out[o + S_TYPE_START], out[o + S_TYPE_END]), out[o + S_SERIAL], out[o + S_TIME]);
    } else {
      this.handler.parsed(parseAuditLine(bytes.toString('latin1', out[o + S_START], out[o + S_END])));
    }
  }

  /** Record type names by their bytes, so a line of a known type costs no string. */
  private typeName(bytes: Buffer, s: number, e: number): string {
    let h = e - s;
    for (let i = s; i < e; i++) h = (h * 31 + bytes[i]) | 0;
    let list = this.typeNames.get(h);
    if (!list) this.typeNames.set(h, (list = []));
    for (const name of list) if (sameText(name, bytes, s, e)) return name;
    const name = bytes.toString('latin1', s, e);
    if (list.length < 4) list.push(name);
    return name;
  }
}

function sameText(name: string, bytes: Buffer, s: number, e: number): boolean {
  if (name.length !== e - s) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) !== bytes[s + i]) return false;
  return true;
}

/** An untrusted string's text, as decodeUntrusted gives it (a quoted one sliced without its quotes). */
function untrusted(bytes: Buffer, s: number, e: number): string | undefined {
  return e - s >= 2 && bytes[s] === 0x22 ? bytes.toString('latin1', s + 1, e - 1) : decodeUntrusted(bytes.toString('latin1', s, e));
}
