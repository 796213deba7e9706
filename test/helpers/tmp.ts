// The tests' temp directories: the one place that makes them (os.tmpdir()/sr-NAME-XXXXXX)
// and removes them when their test ends, pass or fail, or at the latest when the test
// process exits. Removal never runs rm -rf across a mount: what /proc/self/mountinfo
// shows at or below the directory is unmounted first, and a directory that still holds
// a mount is left in place with a warning (scripts/test.mjs names what is left).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_TEMP_PREFIX } from '../../scripts/lib/temp-names.mjs';

/** What can run code when a test ends: a tap subtest (`t`), its teardowns run last-added first. */
export interface TestEnd {
  teardown(fn: () => void | Promise<void>): void;
  /** undefined for the file's root tap object only */
  parent?: unknown;
}

/** Directories made here and not yet removed; whatever is left goes when the process exits. */
const pending = new Set<string>();
process.on('exit', () => {
  for (const dir of pending) removeTempDir(dir);
});

/**
 * A fresh directory `<tmpdir>/sr-<name>-XXXXXX`, removed when `t` ends (after the
 * teardowns `t` gets later, such as killing an agent that writes into it), or when
 * the process exits when there is no test to tie it to (a file's shared directory).
 */
export function tempDir(name: string, t?: TestEnd): string {
  if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name)) throw new Error(`tempDir: bad name ${JSON.stringify(name)} (lower-case words joined by -)`);
  // realpath: mountinfo names mount points by their real path.
  // A teardown on the root makes tap end the file once it is idle, cutting off later tests.
  if (t && t.parent === undefined) throw new Error(`tempDir: pass the subtest's own t for ${name}, not the file's root tap (or none)`);
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `${TEST_TEMP_PREFIX}${name}-`)));
  pending.add(dir);
  t?.teardown(() => removeTempDir(dir));
  return dir;
}

/** As tempDir, but every user may write into it (for tests that run programs as nobody). */
export function sharedTempDir(name: string, t?: TestEnd): string {
  const dir = tempDir(name, t);
  chmodSync(dir, 0o777);
  return dir;
}

/** Mount points at or below `dir` as this process sees them, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    // mountinfo escapes space, tab, newline and backslash as octal
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a directory from tempDir (or one a helper made in os.tmpdir()), unmounting
 * first whatever is mounted at or below it. Never throws: a directory it cannot remove
 * is reported on stderr and left, so a teardown does not hide the test's own result.
 */
export function removeTempDir(dir: string): void {
  pending.delete(dir);
  // Stacked mounts show one line each: unmount until none is left or nothing changes.
  for (let round = 0; round < 8; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) {
      try {
        execFileSync('umount', [m], { stdio: 'pipe' });
      } catch {
        try {
          // busy: detach it from the tree (its users keep it; nothing of it is under dir any more)
          execFileSync('umount', ['-l', m], { stdio: 'pipe' });
        } catch {
          /* not ours to unmount (no privilege), or gone meanwhile; checked below */
        }
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) {
    process.stderr.write(`warning: left ${dir} in place: still mounted there: ${left.join(', ')}\n`);
    return;
  }
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    process.stderr.write(`warning: could not remove ${dir}: ${(err as Error).message}\n`);
  }
}

/** Gives up on removing `dir` (its user is still alive), saying why on stderr. */
export function leaveTempDir(dir: string, why: string): void {
  pending.delete(dir);
  process.stderr.write(`warning: left ${dir} in place: ${why}\n`);
}
