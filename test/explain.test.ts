// explain: counts against the runtime default, risky syscalls with reasons,
// conditions that defuse them, runtime start-up calls; the CLI's text and JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DOCKER_DEFAULT_CAPS, loadBaseline, resolveBaseline } from '../src/profile/baseline.js';
import { explainProfile, formatExplanation } from '../src/profile/explain.js';
import { generateProfile } from '../src/profile/generate.js';
import type { Profile } from '../src/profile/model.js';
import { allowListProfile } from '../src/profile/model.js';
import { parseRecording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { sharedTempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const recFile = `${FIX}rec-app.json`;
const recording = parseRecording(readFileSync(recFile, 'utf8'), recFile);
const moby = loadBaseline(`${FIX}moby-like.json`);
const mobyResolved = resolveBaseline(moby, { arches: ['x86_64'], caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18' });
const generated = (allowBeyondDefault = false) =>
  generateProfile({ recordings: [{ file: recFile, recording }], baseline: moby, caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18', allowBeyondDefault }).profile;

t.test('a generated profile on the default: conditions defuse clone and personality', async (t) => {
  const ex = explainProfile(generated(), { baseline: mobyResolved });
  t.same(ex.risky, [], 'nothing risky kept');
  t.same(ex.restricted.map((r) => r.syscall), ['clone', 'personality']);
  t.match(ex.restricted[0].reason, /without namespace flags/);
  t.same(ex.baseline?.beyondBaseline, []);
  t.equal(ex.baseline?.alsoAllowedByBaseline, ex.allowed.length);
  t.same(ex.conditional, ['clone', 'personality', 'socket']);
});

t.test('counts: N of M allowed by RuntimeDefault, beyond it, looser than it', async (t) => {
  const ex = explainProfile(generated(true), { baseline: mobyResolved });
  // moby-like allows (for x86_64, Docker caps, 6.18): 16 plain + ptrace, socket, personality, arch_prctl, modify_ldt, chroot, clone.
  t.equal(ex.baseline?.allowedCount, 23);
  t.same(ex.baseline?.beyondBaseline, ['bpf', 'unshare']);
  t.equal(ex.baseline?.alsoAllowedByBaseline, ex.allowed.length - 2);
  const text = formatExplanation(ex, { file: 'app.json', baselineLabel: 'moby-like' });
  t.match(text, /^app\.json: 13 syscalls allowed, for x86_64\n/);
  t.match(text, /11 of 23 allowed by RuntimeDefault are allowed here/);
  t.match(text, /allowed here but denied by RuntimeDefault: bpf, unshare/);
  t.match(text, /risky syscalls allowed \(2\):\n {2}bpf +loads programs into the kernel/);

  const loose = explainProfile(allowListProfile(['x86_64'], ['read', 'socket', 'clone']), { baseline: mobyResolved });
  t.same(loose.baseline?.looserThanBaseline, ['clone', 'socket'], 'the default only allows them under conditions');
  t.same(loose.risky.map((r) => r.syscall), ['clone'], 'plain clone can create namespaces');
});

t.test('every syscall the issue names is flagged with a reason', async (t) => {
  const names = ['unshare', 'mount', 'ptrace', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key', 'io_uring_setup', 'kexec_load', 'init_module', 'finit_module', 'open_by_handle_at', 'setns', 'clone', 'read'];
  const ex = explainProfile(allowListProfile(['x86_64'], names));
  t.same(ex.risky.map((r) => r.syscall).sort(), names.filter((n) => n !== 'read').sort());
  for (const r of ex.risky) t.ok(r.reason.length > 10, `${r.syscall}: ${r.reason}`);
  t.match(ex.risky.find((r) => r.syscall === 'unshare')?.reason, /CVE-2022-0185/);
  t.equal(ex.baseline, undefined, 'no baseline given, no comparison');
});

t.test('a deny-list profile: every dangerous syscall it does not deny', async (t) => {
  const denyList: Profile = {
    defaultAction: { kind: 'allow' },
    architectures: ['x86_64'],
    rules: [{ names: ['bpf', 'mount', 'unshare'], action: { kind: 'errno', ret: 1 }, args: [] }],
    flags: [],
  };
  const ex = explainProfile(denyList);
  t.equal(ex.denyList, true);
  const risky = ex.risky.map((r) => r.syscall);
  t.notOk(risky.includes('bpf') || risky.includes('mount') || risky.includes('unshare'));
  t.ok(risky.includes('ptrace') && risky.includes('keyctl') && risky.includes('setns'));
  t.ok(risky.includes('uselib') && risky.includes('umount2'));
  t.notOk(risky.includes('umount'), 'x86_64 has only umount2');
  const arm = explainProfile({ ...denyList, architectures: ['aarch64'] }).risky.map((r) => r.syscall);
  t.notOk(arm.includes('uselib') || arm.includes('umount'), 'names aarch64 does not have are skipped');
  t.ok(arm.includes('ptrace'));
  t.match(formatExplanation(ex, { file: 'd.json', baselineLabel: 'none' }), /a deny-list \(everything not listed is allowed\)/);
});

t.test("recordings: syscalls only the runtime's start-up made", async (t) => {
  const ex = explainProfile(generated(), { recordings: [{ file: recFile, recording }] });
  t.same(ex.runtimeOnly, [{ file: recFile, names: ['getpid'] }]);
});

t.test('the CLI: text, JSON, bad input', async (t) => {
  const gen = await runCli(['generate', recFile, '--baseline', `${FIX}moby-like.json`, '--allow-beyond-default', '--exact', '-q']);
  t.equal(gen.code, 0, gen.stderr);
  const profile = join(sharedTempDir('explain', t), 'app.json');
  writeFileSync(profile, gen.stdout);
  const r = await runCli(['explain', profile, '--baseline', `${FIX}moby-like.json`, '--kernel', '6.18', '--recording', recFile]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /11 of 23 allowed by RuntimeDefault are allowed here/);
  t.match(r.stdout, /unshare +creates namespaces/);
  t.match(r.stdout, /seen only during the runtime's start-up in .*rec-app\.json: getpid/);
  const j = await runCli(['explain', profile, '--no-baseline', '--json']);
  t.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  t.equal(doc.baseline, null);
  t.same(doc.risky.map((x: { syscall: string }) => x.syscall), ['bpf', 'unshare']);
  const docker = await runCli(['explain', `${FIX}moby-like.json`, '--no-baseline']);
  t.equal(docker.code, 0, 'a Docker-shaped profile is resolved, as validate and diff resolve it');
  t.match(docker.stdout, /note: Docker-shaped includes\/excludes resolved for /);
  const notRec = await runCli(['explain', profile, '--recording', profile]);
  t.equal(notRec.code, 2);
  t.match(notRec.stderr, /--recording expects a saved recording/);
});
