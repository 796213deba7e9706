// The built CLI: generate (from a real recording, on the installed
// containers-common default), merge, merge --check, export; exit codes and messages.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { parseOciProfile } from '../src/profile/oci.js';
import { archToken, syscallNumber } from '../src/seccomp/libseccomp.js';
import { runCli } from './helpers/cli.js';
import { containerSkipReason, findStaticBusybox, runInContainer, runtimeVersion } from './helpers/bundle.js';
import { sharedTempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const CONTAINERS_COMMON = '/usr/share/containers/seccomp.json';
const noCommon = existsSync(CONTAINERS_COMMON) ? false : `${CONTAINERS_COMMON} is not installed (Debian: golang-github-containers-common)`;
const dir = sharedTempDir('gen-cli');

t.test('integration: record a real command, generate on the containers-common default', { skip: noCommon }, async (t) => {
  const rec = join(dir, 'sh.rec.json');
  const r1 = await runCli(['record', '-q', '--save-recording', rec, '-o', join(dir, 'sh.min.json'), '--', '/bin/sh', '-c', 'ls / >/dev/null; cat /etc/hostname >/dev/null']);
  t.equal(r1.code, 0, r1.stderr);
  const out = join(dir, 'sh.json');
  const r2 = await runCli(['generate', rec, '--baseline', CONTAINERS_COMMON, '-o', out]);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stderr, /syscalls allowed from 1 recording\(s\), arch x86_64|syscalls allowed from 1 recording\(s\)/);
  t.match(r2.stderr, new RegExp(`baseline: ${CONTAINERS_COMMON}`));
  const text = readFileSync(out, 'utf8');
  const p = parseOciProfile(text, out);
  t.equal(p.defaultErrnoRet, 38, "the default's ENOSYS is kept");
  t.notOk(text.includes('includes') || text.includes('archMap'), 'plain OCI');
  const names = p.rules.flatMap((r) => r.names);
  t.ok(names.includes('execve') && names.includes('exit_group'));
  for (const n of names) {
    const ok = p.architectures.some((a) => {
      const nr = syscallNumber(archToken(a)!, n);
      return nr !== undefined && nr >= 0;
    });
    t.ok(ok, `libseccomp resolves ${n}`);
  }
  const r3 = await runCli(['generate', rec, '--baseline', CONTAINERS_COMMON, '-q']);
  t.equal(r3.stdout, text, 'same recording, same bytes');
  const v = await runCli(['validate', '--strict', '--against-baseline', CONTAINERS_COMMON, out]);
  t.equal(v.code, 0, `validate: ${v.stdout}${v.stderr}`);
});

t.test('generate without an installed default says so', async (t) => {
  const r = await runCli(['generate', `${FIX}rec-second.json`, '--no-baseline', '--args', 'off']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /baseline: none \(--no-baseline\)/);
  t.ok(parseOciProfile(r.stdout, 'stdout').rules[0].names.includes('clone3'));
});

t.test('generate on the moby-shaped baseline lists what RuntimeDefault denies', async (t) => {
  const r = await runCli(['generate', `${FIX}rec-app.json`, '--baseline', `${FIX}moby-like.json`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /this workload would fail under RuntimeDefault too: bpf, unshare/);
  t.match(r.stderr, /kept the baseline's argument conditions for: clone, personality, socket/);
  t.match(r.stderr, /socket\(domain=0x28\)/);
  t.match(r.stderr, /seen only during the runtime's start-up: getpid/);
  t.match(r.stderr, /1 syscall number\(s\) libseccomp cannot name were left out: x86_64#999/);
  const names = parseOciProfile(r.stdout, 'stdout').rules.flatMap((x) => x.names);
  t.notOk(names.includes('bpf'));
  const out = join(dir, 'moby-app.json');
  writeFileSync(out, r.stdout);
  const v = await runCli(['validate', '--strict', '--against-baseline', `${FIX}moby-like.json`, out]);
  t.equal(v.code, 0, `never looser than the baseline, says validate: ${v.stdout}${v.stderr}`);
  const beyond = await runCli(['generate', `${FIX}rec-app.json`, '--baseline', `${FIX}moby-like.json`, '--allow-beyond-default', '--caps', 'chown,CAP_SETUID']);
  t.equal(beyond.code, 0, beyond.stderr);
  t.match(beyond.stderr, /allowed beyond the runtime default \(--allow-beyond-default\): bpf, unshare/);
});

t.test('generate --format spo and pod', async (t) => {
  const spo = await runCli(['generate', `${FIX}rec-app.json`, `${FIX}rec-second.json`, '--no-baseline', '--format', 'spo', '--name', 'my-app', '--spo-version', 'v1beta1', '-q']);
  t.equal(spo.code, 0, spo.stderr);
  const doc = YAML.parse(spo.stdout);
  t.equal(doc.apiVersion, 'security-profiles-operator.x-k8s.io/v1beta1');
  t.equal(doc.metadata.name, 'my-app');
  const cov = JSON.parse(doc.metadata.annotations['seccomp-recorder/x-coverage']);
  t.equal(cov.inputs, 2);
  t.equal(cov.syscalls.read, 2);
  t.equal(cov.syscalls.futex, 1);
  const noName = await runCli(['generate', `${FIX}rec-app.json`, '--format', 'spo']);
  t.equal(noName.code, 2);
  t.match(noName.stderr, /error: --format spo needs --name/);

  const saved = join(dir, 'pod-profile.json');
  const pod = await runCli(['generate', `${FIX}rec-app.json`, '--no-baseline', '--format', 'pod', '--name', 'my-app', '--save-profile', saved]);
  t.equal(pod.code, 0, pod.stderr);
  t.same(YAML.parse(pod.stdout), { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'seccomp-recorder/my-app.json' } } });
  t.ok(parseOciProfile(readFileSync(saved, 'utf8'), saved).rules.length);
});

t.test('generate --arch and --runtime', async (t) => {
  const r = await runCli(['generate', `${FIX}rec-app.json`, `${FIX}rec-aarch64.json`, '--no-baseline', '--arch', 'x86_64,aarch64', '-q']);
  t.equal(r.code, 0, r.stderr);
  t.same(parseOciProfile(r.stdout, 'o').architectures, ['x86_64', 'aarch64']);
  const bad = await runCli(['generate', `${FIX}rec-app.json`, '--arch', 'sparc']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /error: --arch: unknown architecture "sparc"/);
  const runtime = await runCli(['generate', `${FIX}rec-app.json`, '--runtime', 'kata']);
  t.equal(runtime.code, 2);
});

t.test('generate: bad input is `error: FILE: path: what`, exit 2, nothing written', async (t) => {
  const out = join(dir, 'never.json');
  const r = await runCli(['generate', `${FIX}rec-bad.json`, '-o', out]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^error: .*rec-bad\.json: observations\[1\]\.arch: unknown architecture "sparc"/);
  t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  t.notOk(existsSync(out));
  const unknown = await runCli(['generate', `${FIX}rec-unknown-name.json`]);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /rec-unknown-name\.json: observations\[1\]\.syscall: libseccomp does not know the syscall "notasyscall"/);
  const badBase = await runCli(['generate', `${FIX}rec-app.json`, '--baseline', `${FIX}errno-mismatch.json`]);
  t.equal(badBase.code, 2);
  t.match(badBase.stderr, /errno-mismatch\.json: syscalls\[1\]\.errno: EINVAL is 22, but errnoRet says 1/);
  const profileIn = await runCli(['generate', `${FIX}moby-like.json`]);
  t.equal(profileIn.code, 2);
  t.match(profileIn.stderr, /is a profile, not a recording/);
  const missing = await runCli(['generate', join(dir, 'nope.json')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.json: cannot read: no such file/);
});

t.test('merge and merge --check', async (t) => {
  const merged = join(dir, 'merged.json');
  const m = await runCli(['merge', `${FIX}rec-app.json`, `${FIX}rec-second.json`, '-o', merged]);
  t.equal(m.code, 0, m.stderr);
  t.match(m.stderr, /merged 2 inputs/);
  t.match(m.stderr, /1\/2: .*futex/);
  t.notMatch(readFileSync(merged, 'utf8'), /coverage/);
  const ok = await runCli(['merge', '--check', merged, `${FIX}rec-second.json`]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  const prod = join(dir, 'prod.json');
  writeFileSync(prod, readFileSync(merged, 'utf8').replace('"futex",', ''));
  const fail = await runCli(['merge', '--check', prod, `${FIX}rec-second.json`, `${FIX}rec-aarch64.json`]);
  t.equal(fail.code, 1);
  t.match(fail.stdout, /lacks what .*rec-second\.json needs:\n {2}futex: not allowed/);
  t.match(fail.stdout, /architectures: aarch64/);
  const one = await runCli(['merge', '--check', prod]);
  t.equal(one.code, 2);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_SPARC'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_FOO' }] }));
  const bad = await runCli(['merge', `${FIX}rec-app.json`, broken, '-o', join(dir, 'never-merged.json')]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /error: .*broken\.json: architectures\[0\]: unknown architecture "SCMP_ARCH_SPARC"; syscalls\[0\]\.action: unknown action "SCMP_ACT_FOO"/);
  t.notOk(existsSync(join(dir, 'never-merged.json')));
});

t.test('export via the CLI', async (t) => {
  const kubeletRoot = sharedTempDir('kubelet', t);
  const profile = join(dir, 'exp.json');
  const g = await runCli(['generate', `${FIX}rec-second.json`, '--no-baseline', '-q', '-o', profile]);
  t.equal(g.code, 0, g.stderr);
  const r = await runCli(['export', profile, '--name', 'my-app', '--kubelet-root', kubeletRoot]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^localhostProfile: seccomp-recorder\/my-app\.json\n/);
  const dest = join(kubeletRoot, 'seccomp', 'seccomp-recorder', 'my-app.json');
  t.equal(statSync(dest).mode & 0o777, 0o644);
  t.equal(readFileSync(dest, 'utf8'), readFileSync(profile, 'utf8'));
  const again = await runCli(['export', profile, '--name', 'my-app', '--kubelet-root', kubeletRoot]);
  t.equal(again.code, 0);
  t.match(again.stderr, /unchanged/);
  const other = join(dir, 'other.json');
  writeFileSync(other, readFileSync(profile, 'utf8').replace('"futex",', ''));
  const clash = await runCli(['export', other, '--name', 'my-app', '--kubelet-root', kubeletRoot]);
  t.equal(clash.code, 1);
  t.match(clash.stderr, /error: .*my-app\.json already holds a different profile; pass --force/);
  const forced = await runCli(['export', other, '--name', 'my-app', '--kubelet-root', kubeletRoot, '--force']);
  t.equal(forced.code, 0, forced.stderr);
  const evil = await runCli(['export', profile, '--name', '../../etc/evil', '--kubelet-root', kubeletRoot]);
  t.equal(evil.code, 2);
  t.match(evil.stderr, /error: --name must not contain "\/"/);
});

for (const runtime of ['runc', 'crun'] as const) {
  // The base sets are measured per runtime version; another version's set may not start this one.
  const measured = readdirSync(new URL('../profiles/base/', import.meta.url)).filter((f) => f.startsWith(`${runtime}-`)).map((f) => f.slice(runtime.length + 1, -'.json'.length));
  const installed = containerSkipReason(runtime) ? undefined : runtimeVersion(runtime).version;
  const skip = containerSkipReason(runtime) ||
    (measured.includes(installed!) ? false : `${runtime} ${installed} is installed; profiles/base has ${measured.length ? measured.map((v) => `${runtime} ${v}`).join(', ') : 'no set for it'} (measure it: node scripts/measure-runtime-base.mjs --runtime ${runtime})`);
  t.test(`${runtime}: only the runtime base + a recorded busybox true profile, and the container starts`, { skip }, async (t) => {
    const rec = join(dir, `bb-true-${runtime}.rec.json`);
    const r1 = await runCli(['record', '-q', '--save-recording', rec, '-o', join(dir, 'bb.min.json'), '--', findStaticBusybox()!, 'true']);
    t.equal(r1.code, 0, r1.stderr);
    const withBase = join(dir, `bb-${runtime}.json`);
    const g = await runCli(['generate', rec, '--runtime', runtime, '-o', withBase]);
    t.equal(g.code, 0, g.stderr);
    t.match(g.stderr, new RegExp(`runtime base ${runtime} `));
    const seccomp = JSON.parse(readFileSync(withBase, 'utf8'));
    for (const noNewPrivileges of [true, false]) {
      const run = await runInContainer(runtime, { args: ['/bin/true'], seccomp, noNewPrivileges });
      t.equal(run.timedOut, false);
      t.equal(run.code, 0, `starts and exits 0 with no_new_privs ${noNewPrivileges}: ${run.stderr}`);
    }
    // Control: the workload's own profile alone is not enough for the runtime.
    const without = join(dir, `bb-${runtime}-nobase.json`);
    const g0 = await runCli(['generate', rec, '--runtime', 'none', '-q', '-o', without]);
    t.equal(g0.code, 0, g0.stderr);
    const bare = await runInContainer(runtime, { args: ['/bin/true'], seccomp: JSON.parse(readFileSync(without, 'utf8')), noNewPrivileges: false });
    t.not(bare.code, 0, 'without the runtime base the container does not start');
  });
}
