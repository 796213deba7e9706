// test/helpers/tmp.ts: a test's temp dir is gone when the test ends, passed or
// failed, and the file-wide ones when the process exits; removal unmounts what
// is mounted below first and never deletes through a mount; a container's
// bundle goes once the runtime has forgotten the container.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { containerExists } from '../scripts/lib/oci-bundle.mjs';
import { containerSkipReason, removeBundle, runInContainer } from './helpers/bundle.js';
import { mountsUnder, removeTempDir, tempDir } from './helpers/tmp.js';

const root = process.getuid?.() === 0 ? false : 'mounting and chown need root';

t.test('a test\'s dir exists while it runs and is gone when it ends', async (t) => {
  let dir = '';
  await t.test('inner', async (t) => {
    dir = tempDir('tmp-inner', t);
    writeFileSync(join(dir, 'f'), 'x');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    t.ok(existsSync(join(dir, 'f')));
  });
  t.ok(dir.length > 0);
  t.notOk(existsSync(dir), `${dir} removed at the end of its test`);
});

for (const end of ['fail', 'throw', 'exit']) {
  t.test(`a test file that ends with ${end}: its dirs are removed all the same`, async (t) => {
    const child = join(import.meta.dirname, 'fixtures', 'tmp', 'child.ts');
    const r = spawnSync(process.execPath, [...process.execArgv, child], { encoding: 'utf8', env: { ...process.env, SR_TMP_CHILD_END: end }, timeout: 60_000 });
    const dirs = [...r.stdout.matchAll(/# dir (\S+)/g)].map((m) => m[1]);
    t.equal(dirs.length, 2, `the child made two dirs\n${r.stdout}${r.stderr}`);
    t.not(r.status, 0, 'the child failed');
    for (const d of dirs) t.notOk(existsSync(d), `${d} removed`);
  });
}

t.test('the root tap object is refused: its teardown would end the file early', async (t) => {
  t.throws(() => tempDir('tmp-root', t.parent as never), /not the file's root tap/);
  t.throws(() => tempDir('Bad/Name'), /bad name/);
});

t.test('dirs owned by another user are removed (as root)', { skip: root }, async (t) => {
  let dir = '';
  await t.test('inner', async (t) => {
    dir = tempDir('tmp-nobody', t);
    const theirs = join(dir, 'theirs');
    mkdirSync(join(theirs, 'private'), { recursive: true, mode: 0o700 });
    writeFileSync(join(theirs, 'private', 'f'), 'x', { mode: 0o600 });
    for (const p of [theirs, join(theirs, 'private'), join(theirs, 'private', 'f')]) chownSync(p, 65534, 65534);
  });
  t.notOk(existsSync(dir));
});

t.test('mounts below a dir are unmounted first; nothing is deleted through them', { skip: root }, async (t) => {
  const outside = tempDir('tmp-outside', t);
  writeFileSync(join(outside, 'keep'), 'must survive');
  let dir = '';
  await t.test('inner', async (t) => {
    dir = tempDir('tmp-mounts', t);
    const bind = join(dir, 'a b', 'bind'); // a space: mountinfo writes it as \040
    const stacked = join(dir, 'stacked');
    mkdirSync(bind, { recursive: true });
    mkdirSync(stacked);
    execFileSync('mount', ['--bind', outside, bind]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', stacked]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', stacked]);
    writeFileSync(join(stacked, 'on-tmpfs'), 'x');
    t.same(mountsUnder(dir).sort(), [bind, stacked, stacked].sort(), 'mountinfo shows all three, unescaped');
  });
  t.notOk(existsSync(dir), 'the dir is removed');
  t.same(mountsUnder(dir), [], 'nothing is left mounted there');
  t.equal(existsSync(join(outside, 'keep')) && 'kept', 'kept', 'the bind-mounted directory\'s content is untouched');
});

t.test('removeTempDir called directly (as bundles and the CRI node do) unmounts, then removes', { skip: root }, async (t) => {
  const dir = tempDir('tmp-left', t);
  const inner = join(dir, 'm');
  mkdirSync(inner);
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', inner]);
  writeFileSync(join(inner, 'f'), 'x');
  removeTempDir(dir);
  t.notOk(existsSync(dir), 'unmounted, then removed');
});

const runc = containerSkipReason('runc');

t.test('a container\'s bundle is removed after its container is deleted', { skip: runc }, async (t) => {
  // A private TMPDIR of the test's own, so other test runs on this machine do not count.
  const own = tempDir('tmp-tmpdir', t);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  t.teardown(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  const run = await runInContainer('runc', { args: ['/bin/sh', '-c', 'echo ran'] });
  t.equal(run.stdout, 'ran\n', run.stderr);
  t.same(readdirSync(own), [], 'no bundle left in TMPDIR');

  // A created (not started) container keeps its bundle until removeBundle deletes it.
  const bundle = tempDir('tmp-bundle', t);
  const made = await runInContainerCreated(bundle);
  t.ok(await containerExists('runc', made), 'runc knows the created container');
  await removeBundle('runc', made, bundle);
  t.notOk(await containerExists('runc', made), 'deleted');
  t.notOk(existsSync(bundle), 'then its bundle removed');
});

/** `runc create` of a sleeping busybox in `bundle`; its id. */
async function runInContainerCreated(bundle: string): Promise<string> {
  const { writeBundle } = await import('../scripts/lib/oci-bundle.mjs');
  writeBundle('runc', bundle, { args: ['/bin/sleep', '60'] });
  const id = `sr-tmp-${process.pid}`;
  execFileSync('runc', ['create', '--bundle', bundle, id], { stdio: 'ignore', timeout: 20_000 });
  return id;
}
