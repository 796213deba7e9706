// Following a live log file as auditd writes and rotates it: appended lines,
// a partial line completed later, rotation by rename (the old file's last
// lines are not lost), copy-and-truncate rotation (reported), and a file that
// appears only after the follower started.
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FileFollower } from '../src/record/audit/follow.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('audit-follow');

/** Resolves once `cond` holds, polling; rejects after a generous limit (no timing is asserted). */
async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('appends, a partial line, rotation by rename, then truncation', async (t) => {
  const path = join(dir, 'audit.log');
  writeFileSync(path, 'old line before start\n');
  const got: string[] = [];
  let rotations = 0;
  let truncations = 0;
  const f = new FileFollower({ path, pollMs: 50, onLine: (l) => got.push(l), onRotate: () => rotations++, onTruncate: () => truncations++ });
  t.teardown(() => f.stop());
  await f.start();
  appendFileSync(path, 'a1\na2\npart');
  await until(() => got.length === 2, 'two lines');
  t.same(got, ['a1', 'a2'], 'starts at the end; the partial line waits');
  appendFileSync(path, 'ial\n');
  await until(() => got.length === 3, 'completed line');
  t.equal(got[2], 'partial');

  // auditd's rotation: the last records land in the old file just before the rename.
  appendFileSync(path, 'last of old\n');
  renameSync(path, `${path}.1`);
  appendFileSync(`${path}.1`, 'written after rename\n');
  writeFileSync(path, 'first of new\n');
  await until(() => got.includes('first of new'), 'the new file');
  t.same(got.slice(3), ['last of old', 'written after rename', 'first of new'], 'the old file is read to its end before the new one');
  t.equal(rotations, 1);

  // copytruncate: cut, and more written at once than had been read (the size alone cannot tell).
  truncateSync(path, 0);
  appendFileSync(path, 'after truncation, a longer line\n');
  await until(() => got.includes('after truncation, a longer line'), 'line after truncation');
  t.equal(truncations, 1, 'truncation reported');
  t.notOk(got.some((l) => l.startsWith('truncation') || l.startsWith('ation')), 'no line read from the middle');
  await f.stop();
  t.match(f.stats, { rotations: 1, truncations: 1 });
});

t.test('fromStart reads what is there; a missing file is waited for', async (t) => {
  const path = join(dir, 'later.log');
  const got: string[] = [];
  const errors: string[] = [];
  const f = new FileFollower({ path, pollMs: 20, fromStart: true, onLine: (l) => got.push(l), onError: (e) => errors.push(e.message) });
  t.teardown(() => f.stop());
  await f.start();
  t.match(errors, [/ENOENT/], 'reported once');
  writeFileSync(path, 'x1\nx2\n');
  await until(() => got.length === 2, 'lines of the late file');
  await f.stop();
  t.same(got, ['x1', 'x2']);
  t.equal(errors.length, 1, 'not repeated every poll');
});

t.test('stop() reads the last bytes, including a final line without newline', async (t) => {
  const path = join(dir, 'stop.log');
  writeFileSync(path, '');
  const got: string[] = [];
  const f = new FileFollower({ path, pollMs: 60_000, onLine: (l) => got.push(l) });
  await f.start();
  appendFileSync(path, 'y1\ny2');
  await f.stop();
  t.same(got, ['y1', 'y2']);
});
