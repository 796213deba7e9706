// The directory a root-owned unix socket lives in: created 0700 when the agent
// makes it; an existing one is never re-moded, and refused when anyone but
// root (the agent's own user) could write to it or replace the socket there.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Makes (or checks) the directory of the socket at `path`; returns it. Throws
 * UsageError on an unsafe one. `mode` is for a directory made here (0700, or
 * 0711 when others must reach a socket inside: SO_PEERCRED then decides).
 */
export function prepareSocketDir(path: string, option: string, mode = 0o700): string {
  const dir = dirname(path);
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UsageError(`${option} ${path}: cannot create its directory ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // Only the directory we made ourselves may get its mode set (umask may have narrowed mkdir's mode only).
  if (created !== undefined) {
    chmodSync(dir, mode);
    return dir;
  }
  const st = statSync(dir);
  const me = process.getuid?.() ?? 0;
  const shown = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const fix = `pick a directory only root can write (e.g. ${option === '--socket' ? '/run/seccomp-recorder/notify.sock' : '/run/seccomp-recorder/api.sock'}, created 0700 when missing)`;
  if (!st.isDirectory()) throw new UsageError(`${option} ${path}: ${dir} is not a directory`);
  if (st.uid !== me)
    throw new UsageError(`${option} ${path}: ${dir} is owned by uid ${st.uid}, not by ${me === 0 ? 'root' : `uid ${me}`}; its owner could replace the socket: ${fix}`);
  if (st.mode & 0o022)
    throw new UsageError(`${option} ${path}: ${dir} (mode ${shown}) is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'}, who could replace the socket; the agent does not change the mode of a directory it did not create: ${fix}`);
  return dir;
}
