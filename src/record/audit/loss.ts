// Evidence that audit records were lost, gathered from every signal there is,
// and summarised as a lower bound plus the list of reasons. Signals:
// - gaps in the kernel's record serial numbers (printk rate limiting, the
//   audit rate limit and kauditd drops consume a serial and emit nothing);
// - the kernel's `lost` counter (`auditctl -s`, or `audit_lost=N` in the
//   kernel log): backlog overflow drops records *before* a serial is taken,
//   so only this counter sees it;
// - kernel lines: "backlog limit exceeded", "rate limit exceeded",
//   "kauditd hold queue overflow", "<audit fn>: N callbacks suppressed";
// - the reader's own gaps: /dev/kmsg overwritten before it was read, a
//   followed log truncated under it.
// Serials are per node and restart at boot; auditd's DAEMON_* records carry
// auditd's own counter and are left out.
import type { KernelLossKind } from './parse.js';

/** How far (in serials) a record may arrive out of order before its absence counts. */
export const REORDER_WINDOW = 1024;
/** ...or how long (by the records' own stamps, or the clock when live). */
export const REORDER_MS = 2000;
/** A serial this far below the highest seen is a new boot (or a new log), not a late record. */
export const RESET_DISTANCE = 100_000;

export interface LossSummary {
  /** True when any signal says records are missing. */
  incomplete: boolean;
  /** Records known lost, a lower bound (0 with incomplete=true: lost, count unknown). */
  lostAtLeast: number;
  serialGaps: number;
  /** Increase of the kernel's lost counter while we watched. */
  kernelLost: number;
  backlogExceeded: number;
  rateLimitExceeded: number;
  holdQueueOverflow: number;
  /** Sum of "N callbacks suppressed" for audit functions (printk rate limit). */
  suppressed: number;
  /** /dev/kmsg records overwritten before they were read. */
  kmsgOverwritten: number;
  /** The followed log shrank under us (records written meanwhile may be missed). */
  truncations: number;
  /** Damaged inputs (a cut gzip stream, ...). */
  damaged: number;
  reasons: string[];
}

interface SerialTrack {
  high: number;
  /** Missing serials below `high`, as inclusive [lo, hi, time the gap was seen] ranges, oldest first. */
  missing: [number, number, number][];
}

export class LossTracker {
  private readonly serials = new Map<string, SerialTrack>();
  private serialGaps = 0;
  private counterFirst: number | undefined;
  private counterLast: number | undefined;
  private statusFirst: number | undefined;
  private statusLast: number | undefined;
  private readonly counts = { backlog: 0, rate: 0, 'hold-queue': 0, suppressed: 0, kmsgOverwritten: 0, truncations: 0, damaged: 0 };
  private readonly notes: string[] = [];

  /** Called with every new evidence of loss (for live sources' 'loss' events). */
  onLoss?: (what: string, count: number | undefined) => void;

  /** Every kernel audit record's serial (SECCOMP and others alike), with its stamp (ms). */
  noteSerial(node: string, type: string, serial: number, time = 0): void {
    if (type.startsWith('DAEMON_')) {
      // While auditd is down the kernel writes to its own log instead: serials
      // missing across an auditd start or stop are elsewhere, not lost.
      if (type === 'DAEMON_START' || type === 'DAEMON_END' || type === 'DAEMON_ABORT') this.endSegment(node);
      return;
    }
    if (serial === 0) return;
    let t = this.serials.get(node);
    if (!t) {
      this.serials.set(node, { high: serial, missing: [] });
      return;
    }
    if (serial > t.high) {
      if (serial > t.high + 1) t.missing.push([t.high + 1, serial - 1, time]);
      t.high = serial;
      this.settle(t, time - REORDER_MS);
      return;
    }
    if (serial === t.high) return;
    if (t.high - serial > RESET_DISTANCE) {
      this.settle(t, Infinity);
      this.serials.set(node, { high: serial, missing: [] });
      return;
    }
    this.fill(t, serial);
  }

  /**
   * For readers that count records in bulk (native/audit_scan.c): the serial
   * node's stretch holds when none is missing below it, -1 without a stretch,
   * -2 when serials are missing (then each record must come through noteSerial).
   */
  continuity(node: string): number {
    const t = this.serials.get(node);
    return !t ? -1 : t.missing.length ? -2 : t.high;
  }

  /** What noteSerial does for records that each carry the serial held or the next one, up to `high`, after continuity() gave -1 or a serial. */
  continueTo(node: string, high: number): void {
    const t = this.serials.get(node);
    if (t) t.high = high;
    else this.serials.set(node, { high, missing: [] });
  }

  /** A record that arrived late fills its place in a missing range. */
  private fill(t: SerialTrack, serial: number): void {
    for (let i = t.missing.length - 1; i >= 0; i--) {
      const [lo, hi, at] = t.missing[i];
      if (serial < lo) continue;
      if (serial > hi) return; // already seen: records of one event share a serial
      const parts: [number, number, number][] = [];
      if (lo < serial) parts.push([lo, serial - 1, at]);
      if (serial < hi) parts.push([serial + 1, hi, at]);
      t.missing.splice(i, 1, ...parts);
      return;
    }
  }

  /** Counts the missing ranges that fell out of the reorder window: too far behind, or seen before `before` (ms). */
  private settle(t: SerialTrack, before: number): void {
    while (t.missing.length && (t.missing[0][1] < t.high - REORDER_WINDOW || t.missing[0][2] < before)) {
      const [lo, hi] = t.missing.shift()!;
      const n = hi - lo + 1;
      this.serialGaps += n;
      this.onLoss?.(`serial numbers ${lo}${hi > lo ? `-${hi}` : ''} never seen`, n);
    }
  }

  noteKernelLoss(loss: KernelLossKind, count: number | undefined, text: string): void {
    if (loss === 'lost-counter') {
      if (count === undefined) return;
      this.counterFirst ??= count;
      const before = this.counterLast;
      this.counterLast = Math.max(this.counterLast ?? count, count);
      if (before === undefined || count > before) this.onLoss?.(text, undefined);
      return;
    }
    this.counts[loss] += loss === 'suppressed' ? (count ?? 1) : 1;
    this.onLoss?.(text, loss === 'suppressed' ? count : undefined);
  }

  /** The kernel's lost counter read from the audit status (absolute, since boot). */
  noteStatusLost(value: number): void {
    this.statusFirst ??= value;
    if (this.statusLast !== undefined && value > this.statusLast) this.onLoss?.(`the kernel's audit lost counter rose by ${value - this.statusLast}`, value - this.statusLast);
    this.statusLast = Math.max(this.statusLast ?? value, value);
  }

  noteKmsgOverwritten(count: number): void {
    this.counts.kmsgOverwritten += count;
    this.onLoss?.(`${count} kernel log records overwritten before they were read`, undefined);
  }

  noteTruncation(file: string): void {
    this.counts.truncations++;
    this.onLoss?.(`${file} was truncated while being followed`, undefined);
  }

  noteDamaged(what: string): void {
    this.counts.damaged++;
    this.notes.push(what);
    this.onLoss?.(what, undefined);
  }

  /**
   * Ends a stretch of continuous serials (one input file, a consumer change):
   * ranges still missing count, and the next serial starts afresh.
   */
  endSegment(node?: string): void {
    for (const [key, t] of this.serials) {
      if (node !== undefined && key !== node) continue;
      this.settle(t, Infinity);
      this.serials.delete(key);
    }
  }

  /** Live sources call this now and then: gaps older than the reorder wait count even when no record follows. */
  settleOlderThan(now: number): void {
    for (const t of this.serials.values()) this.settle(t, now - REORDER_MS);
  }

  /** Ends the reorder wait: every range still missing counts. */
  finish(): void {
    this.endSegment();
  }

  summary(): LossSummary {
    const c = this.counts;
    // An `audit_lost=N` line is printed as the N-th loss happens: the first one seen is itself a loss.
    const fromLines = this.counterLast === undefined ? 0 : this.counterLast - this.counterFirst! + 1;
    const fromStatus = this.statusLast === undefined ? 0 : this.statusLast - this.statusFirst!;
    const kernelLost = Math.max(fromLines, fromStatus);
    const reasons: string[] = [];
    if (this.serialGaps) reasons.push(`${this.serialGaps} audit serial numbers never seen (records dropped before reaching the log)`);
    if (kernelLost) reasons.push(`the kernel counted ${kernelLost} audit records lost (backlog or rate limit)`);
    if (c.backlog) reasons.push(`${c.backlog} "backlog limit exceeded" kernel messages (raise auditctl -b)`);
    if (c.rate) reasons.push(`${c.rate} "rate limit exceeded" kernel messages (auditctl -r 0 lifts it)`);
    if (c['hold-queue']) reasons.push(`${c['hold-queue']} "kauditd hold queue overflow" kernel messages`);
    if (c.suppressed) reasons.push(`${c.suppressed} audit kernel messages suppressed by the printk rate limit (sysctl kernel.printk_ratelimit=0 lifts it)`);
    if (c.kmsgOverwritten) reasons.push(`${c.kmsgOverwritten} kernel log records overwritten before they were read`);
    if (c.truncations) reasons.push(`the followed log was truncated ${c.truncations} times`);
    reasons.push(...this.notes);
    return {
      incomplete: reasons.length > 0,
      // The signals overlap (a rate-limited record is both a gap and a lost count): the largest is a
      // safe lower bound. Overwritten kernel log records may be any message, so they only mark incompleteness.
      lostAtLeast: Math.max(this.serialGaps, kernelLost),
      serialGaps: this.serialGaps,
      kernelLost,
      backlogExceeded: c.backlog,
      rateLimitExceeded: c.rate,
      holdQueueOverflow: c['hold-queue'],
      suppressed: c.suppressed,
      kmsgOverwritten: c.kmsgOverwritten,
      truncations: c.truncations,
      damaged: c.damaged,
      reasons,
    };
  }
}
