// The append-only journal file. One record per line, `<crc32 hex> <json>\n`,
// after a header line naming kind, version and generation. Reading stops at
// the first line that is incomplete or fails its checksum (a torn or corrupt
// tail) and reports how much was cut; writing goes at the known end, then
// fdatasync, and a failed write is cut back so the file never holds a torn
// line in its middle.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isRecord } from '../profile/json-input.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { crc32 } from '../util/crc32.js';

/** The journal is opened for appending without following a link planted at its path. */
const OPEN_EXISTING = constants.O_RDWR | constants.O_NOFOLLOW;

export const JOURNAL_KIND = 'seccomp-recorder/journal';
export const JOURNAL_VERSION = 1;

export interface JournalHeader {
  kind: typeof JOURNAL_KIND;
  version: number;
  /** The snapshot generation these records follow. */
  generation: number;
}

export function encodeLine(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export interface ParsedJournal {
  header?: JournalHeader;
  records: unknown[];
  /** Bytes up to the end of the last good line. */
  validBytes: number;
  totalBytes: number;
  /** Why reading stopped before the end (undefined: the whole file was good). */
  problem?: string;
  /** 1-based line number where reading stopped. */
  badLine?: number;
}

const LINE = /^([0-9a-f]{8}) (.*)$/s;

function decodeLine(text: string): { value: unknown } | { problem: string } {
  const m = LINE.exec(text);
  if (!m) return { problem: 'not a journal line' };
  if (crc32(m[2]) !== parseInt(m[1], 16)) return { problem: 'checksum mismatch' };
  try {
    return { value: JSON.parse(m[2]) as unknown };
  } catch {
    return { problem: 'unreadable JSON' };
  }
}

/** Parses a journal's bytes. Never throws: whatever follows the first bad line is the tail to cut. */
export function parseJournal(buf: Buffer): ParsedJournal {
  const out: ParsedJournal = { records: [], validBytes: 0, totalBytes: buf.length };
  let offset = 0;
  let line = 0;
  while (offset < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, offset);
    if (nl < 0) {
      out.problem = 'incomplete last line';
      out.badLine = line;
      return out;
    }
    const decoded = decodeLine(buf.subarray(offset, nl).toString('utf8'));
    if ('problem' in decoded) {
      out.problem = decoded.problem;
      out.badLine = line;
      return out;
    }
    if (line === 1) {
      const h = decoded.value;
      if (!isRecord(h) || h.kind !== JOURNAL_KIND || typeof h.version !== 'number' || typeof h.generation !== 'number') {
        out.problem = 'no journal header';
        out.badLine = 1;
        return out;
      }
      out.header = { kind: JOURNAL_KIND, version: h.version, generation: h.generation };
    } else {
      out.records.push(decoded.value);
    }
    offset = nl + 1;
    out.validBytes = offset;
  }
  return out;
}

export class JournalWriter {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private end: number,
  ) {}

  /** Bytes durably in the file. */
  get size(): number {
    return this.end;
  }

  /** A fresh journal holding only its header, atomically in place of any old one. */
  static async create(path: string, generation: number): Promise<JournalWriter> {
    const header: JournalHeader = { kind: JOURNAL_KIND, version: JOURNAL_VERSION, generation };
    const text = encodeLine(header);
    await writeFileAtomic(path, text, { mode: 0o600, follow: false });
    const fh = await open(path, OPEN_EXISTING);
    return new JournalWriter(fh, path, Buffer.byteLength(text));
  }

  /** Opens an existing journal to append after its last good line (a bad tail is cut off first). */
  static async reopen(path: string, validBytes: number): Promise<JournalWriter> {
    const fh = await open(path, OPEN_EXISTING);
    const { size } = await fh.stat();
    if (size !== validBytes) {
      await fh.truncate(validBytes);
      await fh.sync();
    }
    return new JournalWriter(fh, path, validBytes);
  }

  /** Appends the lines and makes them durable; on failure the file is cut back to where it was. */
  async writeDurably(lines: string[]): Promise<void> {
    if (!lines.length) return;
    const buf = Buffer.from(lines.join(''));
    try {
      let done = 0;
      while (done < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.end + done);
        done += bytesWritten;
      }
      await this.fh.datasync();
      this.end += buf.length;
    } catch (err) {
      await this.fh.truncate(this.end).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
