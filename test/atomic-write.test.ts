// The one writer (src/util/atomic-write.ts) and its users: atomic for regular
// files, in place for devices, chunks from a producer (a failing one leaves
// the old file), symlinks followed only when they can be, temp files that
// cannot be redirected, the mode asked for whatever the umask.
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { JournalWriter } from '../src/agent/journal.js';
import { InputError } from '../src/errors.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { runCli } from './helpers/cli.js';
import { asUser, cannotSwitchUser } from './helpers/as-user.js';
import { tempDir } from './helpers/tmp.js';

const tmp = () => tempDir('aw');

t.test('a regular file is replaced whole, with the mode asked for whatever the umask, and no temp file is left', async (t) => {
  const dir = tmp();
  const f = join(dir, 'p.json');
  writeFileSync(f, 'old');
  const old = process.umask(0o077);
  try {
    await writeFileAtomic(f, 'new', { mode: 0o644 });
  } finally {
    process.umask(old);
  }
  t.equal(readFileSync(f, 'utf8'), 'new');
  t.equal(statSync(f).mode & 0o777, 0o644);
  t.same(readdirSync(dir), ['p.json']);
});

t.test('chunks from an async iterable are written in order; a producer that fails leaves the old file and no temp file', async (t) => {
  const dir = tmp();
  const f = join(dir, 'state.json');
  writeFileSync(f, 'old');
  async function* chunks(fail: boolean) {
    yield 'one,';
    yield Buffer.from('two,');
    await new Promise((r) => setImmediate(r));
    t.ok(readdirSync(dir).some((n) => n.endsWith('.tmp')), 'mid-write: the chunks go to a temp file');
    t.equal(readFileSync(f, 'utf8'), 'old', 'mid-write: the file is still the old one');
    if (fail) throw new Error('the producer broke');
    yield 'three';
  }
  await t.rejects(writeFileAtomic(f, chunks(true), { mode: 0o600 }), { message: new RegExp(`${f}: cannot write: the producer broke`) });
  t.equal(readFileSync(f, 'utf8'), 'old', 'a failed producer leaves the old file');
  t.same(readdirSync(dir), ['state.json'], 'and no temp file');
  await writeFileAtomic(f, chunks(false), { mode: 0o600 });
  t.equal(readFileSync(f, 'utf8'), 'one,two,three');
  t.equal(statSync(f).mode & 0o777, 0o600);
  t.same(readdirSync(dir), ['state.json']);
});

t.test('a symlink is followed: the link stays, its target gets the data', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'real.json'), 'old');
  symlinkSync('real.json', join(dir, 'link.json'));
  await writeFileAtomic(join(dir, 'link.json'), 'new');
  t.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink());
  t.equal(readFileSync(join(dir, 'real.json'), 'utf8'), 'new');
  t.same(readdirSync(dir).sort(), ['link.json', 'real.json']);
});

t.test('a symlink that cannot be followed is an error naming it, and the link is left alone', async (t) => {
  const dir = tmp();
  symlinkSync('missing/real.json', join(dir, 'dangling.json'));
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  for (const [name, why] of [
    ['dangling.json', /ENOENT/],
    ['loop-a', /ELOOP/],
  ] as const) {
    const path = join(dir, name);
    const before = readlinkSync(path);
    const err = await writeFileAtomic(path, 'new').then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof InputError, `${name}: an InputError`);
    t.match((err as Error).message, path, `${name}: names the file`);
    t.match((err as Error).message, why);
    t.ok(lstatSync(path).isSymbolicLink(), `${name}: still a symlink`);
    t.equal(readlinkSync(path), before);
  }
  t.same(readdirSync(dir).sort(), ['dangling.json', 'loop-a', 'loop-b'], 'no temp file left');
});

const asNobody = cannotSwitchUser();
const DIST_WRITER = fileURLToPath(new URL('../dist/util/atomic-write.js', import.meta.url));

t.test('EACCES while following a link (as nobody): an error, not a rename over the link', { skip: asNobody }, async (t) => {
  const dir = tmp();
  chmodSync(dir, 0o777);
  mkdirSync(join(dir, 'private'), { mode: 0o700 });
  writeFileSync(join(dir, 'private', 'real.json'), 'old');
  const link = join(dir, 'out.json');
  symlinkSync('private/real.json', link);
  const script = `import { writeFileAtomic } from ${JSON.stringify(DIST_WRITER)};\ntry { await writeFileAtomic(${JSON.stringify(link)}, 'new'); console.log('written'); } catch (e) { console.log(e.message); process.exitCode = 3; }`;
  // env -i: tap's process hooks would follow the child in, and fail as nobody.
  const r = spawnSync(asUser()[0], [...asUser().slice(1), '-i', `PATH=${process.env.PATH}`, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: dir });
  t.equal(r.status, 3, r.stdout + r.stderr);
  t.match(r.stdout, link);
  t.match(r.stdout, /EACCES/);
  t.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  t.equal(readFileSync(join(dir, 'private', 'real.json'), 'utf8'), 'old');
});

t.test('a directory as the target is an error naming it', async (t) => {
  const dir = tmp();
  await t.rejects(writeFileAtomic(dir, 'x'), { message: new RegExp(`${dir}: cannot write: is a directory`) });
});

/** A private copy of /dev/null's node in a fresh directory, or why there is none. */
function privateNull(): { dir: string; dev: string } | string {
  if (process.getuid?.() !== 0) return 'needs root to make a device node';
  const dir = tmp();
  const dev = join(dir, 'null');
  const mk = spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3'], { encoding: 'utf8' });
  return mk.status === 0 ? { dir, dev } : `mknod failed here: ${mk.stderr.trim()}`;
}
const nullDev = privateNull();

t.test('`-o DEVICE` writes into the device and leaves it a device, with nothing beside it', { skip: typeof nullDev === 'string' ? nullDev : false }, async (t) => {
  const { dir, dev } = nullDev as { dir: string; dev: string };
  const r = await runCli(['record', '-q', '-o', dev, '--', 'true']);
  t.equal(r.code, 0, r.stderr);
  t.ok(statSync(dev).isCharacterDevice(), 'still a character device');
  t.same(readdirSync(dir), ['null'], 'no temp file beside it');
});

t.test('the journal: a symlink planted at the old predictable temp name does not redirect its writes', async (t) => {
  const dir = tmp();
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, `.journal.log.${process.pid}.tmp`));
  const w = await JournalWriter.create(join(dir, 'journal.log'), 1);
  await w.close();
  t.equal(readFileSync(victim, 'utf8'), 'precious');
  t.equal(statSync(join(dir, 'journal.log')).mode & 0o777, 0o600);
});

t.test('the journal: an existing journal that is a symlink is refused, not written through', async (t) => {
  const dir = tmp();
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, 'journal.log'));
  await t.rejects(JournalWriter.reopen(join(dir, 'journal.log'), 0), { code: 'ELOOP' });
  t.equal(readFileSync(victim, 'utf8'), 'precious');
  const w = await JournalWriter.create(join(dir, 'journal.log'), 2);
  await w.close();
  t.equal(readFileSync(victim, 'utf8'), 'precious', 'create replaces the link, never writes through it');
  t.notOk(lstatSync(join(dir, 'journal.log')).isSymbolicLink());
});
