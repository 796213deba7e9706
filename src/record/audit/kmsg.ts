// Reads the kernel log from /dev/kmsg, where the kernel prints audit records
// when no audit daemon is registered. Opened non-blocking, so a read never
// waits (EAGAIN: nothing new) and can run synchronously on the event loop in
// short bursts. Each read() returns one record `PRI,SEQ,USEC,FLAGS;text`;
// the sequence numbers reveal records overwritten before we read them
// (EPIPE), which the caller counts as possible loss.
import { closeSync, constants, openSync, readSync } from 'node:fs';

export const KMSG_PATH = '/dev/kmsg';
/**
 * An empty read costs one failed syscall: polling often is cheap, and every
 * millisecond counts for looking a record's pid up before the process exits.
 */
export const DEFAULT_KMSG_POLL_MS = 20;
/** Records read per burst before yielding to the event loop. */
const BURST = 4096;

export interface KmsgOptions {
  path?: string;
  /** Also deliver what the ring buffer already holds (default: only what comes after start). */
  fromStart?: boolean;
  pollMs?: number;
  /** `line` is the record's first line; its message starts at `messageAt`. */
  onRecord(line: string, messageAt: number, seq: number): void;
  /** Records between two reads were overwritten (count = sequence gap). */
  onOverwritten?(count: number): void;
  onError?(err: Error): void;
}

export class KmsgReader {
  private fd: number | undefined;
  private lastSeq: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly buf = Buffer.allocUnsafe(16 * 1024);
  readonly stats = { records: 0, overwritten: 0 };

  constructor(private readonly opts: KmsgOptions) {}

  /** Opens the device (throws when it cannot: root or CAP_SYSLOG is needed). */
  start(): void {
    this.fd = openSync(this.opts.path ?? KMSG_PATH, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!this.opts.fromStart) this.burst(true, Infinity);
    this.schedule();
  }

  /** Reads what is left, then closes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.fd === undefined) return;
    this.burst(false, Infinity);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // A long backlog is read in bursts, yielding in between.
      const more = this.burst(false, BURST);
      if (more) setImmediate(() => this.schedule());
      else this.schedule();
    }, this.opts.pollMs ?? DEFAULT_KMSG_POLL_MS);
  }

  /** Reads up to `max` records; true when it stopped with more to read. */
  private burst(skip: boolean, max: number): boolean {
    for (let n = 0; n < max; n++) {
      let len: number;
      try {
        len = readSync(this.fd!, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return false;
        if (code === 'EPIPE') continue; // overwritten: the next read gives the oldest record left; the seq gap counts it
        this.opts.onError?.(err as Error);
        return false;
      }
      if (len === 0) return false;
      this.handle(this.buf.toString('latin1', 0, len), skip);
    }
    return true;
  }

  private handle(text: string, skip: boolean): void {
    const semi = text.indexOf(';');
    if (semi < 0) return;
    const c1 = text.indexOf(',');
    const c2 = text.indexOf(',', c1 + 1);
    const seq = Number(text.slice(c1 + 1, c2));
    if (Number.isSafeInteger(seq)) {
      if (this.lastSeq !== undefined && seq > this.lastSeq + 1 && !skip) {
        const lost = seq - this.lastSeq - 1;
        this.stats.overwritten += lost;
        this.opts.onOverwritten?.(lost);
      }
      this.lastSeq = seq;
    }
    if (skip) return;
    this.stats.records++;
    const nl = text.indexOf('\n', semi);
    this.opts.onRecord(nl < 0 ? text : text.slice(0, nl), semi + 1, seq);
  }
}
