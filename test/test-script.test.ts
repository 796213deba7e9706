// scripts/test.mjs (`npm test`): names the temp entries a run leaves behind in a
// warning line before its failure summary and totals, which stay the last line;
// a leak does not change the exit status. Each run gets a TMPDIR of its own, so
// no other process's entries are counted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REPO } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const LEAKY = join('test', 'fixtures', 'tmp', 'leaky.ts');

function runTestScript(tmp: string, leak?: string): { status: number | null; lines: string[] } {
  // The nested tap must not think it is one of this run's children.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && k !== 'NODE_OPTIONS'));
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'test.mjs'), LEAKY], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...env, TMPDIR: tmp, ...(leak ? { SR_LEAK: leak } : {}) },
    timeout: 120_000,
  });
  return { status: r.status, lines: r.stdout.trimEnd().split('\n') };
}

t.test('a run that leaves an sr- entry is warned about by name; the totals stay last', async (t) => {
  const tmp = tempDir('test-script', t);
  mkdirSync(join(tmp, 'sr-there-before')); // not this run's
  mkdirSync(join(tmp, 'unrelated-name'));
  const r = runTestScript(tmp, 'sr-leaked-by-test');
  t.ok(existsSync(join(tmp, 'sr-leaked-by-test')), 'the fixture leaked');
  t.equal(r.status, 0, 'a leak alone does not fail the run');
  t.equal(r.lines.at(-1), '1 passed, 0 failed, 0 skipped', 'the totals are the last line', { output: r.lines });
  const warning = r.lines.find((l) => l.includes('warning:'));
  t.ok(warning, 'a warning line');
  t.match(warning, /1 temp entry left by this run/);
  t.match(warning, /sr-leaked-by-test/);
  t.notMatch(warning, /sr-there-before|unrelated-name/, 'only what appeared during the run');
});

t.test('a clean run says nothing was left', async (t) => {
  const tmp = tempDir('test-script', t);
  const r = runTestScript(tmp);
  t.equal(r.status, 0);
  t.equal(r.lines.at(-1), '1 passed, 0 failed, 0 skipped');
  t.notOk(r.lines.some((l) => l.includes('warning:')), 'no warning');
  t.ok(r.lines.some((l) => l.startsWith('# temp: nothing left')), 'says nothing was left', { output: r.lines });
});
