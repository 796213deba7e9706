// Lines out of audit files, plain or gzip'd (detected by magic bytes, not by
// name), with a cap on line length: a multi-megabyte line is counted and
// skipped without ever being held in memory whole. Bytes are decoded as
// latin1, which cannot fail on binary garbage and keeps every audit field
// (ASCII by construction) intact.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.js';

/** Longest line kept; real SECCOMP records are under 1 KiB, enriched ones under 2 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export interface SplitStats {
  lines: number;
  /** Lines longer than the cap, skipped. */
  oversized: number;
  bytes: number;
}

/** A line as bytes[start, end) of a buffer (no newline, no trailing CR); valid only during the call. */
export type ByteLineHandler = (bytes: Buffer, start: number, end: number) => void;

/**
 * Splits a byte stream into lines without decoding them; feed it chunks, then
 * end(). A line within one chunk is handed over in place; only a line that
 * straddles chunks is copied.
 */
export class ByteLineSplitter {
  /** Bytes of a line begun in an earlier chunk (copied: callers may reuse their buffers). */
  private carry: Buffer[] = [];
  private carryLength = 0;
  /** Inside an over-long line: dropping bytes until its newline. */
  private skipping = false;
  readonly stats: SplitStats = { lines: 0, oversized: 0, bytes: 0 };

  constructor(
    private readonly onBytes: ByteLineHandler,
    protected readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    /** Told of each skipped over-long line (keeps line numbers right). */
    protected readonly onOversized?: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.carryLength + (nl - start) > this.maxLineBytes) {
        this.oversized();
      } else if (this.carryLength) {
        this.carry.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.carry);
        this.dropCarry();
        this.emit(line, 0, line.length);
      } else {
        this.emit(chunk, start, nl);
      }
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      if (this.carryLength + (chunk.length - start) > this.maxLineBytes) {
        this.oversized();
        this.skipping = true;
      } else {
        this.carry.push(Buffer.from(chunk.subarray(start)));
        this.carryLength += chunk.length - start;
      }
    }
  }

  /** A last line without its newline still counts. */
  end(): void {
    if (this.carryLength) {
      const line = Buffer.concat(this.carry);
      this.emit(line, 0, line.length);
    }
    this.reset();
  }

  /** Drops a partial line (a truncated or replaced file). */
  reset(): void {
    this.dropCarry();
    this.skipping = false;
  }

  private dropCarry(): void {
    this.carry = [];
    this.carryLength = 0;
  }

  private oversized(): void {
    this.stats.oversized++;
    this.onOversized?.();
    this.dropCarry();
  }

  private emit(bytes: Buffer, start: number, end: number): void {
    this.stats.lines++;
    this.onBytes(bytes, start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
  }
}

/** Splits a byte stream into lines, each decoded on its own (a flat string, which the parser scans faster than a slice of one big chunk string). */
export class LineSplitter extends ByteLineSplitter {
  constructor(onLine: (line: string) => void, maxLineBytes = DEFAULT_MAX_LINE_BYTES, onOversized?: () => void) {
    super((bytes, start, end) => onLine(bytes.toString('latin1', start, end)), maxLineBytes, onOversized);
  }
}

export interface FileReadResult extends SplitStats {
  gzip: boolean;
  /** Set when a gzip stream ended early or was corrupt: the lines before it were read. */
  damaged?: string;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Told after each chunk read: bytes of the file read so far (compressed bytes for a gzip'd file). */
export type ReadProgress = (fileBytesRead: number) => void;

/**
 * Calls onLine for every line of the file. A missing or unreadable file is an
 * InputError; a damaged gzip stream is reported in the result, not thrown
 * (rotation can leave a half-written .gz, and the lines before it are good).
 */
export async function readFileLines(
  path: string,
  onLine: (line: string) => void,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  onOversized?: () => void,
  onProgress?: ReadProgress,
): Promise<FileReadResult> {
  return readInto(path, new LineSplitter(onLine, maxLineBytes, onOversized), onProgress);
}

/** Reads the file through a splitter the caller made (e.g. one that scans whole blocks of lines). */
export async function readFileInto(path: string, splitter: ByteLineSplitter, onProgress?: ReadProgress): Promise<FileReadResult> {
  return readInto(path, splitter, onProgress);
}

/** Inflated chunks this large: fewer, bigger hand-overs from zlib's worker thread. */
const GUNZIP_CHUNK = 1 << 18;

async function readInto(path: string, splitter: ByteLineSplitter, onProgress?: ReadProgress): Promise<FileReadResult> {
  let gzip: boolean;
  try {
    gzip = await isGzip(path);
  } catch (err) {
    throw new InputError(path, [`cannot read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`], err);
  }
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gzip ? input.pipe(createGunzip({ chunkSize: GUNZIP_CHUNK })) : input;
  let damaged: string | undefined;
  try {
    for await (const chunk of stream) {
      splitter.push(chunk as Buffer);
      onProgress?.(input.bytesRead);
    }
  } catch (err) {
    if (!gzip || (err as NodeJS.ErrnoException).code?.startsWith('Z_') !== true) {
      input.destroy();
      throw new InputError(path, [`cannot read: ${(err as Error).message}`], err);
    }
    damaged = `gzip data damaged after ${splitter.stats.lines} lines (${(err as Error).message})`;
  } finally {
    input.destroy();
  }
  splitter.end();
  return { ...splitter.stats, gzip, damaged };
}
