// Follows a growing log file (auditd's) like `tail -F`: polls for new bytes,
// and survives rotation (the path now names another inode: the old file is
// read to its end first, then the new one from its start) and truncation (the
// file shrank below our offset: read again from 0, and say so, since lines
// written just before the cut may be gone; a cut followed at once by more
// writes than were read is caught by re-checking the last bytes read).
// Polling sees renames on every
// filesystem; an inotify watch (fs.watch) on top makes new lines arrive at
// once, which matters: a record's pid must be looked up before it exits.
import type { FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './lines.js';

export interface FollowOptions {
  path: string;
  /** Read what the file already holds (default: start at its end). */
  fromStart?: boolean;
  pollMs?: number;
  maxLineBytes?: number;
  onLine(line: string): void;
  onRotate?(): void;
  onTruncate?(): void;
  /** The file could not be opened or read (it is retried on the next poll). */
  onError?(err: Error): void;
}

export interface FollowStats {
  rotations: number;
  truncations: number;
  bytes: number;
  lines: number;
  oversized: number;
}

const CHUNK = 1 << 20;
/** Bytes before the read offset kept to notice a file rewritten in place. */
const TAIL = 64;

export class FileFollower {
  private fh: FileHandle | undefined;
  private ino = -1;
  private dev = -1;
  private pos = 0;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private watcher: FSWatcher | undefined;
  private wakeup = false;
  private lastError: string | undefined;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private tail = Buffer.alloc(0);
  private readonly splitter: LineSplitter;
  private readonly counts = { rotations: 0, truncations: 0 };

  constructor(private readonly opts: FollowOptions) {
    this.splitter = new LineSplitter(opts.onLine, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  get stats(): FollowStats {
    return { ...this.counts, ...this.splitter.stats };
  }

  /** Opens the file (or keeps trying each poll until it exists) and starts polling. */
  async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  /** Reads at once when the watched file changes (inotify); the poll timer stays as the fallback. */
  private watchCurrent(): void {
    this.watcher?.close();
    this.watcher = undefined;
    try {
      this.watcher = watch(this.opts.path, { persistent: false }, () => this.kick());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      /* polling alone */
    }
  }

  private kick(): void {
    if (this.stopped || this.wakeup) return;
    this.wakeup = true;
    clearTimeout(this.timer);
    // Chained after any poll in flight; coalesces a burst of change events into one read.
    this.running = this.running.then(() => {
      this.wakeup = false;
      return this.poll();
    }).finally(() => this.schedule());
  }

  /** A last read to the end of the file, then closes it. A second call does nothing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
    await this.poll(true);
    this.splitter.end();
    await this.fh?.close();
    this.fh = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.running.then(() => this.poll()).finally(() => this.schedule());
    }, this.opts.pollMs ?? 200);
  }

  private async poll(final = false): Promise<void> {
    try {
      if (!this.fh && !(await this.openCurrent(!this.opened && !this.opts.fromStart))) return;
      await this.readToEnd();
      if (final) return;
      // Rotation: the path names a new file. Finish the old one, then switch.
      let now;
      try {
        now = await stat(this.opts.path);
      } catch {
        return; // renamed away, the new one not created yet
      }
      if (now.ino !== this.ino || now.dev !== this.dev) {
        await this.readToEnd();
        this.splitter.end();
        await this.fh!.close();
        this.fh = undefined;
        this.counts.rotations++;
        this.opts.onRotate?.();
        if (await this.openCurrent(false)) await this.readToEnd();
      }
      this.lastError = undefined;
    } catch (err) {
      // Report a failure once, not every poll.
      const msg = (err as Error).message;
      if (msg !== this.lastError) this.opts.onError?.(err as Error);
      this.lastError = msg;
    }
  }

  private async openCurrent(atEnd: boolean): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.opts.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.opened) return false; // mid-rotation
      throw err;
    }
    const st = await fh.stat();
    this.fh = fh;
    this.ino = st.ino;
    this.dev = st.dev;
    this.pos = atEnd ? st.size : 0;
    this.tail = Buffer.alloc(0);
    if (this.pos > 0) {
      const n = Math.min(TAIL, this.pos);
      const b = Buffer.alloc(n);
      const { bytesRead } = await fh.read(b, 0, n, this.pos - n);
      this.tail = b.subarray(0, bytesRead);
    }
    this.opened = true;
    this.splitter.reset();
    this.watchCurrent();
    return true;
  }

  private async readToEnd(): Promise<void> {
    const fh = this.fh!;
    const st = await fh.stat();
    if (st.size < this.pos || (st.size > this.pos && !(await this.tailUnchanged(fh)))) {
      this.counts.truncations++;
      this.opts.onTruncate?.();
      this.pos = 0;
      this.tail = Buffer.alloc(0);
      this.splitter.reset();
    }
    for (;;) {
      const { bytesRead } = await fh.read(this.buf, 0, CHUNK, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      this.splitter.push(this.buf.subarray(0, bytesRead));
      const keep = Math.min(TAIL, bytesRead);
      this.tail = Buffer.concat([this.tail, this.buf.subarray(bytesRead - keep, bytesRead)]).subarray(-TAIL);
    }
  }

  /** Whether the bytes just before our offset are still those we read (not truncated and rewritten). */
  private async tailUnchanged(fh: FileHandle): Promise<boolean> {
    if (this.tail.length === 0) return true;
    const now = Buffer.alloc(this.tail.length);
    const { bytesRead } = await fh.read(now, 0, now.length, this.pos - this.tail.length);
    return bytesRead === now.length && now.equals(this.tail);
  }
}
