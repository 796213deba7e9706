// export: kubelet path rules, atomic 0644 write, no silent overwrite.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { InputError, UsageError } from '../src/errors.js';
import { exportProfile, ProfileExistsError } from '../src/profile/export.js';
import { loadBaseline } from '../src/profile/baseline.js';
import { allowListProfile } from '../src/profile/model.js';
import { parseOciProfile, serializeOci } from '../src/profile/oci.js';
import { checkProfileName, localhostProfileFor } from '../src/profile/pod.js';
import { tempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const root = () => tempDir('kubelet');
/** The rejection of `p` (undefined when it fulfils). */
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

const profile = allowListProfile(['x86_64'], ['read', 'write', 'exit_group']);

t.test('writes <root>/seccomp/seccomp-recorder/NAME.json with mode 0644', async (t) => {
  const kubeletRoot = root();
  const old = process.umask(0o077);
  let r;
  try {
    r = await exportProfile({ profile, name: 'my-app', kubeletRoot });
  } finally {
    process.umask(old);
  }
  t.equal(r.path, join(kubeletRoot, 'seccomp', 'seccomp-recorder', 'my-app.json'));
  t.equal(r.localhostProfile, 'seccomp-recorder/my-app.json');
  t.equal(r.status, 'written');
  t.equal(statSync(r.path).mode & 0o777, 0o644, 'readable by the runtime even under umask 077');
  t.equal(readFileSync(r.path, 'utf8'), serializeOci(profile));
  t.doesNotThrow(() => parseOciProfile(readFileSync(r.path, 'utf8'), r.path), 'plain OCI JSON');
  t.same(readdirSync(join(kubeletRoot, 'seccomp', 'seccomp-recorder')), ['my-app.json'], 'no temp file left');
});

t.test('same profile again: unchanged; a different one: refused unless forced', async (t) => {
  const kubeletRoot = root();
  await exportProfile({ profile, name: 'app', kubeletRoot });
  t.equal((await exportProfile({ profile, name: 'app', kubeletRoot })).status, 'unchanged');
  const other = allowListProfile(['x86_64'], ['read']);
  const e = (await caught(exportProfile({ profile: other, name: 'app', kubeletRoot }))) as ProfileExistsError;
  t.type(e, ProfileExistsError);
  t.equal(e.exitCode, 1);
  t.match(e.message, /already holds a different profile; pass --force/);
  t.equal(readFileSync(e.path, 'utf8'), serializeOci(profile), 'the existing file is untouched');
  t.equal((await exportProfile({ profile: other, name: 'app', kubeletRoot, force: true })).status, 'replaced');
  t.equal(readFileSync(e.path, 'utf8'), serializeOci(other));
});

t.test('names: no "/", no "..", no absolute paths', async (t) => {
  for (const bad of ['../etc/passwd', '/etc/x', 'a/b', '..', 'a..b', '', '.hidden', 'sp ace', 'x\u0000y']) {
    t.throws(() => checkProfileName(bad), UsageError, `refuses ${JSON.stringify(bad)}`);
    const kubeletRoot = root();
    await t.rejects(exportProfile({ profile, name: bad, kubeletRoot }), UsageError);
    t.notOk(existsSync(join(kubeletRoot, 'seccomp')), 'nothing created');
  }
  t.equal(localhostProfileFor('web_v1.2-prod'), 'seccomp-recorder/web_v1.2-prod.json');
});

t.test('profiles a runtime would misread are refused', async (t) => {
  const kubeletRoot = root();
  const moby = loadBaseline(`${FIX}moby-like.json`);
  const e = (await caught(exportProfile({ profile: moby, name: 'docker', kubeletRoot }, 'moby-like.json'))) as InputError;
  t.type(e, InputError);
  t.match(e.message, /moby-like\.json: archMap: a Docker-only field/);
  const recording = { ...profile, defaultAction: { kind: 'notify' as const } };
  await t.rejects(exportProfile({ profile: recording, name: 'rec', kubeletRoot }), InputError);
  t.notOk(existsSync(join(kubeletRoot, 'seccomp')));
});

t.test('an unwritable root is an error naming the path', async (t) => {
  const kubeletRoot = root();
  writeFileSync(join(kubeletRoot, 'seccomp'), 'not a directory');
  const e = (await caught(exportProfile({ profile, name: 'app', kubeletRoot }))) as InputError;
  t.type(e, InputError);
  t.match(e.message, /seccomp/);
});
