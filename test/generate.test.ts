// generateProfile: baseline rules kept per recorded syscall, denials listed,
// runtime base, multi-arch name checks, every output format, determinism.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { InputError, UsageError } from '../src/errors.js';
import { DOCKER_DEFAULT_CAPS, loadBaseline, rulesFor } from '../src/profile/baseline.js';
import type { GenerateOptions, RecordingInput } from '../src/profile/generate.js';
import { generateProfile, groupRules } from '../src/profile/generate.js';
import { checkSuperset } from '../src/profile/merge.js';
import { nameExistence } from '../src/seccomp/syscall-exists.js';
import { parseOciProfile, serializeOci } from '../src/profile/oci.js';
import { localhostProfileFor, podSnippet } from '../src/profile/pod.js';
import { parseRecording } from '../src/profile/recording.js';
import type { RuntimeBase } from '../src/profile/runtime-base.js';
import { chooseRuntimeBase, DEFAULT_BASE_DIR, listRuntimeBases, parseRuntimeBase, serializeRuntimeBase } from '../src/profile/runtime-base.js';
import { parseYamlDocument, profileFromSpoObject, serializeSpo } from '../src/profile/spo.js';
import { tempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const rec = (name: string): RecordingInput => {
  const file = `${FIX}${name}`;
  return { file, recording: parseRecording(readFileSync(file, 'utf8'), file) };
};
const moby = loadBaseline(`${FIX}moby-like.json`);
const base = (over: Partial<GenerateOptions> = {}): GenerateOptions => ({
  recordings: [rec('rec-app.json')],
  baseline: moby,
  caps: [...DOCKER_DEFAULT_CAPS],
  kernel: '6.18',
  ...over,
});

t.test('without a baseline every named recorded syscall is allowed', async (t) => {
  const { profile, report } = generateProfile(base({ baseline: undefined }));
  t.equal(report.hasBaseline, false);
  t.same(profile.defaultAction, { kind: 'errno' });
  t.equal(profile.defaultErrnoRet, 1);
  t.same(profile.architectures, ['x86_64']);
  t.equal(profile.rules.length, 1);
  t.same(profile.rules[0].names, ['bpf', 'brk', 'clone', 'close', 'execve', 'exit_group', 'getpid', 'openat', 'personality', 'read', 'socket', 'unshare', 'write']);
  t.same(report.unnamed, [{ arch: 'x86_64', nr: 999, count: 1 }], 'unnamed numbers reported, not written');
  t.same(report.runtimeOnly, ['getpid']);
});

t.test("with a moby-shaped baseline: the default's rules per syscall, denials listed", async (t) => {
  const { profile, report } = generateProfile(base());
  t.equal(report.hasBaseline, true);
  t.same(report.deniedByBaseline, ['bpf', 'unshare'], 'no CAP_BPF / CAP_SYS_ADMIN in the Docker set');
  t.same(report.allowedBeyondDefault, []);
  t.notOk(profile.rules.some((r) => r.names.includes('bpf') || r.names.includes('unshare')), 'left out');
  t.same(report.conditional, ['clone', 'personality', 'socket']);
  t.match(rulesFor(profile, 'clone'), [{ action: { kind: 'allow' }, args: [{ index: 0, op: 'masked-eq', value: 0x7e020000n, valueTwo: 0n }] }]);
  t.equal(rulesFor(profile, 'personality').length, 2, 'both personality conditions survive');
  t.match(rulesFor(profile, 'socket'), [{ args: [{ index: 0, op: 'ne', value: 40n }] }]);
  t.same(report.deniedArgs, [{ syscall: 'socket', arch: 'x86_64', args: 'domain=0x28' }], 'AF_VSOCK fails under the default too');
  t.notOk(rulesFor(profile, 'getpid').length === 0, 'runtime-only calls are still allowed');
  t.same(profile.defaultAction, { kind: 'errno' });
  t.equal(profile.defaultErrnoRet, 1);
});

t.test("clone3 answered ENOSYS by the baseline beside an allowed clone is covered by glibc's retry: kept, not denied, and clone allowed for the retry", async (t) => {
  const recording = rec('rec-second.json');
  t.notOk(recording.recording.observations.some((o) => o.syscall === 'clone'), 'the recording has clone3 but no clone');
  const { profile, report } = generateProfile(base({ recordings: [recording] }));
  t.same(report.deniedByBaseline, [], 'not "would fail under RuntimeDefault"');
  t.same(report.servedByRetry, [{ syscall: 'clone3', via: 'clone' }]);
  t.match(rulesFor(profile, 'clone3'), [{ action: { kind: 'errno', ret: 38 }, args: [] }]);
  t.same(
    rulesFor(profile, 'clone').map((r) => r.args),
    [[{ index: 0, op: 'masked-eq', value: 2114060288n, valueTwo: 0n }]],
    "clone with the baseline's conditions, though not recorded: the retry needs it",
  );
  t.same(checkSuperset(profile, { file: recording.file, kind: 'recording', recording: recording.recording }).missing, [], 'merge --check agrees: covered');
  const beyond = generateProfile(base({ recordings: [recording], allowBeyondDefault: true }));
  t.same(beyond.report.allowedBeyondDefault, [], '--allow-beyond-default does not open clone3: it is covered');
  t.match(rulesFor(beyond.profile, 'clone3'), [{ action: { kind: 'errno', ret: 38 }, args: [] }]);
});

t.test("a baseline whose default answers ENOSYS covers clone3 too; a canary writes that answer out", async (t) => {
  const enosysDefault = loadBaseline(`${FIX}containers-like.json`);
  const plain = generateProfile(base({ recordings: [rec('rec-second.json')], baseline: enosysDefault }));
  t.same(plain.report.servedByRetry, [{ syscall: 'clone3', via: 'clone' }]);
  t.same(rulesFor(plain.profile, 'clone3'), [], 'the default (ENOSYS) answers it');
  t.equal(plain.profile.defaultErrnoRet, 38);
  const canary = generateProfile(base({ recordings: [rec('rec-second.json')], baseline: enosysDefault, unrecorded: 'log' }));
  t.same(canary.profile.defaultAction, { kind: 'log' });
  t.match(rulesFor(canary.profile, 'clone3'), [{ action: { kind: 'errno', ret: 38 }, args: [] }], 'a logging default would let clone3 run: the answer is explicit');
});

t.test('--allow-beyond-default allows what the default denies, and says so', async (t) => {
  const { profile, report } = generateProfile(base({ allowBeyondDefault: true }));
  t.same(report.allowedBeyondDefault, ['bpf', 'unshare']);
  t.match(rulesFor(profile, 'bpf'), [{ action: { kind: 'allow' }, args: [] }]);
  t.match(rulesFor(profile, 'unshare'), [{ action: { kind: 'allow' }, args: [] }]);
});

t.test('more capabilities widen what the baseline allows', async (t) => {
  const { profile, report } = generateProfile(base({ caps: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_BPF'] }));
  t.same(report.deniedByBaseline, []);
  t.same(rulesFor(profile, 'clone').map((r) => r.args.length), [0], 'plain clone with CAP_SYS_ADMIN');
});

t.test('same input, same bytes; input order does not matter', async (t) => {
  const two = [rec('rec-app.json'), rec('rec-second.json')];
  const a = serializeOci(generateProfile(base({ recordings: two })).profile);
  const b = serializeOci(generateProfile(base({ recordings: two })).profile);
  const c = serializeOci(generateProfile(base({ recordings: [...two].reverse() })).profile);
  t.equal(a, b);
  t.equal(a, c);
  t.matchSnapshot(a, 'rec-app + rec-second on the moby-shaped baseline');
  const again = parseOciProfile(a, 'generated');
  t.equal(serializeOci(again), a, 'round-trips through the OCI parser unchanged');
});

t.test('a deny-list baseline: denied names left out, the rest allowed under an EPERM default', async (t) => {
  const denyList = { defaultAction: { kind: 'allow' as const }, architectures: [], rules: [{ names: ['bpf'], action: { kind: 'errno' as const, ret: 1 }, args: [] }], flags: [] };
  const { profile, report } = generateProfile(base({ baseline: denyList }));
  t.same(profile.defaultAction, { kind: 'errno' });
  t.equal(profile.defaultErrnoRet, 1);
  t.same(report.deniedByBaseline, ['bpf']);
  t.ok(profile.rules[0].names.includes('unshare'), 'not denied by the deny-list, so allowed');
  t.equal(rulesFor(profile, 'bpf').length, 0, 'its denial equals the default and is not repeated');
});

t.test('coverage counts recordings per syscall', async (t) => {
  const { report } = generateProfile(base({ recordings: [rec('rec-app.json'), rec('rec-second.json')] }));
  t.equal(report.coverage.read, 2);
  t.equal(report.coverage.futex, 1);
  t.equal(report.coverage.socket, 1);
});

t.test('multi-arch: asked arches first, names checked per arch with libseccomp', async (t) => {
  const { profile } = generateProfile(base({ recordings: [rec('rec-app.json'), rec('rec-aarch64.json')], arches: ['x86_64', 'aarch64'] }));
  t.same(profile.architectures, ['x86_64', 'aarch64']);
  t.equal(nameExistence('open', ['aarch64']), 'none');
  t.equal(nameExistence('open', ['aarch64', 'x86_64']), 'some');
  t.equal(nameExistence('notasyscall', ['x86_64']), 'unknown');
  const withX86 = generateProfile(base({ baseline: undefined, arches: ['x86'] }));
  t.same(withX86.profile.architectures, ['x86', 'x86_64'], 'compat arches only when asked for or recorded');
});

t.test('a name that exists nowhere is an error naming the file and field', async (t) => {
  const e1 = t.throws(() => generateProfile(base({ recordings: [rec('rec-unknown-name.json')] }))) as InputError;
  t.type(e1, InputError);
  t.match(e1.message, /rec-unknown-name\.json: observations\[1\]\.syscall: libseccomp does not know the syscall "notasyscall"/);
  const e2 = t.throws(() => generateProfile(base({ baseline: undefined, recordings: [rec('rec-absent-on-arch.json')] }))) as InputError;
  t.match(e2.message, /observations\[1\]\.syscall: "open" exists on none of aarch64/);
  t.doesNotThrow(() => generateProfile(base({ baseline: undefined, recordings: [rec('rec-absent-on-arch.json')], arches: ['x86_64'] })), 'fine once an arch has it');
  t.throws(() => generateProfile(base({ arches: ['sparc'] })), UsageError);
});

t.test('runtime base names join the profile through the baseline', async (t) => {
  const runtimeBase = { label: 'runc 1.1.5', syscalls: { x86_64: ['prctl', 'getpid', 'close'], aarch64: ['setns'] } };
  const { profile, report } = generateProfile(base({ runtimeBase }));
  t.same(report.fromRuntimeBase, ['prctl'], 'getpid and close were recorded anyway; aarch64 is not a target');
  t.equal(rulesFor(profile, 'prctl').length, 0, 'prctl is not in the moby-shaped baseline: denied');
  t.same(report.deniedByBaseline, ['bpf', 'prctl', 'unshare']);
  const plain = generateProfile(base({ baseline: undefined, runtimeBase }));
  t.ok(plain.profile.rules[0].names.includes('prctl'));
});

t.test('groupRules merges rules with equal action and conditions, canonical order', async (t) => {
  const g = groupRules([
    { names: ['b'], action: { kind: 'errno', ret: 1 }, args: [] },
    { names: ['z'], action: { kind: 'allow' }, args: [] },
    { names: ['a'], action: { kind: 'errno', ret: 1 }, args: [] },
    { names: ['c'], action: { kind: 'allow' }, args: [] },
  ]);
  t.same(g.map((r) => r.names), [['c', 'z'], ['a', 'b']]);
});

t.test('formats: SPO v1 and v1beta1, Pod snippet', async (t) => {
  const { profile } = generateProfile(base());
  const yaml = serializeSpo(profile, { name: 'my-app', version: 'v1beta1', annotations: { 'seccomp-recorder/x-coverage': '{"inputs":2}' } });
  const doc = parseYamlDocument(yaml, 'spo') as Record<string, any>;
  t.equal(doc.apiVersion, 'security-profiles-operator.x-k8s.io/v1beta1');
  t.equal(doc.kind, 'SeccompProfile');
  t.equal(doc.metadata.name, 'my-app');
  t.equal(doc.metadata.annotations['seccomp-recorder/x-coverage'], '{"inputs":2}');
  const back = profileFromSpoObject(doc, 'spo');
  t.equal(serializeOci(back.profile), serializeOci(profile), 'the SPO spec is the same profile');
  t.matchSnapshot(yaml, 'SPO v1beta1');

  const pod = YAML.parse(podSnippet('my-app'));
  t.same(pod, { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'seccomp-recorder/my-app.json' } } });
  t.equal(localhostProfileFor('my-app.json'), 'seccomp-recorder/my-app.json');
});

t.test('generated from the real containers-common default', { skip: readable('/usr/share/containers/seccomp.json') }, async (t) => {
  const cc = loadBaseline('/usr/share/containers/seccomp.json');
  const { profile, report } = generateProfile(base({ baseline: cc }));
  t.equal(profile.defaultErrnoRet, 38, 'keeps the ENOSYS default');
  t.same(report.deniedByBaseline, ['bpf'], 'containers-common allows unshare, denies bpf without CAP_SYS_ADMIN');
  const personas = rulesFor(profile, 'personality').map((r) => r.args[0].value).sort((a, b) => (a < b ? -1 : 1));
  t.same(personas, [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn], 'the five personality conditions survive');
});

const fakeBase = (version: string, names: string[]): RuntimeBase => ({
  kind: 'seccomp-recorder/runtime-base',
  version: 1,
  runtime: 'runc',
  runtimeVersion: version,
  provenance: { tool: 't', runtimeVersionText: `runc version ${version}`, kernel: '6.18', arch: 'x86_64', libseccomp: '2.5.4', date: '2026-01-01', command: ['/bin/true'] },
  measurements: [{ noNewPrivileges: true, runs: 1, syscalls: { x86_64: names } }],
  syscalls: { x86_64: names },
});

t.test('runtime base sets: exact version, else the nearest with a warning', async (t) => {
  const dir = tempDir('bases', t);
  writeFileSync(join(dir, 'runc-1.1.5.json'), serializeRuntimeBase(fakeBase('1.1.5', ['read'])));
  writeFileSync(join(dir, 'runc-1.2.0.json'), serializeRuntimeBase(fakeBase('1.2.0', ['write'])));
  writeFileSync(join(dir, 'crun-1.8.1.json'), '{}');
  t.same(listRuntimeBases('runc', dir).map((x) => x.version), ['1.1.5', '1.2.0']);
  const exact = chooseRuntimeBase('runc', '1.1.5', dir);
  t.equal(exact.exact, true);
  t.equal(exact.warning, undefined);
  const between = chooseRuntimeBase('runc', '1.1.12', dir);
  t.equal(between.base.runtimeVersion, '1.1.5', 'the newest not above');
  t.match(between.warning, /no base set measured for runc 1\.1\.12; using the nearest, runc 1\.1\.5/);
  t.equal(chooseRuntimeBase('runc', '1.0.0', dir).base.runtimeVersion, '1.1.5', 'the oldest when all are above');
  t.match(chooseRuntimeBase('runc', undefined, dir).warning, /version unknown; using the newest measured base set, runc 1\.2\.0/);
  const bad = t.throws(() => chooseRuntimeBase('crun', '1.8.1', dir)) as InputError;
  t.match(bad.message, /crun-1\.8\.1\.json: kind: expected "seccomp-recorder\/runtime-base"/);
  t.throws(() => chooseRuntimeBase('runc', '1.1.5', join(dir, 'none')), InputError);
});

t.test('the shipped base sets parse and hold the runtimes\' exec', async (t) => {
  const files = readdirSync(DEFAULT_BASE_DIR).filter((f) => f.endsWith('.json'));
  t.ok(files.some((f) => f.startsWith('runc-')), 'a measured runc set');
  t.ok(files.some((f) => f.startsWith('crun-')), 'a measured crun set');
  for (const f of files) {
    const b = parseRuntimeBase(readFileSync(join(DEFAULT_BASE_DIR, f), 'utf8'), f);
    t.equal(f, `${b.runtime}-${b.runtimeVersion}.json`);
    t.ok(b.syscalls[b.provenance.arch]?.includes('execve'), `${f}: execve ends the runtime's part`);
    t.ok(b.measurements.some((m) => m.noNewPrivileges) && b.measurements.some((m) => !m.noNewPrivileges), `${f}: both no_new_privs settings measured`);
  }
});

function readable(path: string): string | false {
  try {
    readFileSync(path);
    return false;
  } catch {
    return `${path} not installed (Debian: golang-github-containers-common)`;
  }
}
