// Compiles the C fixtures under test/fixtures/ into a temp directory once per test process.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
let dir: string | undefined;
const built = new Map<string, string>();

/** A directory every user can read and write (for tests that run as nobody). */
export function sharedTempDir(prefix = 'sr-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o777);
  return d;
}

/** Path of the compiled fixture; throws when gcc is missing (callers skip with that reason). */
export function fixture(name: string, extraFlags: string[] = []): string {
  const cached = built.get(name);
  if (cached) return cached;
  dir ??= sharedTempDir('sr-fixtures-');
  const out = join(dir, name);
  execFileSync('gcc', ['-O1', '-pthread', '-o', out, join(FIXTURES, `${name}.c`), ...extraFlags], { stdio: 'pipe' });
  chmodSync(out, 0o755);
  built.set(name, out);
  return out;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
