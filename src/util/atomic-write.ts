// The project's one file writer: a whole file replaced atomically and durably.
// A temp file with an unpredictable name is created beside the target with
// O_CREAT|O_EXCL|O_NOFOLLOW and the mode asked for (fchmod'd, so the umask does
// not matter), written, fsync'd, renamed over the target, and the directory is
// fsync'd. A reader never sees a half-written file; a failed write leaves the
// old one. Every failure is an InputError naming the file. The data is a
// string or bytes, or chunks from an async iterable (the agent's compaction
// streams its snapshot as it serializes it): each chunk is written as it comes,
// and a producer that throws fails the write like an I/O error.
//
// What the target is decides how it is written:
// - a regular file, or nothing yet: replaced as above;
// - a device or FIFO (`-o /dev/null`, /dev/stdout): written in place, since
//   renaming over it would replace the node with a regular file;
// - a symlink, with `follow` (the CLI's output files): its target is replaced
//   and the link stays. A link that cannot be followed (dangling, a loop,
//   EACCES on the way) is an error: replacing the link instead would write
//   somewhere the user did not name. Without `follow` (the agent's state
//   files) the link itself is replaced, never written through.
import { constants } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

export interface WriteOptions {
  /** Mode of the file written (default 0o644); applied whatever the umask. */
  mode?: number;
  /** Follow a symlink at the target and replace what it points to (default true). */
  follow?: boolean;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC, O_RDONLY, O_DIRECTORY } = constants;
// libuv adds O_CLOEXEC to every open.
const TEMP_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : String(e.message ?? err);
}

interface Plan {
  /** The file replaced, or written in place. */
  path: string;
  inPlace: boolean;
  /** An in-place write goes through a symlink the user named (/dev/stdout). */
  throughLink?: boolean;
}

function cannotFollow(target: string, err: unknown): InputError {
  return new InputError(target, [`cannot write: the symlink cannot be followed (${why(err)}); not replacing the link`], err);
}

/** Where the data goes: `path` replaced atomically, or written in place. */
async function plan(target: string, follow: boolean): Promise<Plan> {
  let st;
  try {
    st = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path: target, inPlace: false };
    throw new InputError(target, [`cannot write: ${why(err)}`], err);
  }
  if (st.isSymbolicLink()) {
    if (!follow) return { path: target, inPlace: false };
    try {
      st = await stat(target);
    } catch (err) {
      throw cannotFollow(target, err);
    }
    if (st.isDirectory()) throw new InputError(target, ['cannot write: is a directory']);
    // /dev/stdout -> /proc/self/fd/1 -> pipe:[N]: written through the link, there is no path to resolve.
    if (!st.isFile()) return { path: target, inPlace: true, throughLink: true };
    try {
      return { path: await realpath(target), inPlace: false };
    } catch (err) {
      throw cannotFollow(target, err);
    }
  }
  if (st.isDirectory()) throw new InputError(target, ['cannot write: is a directory']);
  return { path: target, inPlace: !st.isFile() };
}

/** What the writer takes: the whole content, or its chunks in order. */
export type FileData = string | Uint8Array | AsyncIterable<string | Uint8Array>;

async function writeChunk(fh: FileHandle, chunk: string | Uint8Array): Promise<void> {
  const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  let off = 0;
  while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

async function writeAll(fh: FileHandle, data: FileData): Promise<void> {
  if (typeof data === 'string' || data instanceof Uint8Array) return writeChunk(fh, data);
  for await (const chunk of data) await writeChunk(fh, chunk);
}

/** Replaces `target` with `data`, atomically and durably (see the header). */
export async function writeFileAtomic(target: string, data: FileData, opts: WriteOptions = {}): Promise<void> {
  const mode = opts.mode ?? 0o644;
  const { path, inPlace, throughLink } = await plan(target, opts.follow ?? true);
  if (inPlace) {
    try {
      const fh = await open(path, O_WRONLY | O_TRUNC | (throughLink ? 0 : O_NOFOLLOW));
      try {
        await writeAll(fh, data);
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new InputError(target, [`cannot write: ${why(err)}`], err);
    }
    return;
  }
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  let created = false;
  try {
    const fh = await open(tmp, TEMP_FLAGS, mode);
    created = true;
    try {
      await writeAll(fh, data);
      // The mode asked for, whatever the umask (kubelet reads these files as another user).
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw new InputError(path === target ? target : `${target} (-> ${path})`, [`cannot write: ${why(err)}`], err);
  }
  await fsyncDirectory(dir);
}

/** What a filesystem answers when it cannot fsync a directory at all: the data is written, just not provably durable. */
const FSYNC_REFUSED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EROFS']);

/** Makes a rename or creation in `dir` durable; an I/O error is an InputError naming the directory. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, O_RDONLY | O_DIRECTORY);
    await fh.sync();
  } catch (err) {
    if (!FSYNC_REFUSED.has((err as NodeJS.ErrnoException).code ?? '')) throw new InputError(dir, [`cannot make the directory durable: ${why(err)}`], err);
  } finally {
    await fh?.close();
  }
}

