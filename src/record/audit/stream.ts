// One place where parsed lines become counts: SECCOMP records go to the
// caller, every record's serial and every kernel loss line go to the loss
// tracker, and what does not parse is counted by reason (with a few samples
// naming file:line) and skipped. Shared by the offline import and the live source.
import type { LossTracker } from './loss.js';
import type { ParsedLine, SeccompRecord } from './parse.js';
import { parseAuditLine, parseKernelMessage } from './parse.js';

export const MAX_SAMPLES = 5;

export interface StreamStats {
  lines: number;
  seccomp: number;
  otherAudit: number;
  kernelOther: number;
  blank: number;
  malformed: number;
  /** How many lines each reason rejected. */
  malformedReasons: Record<string, number>;
  /** The first few rejected lines, as `where: reason`. */
  malformedSamples: string[];
}

export class AuditLineHandler {
  readonly stats: StreamStats = { lines: 0, seccomp: 0, otherAudit: 0, kernelOther: 0, blank: 0, malformed: 0, malformedReasons: {}, malformedSamples: [] };
  /** Where the current line comes from, for samples (e.g. a file name); lineNo counts within it. */
  source = '';
  lineNo = 0;

  constructor(
    private readonly loss: LossTracker,
    private readonly onRecord: (r: SeccompRecord) => void,
  ) {}

  /** A line of any format (auditd log, dmesg, kmsg text, syslog). */
  line(line: string): void {
    this.lineNo++;
    this.handle(parseAuditLine(line));
  }

  /** A line some other reader has parsed already (the native scanner, see scan.ts). */
  parsed(p: ParsedLine): void {
    this.lineNo++;
    this.handle(p);
  }

  /** parsed() of a SECCOMP record, without its wrapper object. */
  parsedSeccomp(record: SeccompRecord): void {
    this.lineNo++;
    this.stats.lines++;
    this.seccomp(record);
  }

  /** parsed() of another auditd record, without its wrapper object. */
  parsedAudit(node: string, type: string, serial: number, time: number): void {
    this.lineNo++;
    this.stats.lines++;
    this.audit(node, type, serial, time);
  }

  /** Records a scanner counted in bulk (scan.ts): their counts only; the caller keeps lineNo and the loss tracker. */
  countedInBulk(seccomp: number, other: number): void {
    this.stats.lines += seccomp + other;
    this.stats.seccomp += seccomp;
    this.stats.otherAudit += other;
  }

  private seccomp(r: SeccompRecord): void {
    this.stats.seccomp++;
    this.loss.noteSerial(r.node, 'SECCOMP', r.serial, r.time);
    this.onRecord(r);
  }

  private audit(node: string, type: string, serial: number, time: number): void {
    this.stats.otherAudit++;
    this.loss.noteSerial(node, type, serial, time);
  }

  /** A kernel log record whose message starts at `at` (the kmsg reader knows where). */
  kernelLine(line: string, at: number): void {
    this.lineNo++;
    this.handle(parseKernelMessage(line, at));
  }

  private handle(p: ParsedLine): void {
    const s = this.stats;
    s.lines++;
    switch (p.kind) {
      case 'seccomp':
        this.seccomp(p.record);
        return;
      case 'audit':
        this.audit(p.node, p.type, p.serial, p.time);
        return;
      case 'kernel-loss':
        this.loss.noteKernelLoss(p.loss, p.count, p.text);
        return;
      case 'kernel-other':
        s.kernelOther++;
        return;
      case 'blank':
        s.blank++;
        return;
      case 'malformed':
        s.malformed++;
        if (p.serial !== undefined) this.loss.noteSerial(p.node ?? '', 'SECCOMP', p.serial, p.time);
        s.malformedReasons[p.reason] = (s.malformedReasons[p.reason] ?? 0) + 1;
        if (s.malformedSamples.length < MAX_SAMPLES) s.malformedSamples.push(`${this.source ? `${this.source}:` : ''}${this.lineNo}: ${p.reason}`);
        return;
    }
  }
}
