// Compiles the C fixtures under test/fixtures/ into a temp directory once per test process
// (test/helpers/tmp.ts removes it when the process exits).
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedTempDir } from './tmp.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
let dir: string | undefined;
const built = new Map<string, string>();

/** Path of the compiled fixture; throws when gcc is missing (callers skip with that reason). */
export function fixture(name: string, extraFlags: string[] = []): string {
  const cached = built.get(name);
  if (cached) return cached;
  // one per test process, for every test in it: removed when the process exits
  dir ??= sharedTempDir('fixtures');
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
