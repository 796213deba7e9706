// A one-line progress display on stderr for long commands: drawn only on a
// terminal (never into a pipe or a file), first after a delay so short runs
// stay quiet, redrawn in place at most a few times a second, erased at the end.

export interface ProgressOptions {
  /** Nothing is drawn before this many ms have passed. */
  delayMs: number;
  /** Least time between two redraws. */
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly intervalMs: number;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.intervalMs = opts.intervalMs ?? 250;
  }

  /** Whether the stream is a terminal that can take a redrawn line. */
  static wanted(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
    return stream.isTTY === true && env.TERM !== 'dumb';
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /** Redraws with text() when it is time to; text is only made then. */
  update(text: () => string): void {
    const t = this.now();
    if (t - this.startedAt < this.opts.delayMs || t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    const width = this.stream.columns > 10 ? this.stream.columns - 1 : 79;
    this.stream.write(`\r${text().slice(0, width)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the line (if one was drawn), leaving the cursor at its start. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 || n >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
