// Output files: atomic for regular files, in place for devices, symlinks followed.
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { runCli } from './helpers/cli.js';

t.test('a regular file is replaced whole, with the mode asked for, and no temp file is left', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-aw-'));
  const f = join(dir, 'p.json');
  writeFileSync(f, 'old');
  writeFileAtomic(f, 'new', 0o640);
  t.equal(readFileSync(f, 'utf8'), 'new');
  t.equal(statSync(f).mode & 0o777, 0o640);
  t.same(readdirSync(dir), ['p.json']);
});

t.test('a symlink is followed: the link stays, its target gets the data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-aw-'));
  writeFileSync(join(dir, 'real.json'), 'old');
  symlinkSync('real.json', join(dir, 'link.json'));
  writeFileAtomic(join(dir, 'link.json'), 'new');
  t.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink());
  t.equal(readFileSync(join(dir, 'real.json'), 'utf8'), 'new');
});

t.test('`-o /dev/null` writes into the device and leaves it a device', async (t) => {
  t.ok(statSync('/dev/null').isCharacterDevice(), 'precondition');
  const r = await runCli(['record', '-q', '-o', '/dev/null', '--', 'true']);
  t.equal(r.code, 0, r.stderr);
  t.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a character device');
  t.notOk(readdirSync('/dev').some((n) => n.startsWith('.null.')), 'no temp file in /dev');
  t.notOk(existsSync('/dev/.null.tmp'));
});
