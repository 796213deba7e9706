// Writes a file atomically: a temp file in the same directory, fsync, rename.
// A reader never sees a half-written profile, and a failed write leaves nothing.
// Special files (`-o /dev/null`, a FIFO, /dev/stdout) are written in place:
// renaming over them would replace the device node with a regular file. A
// symlink is followed, so the link stays and its target is replaced.
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

export function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): void {
  let path = target;
  try {
    const st = statSync(target);
    if (!st.isFile()) {
      writeInPlace(target, data);
      return;
    }
    path = realpathSync(target);
  } catch (err) {
    if (err instanceof InputError) throw err;
    /* does not exist yet: create it */
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    // The mode is what was asked for, whatever the umask (kubelet reads these files as another user).
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncDirectory(dirname(path));
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing was created */
    }
    throw new InputError(path, [`cannot write: ${(err as Error).message}`], err);
  }
}

function writeInPlace(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new InputError(path, [`cannot write: ${(err as Error).message}`], err);
  }
}

/** Makes a rename in `dir` durable. Best effort: some filesystems refuse fsync on a directory. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not durable there, but written */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
