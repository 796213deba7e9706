// merge: union of recordings and profiles with coverage; --check superset logic.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { InputError } from '../src/errors.js';
import { DOCKER_DEFAULT_CAPS, loadBaseline, rulesFor } from '../src/profile/baseline.js';
import { generateProfile } from '../src/profile/generate.js';
import type { LoadedInput } from '../src/profile/merge.js';
import { checkSuperset, loadInputFile, mergeInputs } from '../src/profile/merge.js';
import type { Profile } from '../src/profile/model.js';
import { allowListProfile } from '../src/profile/model.js';
import { serializeOci } from '../src/profile/oci.js';
import { tempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const dir = tempDir('merge-test');
const asInput = (profile: Profile, file = 'p.json'): LoadedInput => ({ file, kind: 'profile', profile });
const writeProfile = (name: string, p: Profile) => {
  const f = join(dir, name);
  writeFileSync(f, serializeOci(p));
  return f;
};

t.test('loadInputFile tells recordings from profiles (OCI JSON and SPO YAML)', async (t) => {
  t.equal(loadInputFile(`${FIX}rec-app.json`).kind, 'recording');
  t.equal(loadInputFile(writeProfile('a.json', allowListProfile(['x86_64'], ['read']))).kind, 'profile');
  const spo = join(dir, 'spo.yaml');
  writeFileSync(spo, 'apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: x}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n    - names: [read]\n      action: SCMP_ACT_ALLOW\n');
  t.equal(loadInputFile(spo).kind, 'profile');
  const bad = t.throws(() => loadInputFile(`${FIX}rec-bad.json`)) as InputError;
  t.type(bad, InputError);
  t.match(bad.message, /rec-bad\.json: .*observations\[1\]\.arch: unknown architecture "sparc"/);
  t.match(bad.message, /observations\[1\]\.count: expected a count, got -1/);
});

t.test('union of recordings with per-syscall coverage', async (t) => {
  const r = mergeInputs([loadInputFile(`${FIX}rec-app.json`), loadInputFile(`${FIX}rec-second.json`), loadInputFile(`${FIX}rec-aarch64.json`)]);
  t.equal(r.inputs, 3);
  t.same(r.profile.architectures, ['x86_64', 'aarch64']);
  t.equal(r.coverage.read, 3);
  t.equal(r.coverage.futex, 1);
  t.equal(r.coverage.clone3, 1);
  t.equal(r.profile.rules.length, 1);
  t.ok(r.profile.rules[0].names.includes('futex'));
  t.notMatch(serializeOci(r.profile), /coverage/, 'coverage never goes inside the OCI JSON');
  const again = mergeInputs([loadInputFile(`${FIX}rec-aarch64.json`), loadInputFile(`${FIX}rec-second.json`), loadInputFile(`${FIX}rec-app.json`)]);
  t.same(again.profile.rules, r.profile.rules, 'rules do not depend on input order');
});

t.test('union of profiles: an unconditional allow wins, conditional ones are kept side by side', async (t) => {
  const moby = loadBaseline(`${FIX}moby-like.json`);
  const rec = loadInputFile(`${FIX}rec-app.json`);
  if (rec.kind !== 'recording') throw new Error('fixture');
  const generated = generateProfile({ recordings: [{ file: 'r', recording: rec.recording }], baseline: moby, caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18' }).profile;
  const plainSocket = allowListProfile(['x86_64'], ['socket', 'read']);
  const m1 = mergeInputs([asInput(generated), asInput(plainSocket)]);
  t.same(rulesFor(m1.profile, 'socket').map((r) => r.args.length), [0], 'plain socket from the second input');
  t.same(rulesFor(m1.profile, 'personality').map((r) => r.args.length), [1, 1], 'conditional personality kept');
  t.equal(m1.coverage.socket, 2);
  t.equal(m1.coverage.personality, 1);
  const self = mergeInputs([asInput(generated), asInput(generated)]);
  t.equal(serializeOci(self.profile), serializeOci(generated), 'merging a profile with itself changes nothing');
});

t.test('inputs merge refuses, with the reason', async (t) => {
  const denyList: Profile = { defaultAction: { kind: 'allow' }, architectures: [], rules: [{ names: ['bpf'], action: { kind: 'errno' }, args: [] }], flags: [] };
  const e = t.throws(() => mergeInputs([asInput(denyList, 'deny.json')])) as InputError;
  t.match(e.message, /deny\.json: defaultAction: SCMP_ACT_ALLOW makes a deny-list/);
  const e2 = t.throws(() => mergeInputs([asInput(loadBaseline(`${FIX}moby-like.json`), 'moby.json')])) as InputError;
  t.match(e2.message, /moby\.json: archMap: a Docker-only field/);
});

t.test('different default actions: the first wins, with a warning', async (t) => {
  const a = allowListProfile(['x86_64'], ['read']);
  const b = { ...allowListProfile(['x86_64'], ['write']), defaultErrnoRet: 38 };
  const r = mergeInputs([asInput(a, 'a.json'), asInput(b, 'b.json')]);
  t.equal(r.profile.defaultErrnoRet, 1);
  t.match(r.warnings.join('\n'), /b\.json: its default action differs/);
});

t.test('--check: superset of a recording', async (t) => {
  const prod = allowListProfile(['x86_64'], ['close', 'execve', 'exit_group', 'read', 'write']);
  const second = loadInputFile(`${FIX}rec-second.json`);
  const r = checkSuperset(prod, second);
  t.equal(r.ok, false);
  t.same(r.missing.map((m) => m.syscall), ['clone3', 'futex']);
  t.same(r.missingArches, []);
  const arm = checkSuperset(prod, loadInputFile(`${FIX}rec-aarch64.json`));
  t.same(arm.missingArches, ['aarch64']);
  const full = allowListProfile(['x86_64'], ['clone3', 'close', 'execve', 'exit_group', 'futex', 'read', 'write']);
  t.equal(checkSuperset(full, second).ok, true);
  // clone3 answered ENOSYS beside an allowed clone (generate's shape when clone has conditions): glibc falls back.
  const fallback = allowListProfile(['x86_64'], ['clone', 'close', 'execve', 'exit_group', 'futex', 'read', 'write']);
  fallback.rules.push({ names: ['clone3'], action: { kind: 'errno', ret: 38 }, args: [] });
  t.equal(checkSuperset(fallback, second).ok, true, 'a recorded clone3 is covered by the ENOSYS fallback to clone');
  const noClone = allowListProfile(['x86_64'], ['close', 'execve', 'exit_group', 'futex', 'read', 'write']);
  noClone.rules.push({ names: ['clone3'], action: { kind: 'errno', ret: 38 }, args: [] });
  t.same(checkSuperset(noClone, second).missing.map((m) => m.syscall), ['clone3'], 'not when clone itself is denied');
  const eperm = allowListProfile(['x86_64'], ['clone', 'close', 'execve', 'exit_group', 'futex', 'read', 'write']);
  eperm.rules.push({ names: ['clone3'], action: { kind: 'errno', ret: 1 }, args: [] });
  t.same(checkSuperset(eperm, second).missing.map((m) => m.syscall), ['clone3'], 'not when clone3 gets EPERM (no fallback)');
});

t.test('--check: argument conditions against recorded values and other profiles', async (t) => {
  const moby = loadBaseline(`${FIX}moby-like.json`);
  const rec = loadInputFile(`${FIX}rec-app.json`);
  if (rec.kind !== 'recording') throw new Error('fixture');
  const prod = generateProfile({ recordings: [{ file: 'r', recording: rec.recording }], baseline: moby, caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18' }).profile;
  const r = checkSuperset(prod, rec);
  const why = Object.fromEntries(r.missing.map((m) => [m.syscall, m.why]));
  t.equal(why.socket, 'denied for recorded domain=0x28', 'the AF_VSOCK call is refused by the condition');
  t.equal(why.bpf, 'not allowed');
  t.equal(why.unshare, 'not allowed');
  t.notOk(why.personality, 'persona 0 passes');
  t.notOk(why.clone, 'fork-like clone flags pass the mask');

  const plain = allowListProfile(['x86_64'], ['socket']);
  const c1 = checkSuperset(prod, asInput(plain));
  t.match(c1.missing, [{ syscall: 'socket', why: /allowed only when arg0 ne 0x28/ }]);
  t.equal(checkSuperset(plain, asInput(prod)).missing.some((m) => m.syscall === 'socket'), false, 'plain socket covers a conditional one');
  t.equal(checkSuperset(prod, asInput(prod)).ok, true, 'a profile covers itself');
});
