// The small unified diff behind `patch --diff`: GNU patch, given the diff,
// turns the old text into the new one, for many seeded random edits (inserts,
// deletes, changes near and far apart, empty texts, a missing final newline).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { unifiedDiff } from '../src/util/unified-diff.js';
import { hasCommand } from './helpers/fixtures.js';
import { tempDir } from './helpers/tmp.js';

t.test('hand-checked: one insertion, with three lines of context and the hunk header', async (t) => {
  const a = 'a\nb\nc\nd\ne\nf\ng\n';
  const b = 'a\nb\nc\nd\nX\ne\nf\ng\n';
  t.equal(unifiedDiff(a, b, 'a/f', 'b/f'), '--- a/f\n+++ b/f\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X\n e\n f\n g\n');
  t.equal(unifiedDiff(a, a, 'a/f', 'b/f'), '', 'equal texts: no diff');
  t.equal(unifiedDiff('x', 'x\n', 'a', 'b'), '--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+x\n');
});

/** A small seeded generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

t.test('GNU patch applies every diff exactly', { skip: hasCommand('patch') ? false : 'GNU patch is missing (apt-get install patch)' }, async (t) => {
  const rnd = lcg(13);
  const pick = (n: number) => Math.floor(rnd() * n);
  const dir = tempDir('udiff', t);
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const a = Array.from({ length: pick(40) }, () => `line ${pick(8)}`);
    const b = a.slice();
    for (let e = pick(7); e > 0; e--) {
      const at = pick(b.length + 1);
      if (rnd() < 0.5) b.splice(at, 0, `new ${pick(8)}`);
      else b.splice(at, 1);
    }
    const eolA = rnd() < 0.9 ? '\n' : '';
    const eolB = rnd() < 0.9 ? '\n' : '';
    const A = a.length ? a.join('\n') + eolA : '';
    const B = b.length ? b.join('\n') + eolB : '';
    const d = unifiedDiff(A, B, 'a/f', 'b/f');
    if (A === B) {
      t.equal(d, '');
      continue;
    }
    writeFileSync(join(dir, 'A'), A);
    writeFileSync(join(dir, 'd'), d);
    execFileSync('patch', ['-s', '-o', join(dir, 'P'), join(dir, 'A'), join(dir, 'd')]);
    if (readFileSync(join(dir, 'P'), 'utf8') !== B) t.fail(`case ${i}: patch gave another text\n${d}`);
    checked++;
  }
  t.ok(checked > 250, `${checked} diffs applied`);
});
