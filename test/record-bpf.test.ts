// `record --source bpf` for real: the fixture, strace ground truth, equality
// with the notify source, the fallback of `--source auto`, and the errors a
// user sees where the bpf source cannot run.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseOciProfile } from '../src/profile/oci.js';
import type { Recording } from '../src/profile/recording.js';
import { parseRecording } from '../src/profile/recording.js';
import { bpfUnavailableReason } from '../src/record/sources.js';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';
import { asUser, cannotSwitchUser } from './helpers/as-user.js';

const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';
const noBpf = bpfUnavailableReason() ?? false;
const skip = noGcc || noBpf;
if (noBpf) t.comment(`bpf source unavailable here: ${noBpf}`);

function allowedNames(file: string): string[] {
  return parseOciProfile(readFileSync(file, 'utf8'), file).rules.flatMap((r) => r.names);
}

async function record(args: string[], cmd: string[], dir: string): Promise<{ code: number | null; stderr: string; recording: Recording; profile: string }> {
  const rec = join(dir, `r-${args.join('-').replace(/[^a-z]/g, '')}.json`);
  const out = join(dir, `p-${args.join('-').replace(/[^a-z]/g, '')}.json`);
  const r = await runCli(['record', ...args, '-o', out, '--save-recording', rec, '--', ...cmd]);
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, recording: undefined as unknown as Recording, profile: '' };
  return { code: r.code, stderr: r.stderr, recording: parseRecording(readFileSync(rec, 'utf8'), rec), profile: out };
}

// The fixture's full list is checked for every source in record.test.ts; here what is bpf's own.
t.test('the recording and the summary name the bpf source; the launcher stays out', { skip }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  const r = await record(['--source', 'bpf'], [fixture('syscalls')], dir);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.recording.source, 'bpf', 'the recording names its source');
  t.match(r.stderr, /source bpf/, 'the summary says which source recorded');
  const allowed = allowedNames(r.profile);
  for (const s of ['bpf', 'seccomp', 'close_range', 'pidfd_getfd']) t.notOk(allowed.includes(s), `profile does not allow ${s}`);
  t.equal(r.recording.observations.find((o) => o.syscall === 'execve')?.count, 2, 'execve: the command and its exec\'d child, once each');
});

t.test('the same recording as --source notify on a deterministic program (names, counts, arguments)', { skip }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  const cmd = [fixture('syscalls')];
  const b = await record(['--source', 'bpf'], cmd, dir);
  const n = await record(['--source', 'notify'], cmd, dir);
  t.equal(b.code, 0, b.stderr);
  t.equal(n.code, 0, n.stderr);
  // pthread_join waits in futex only when the thread still runs: its count is the one timing-dependent number.
  const view = (rec: Recording) => rec.observations.map((o) => ({ ...o, count: o.syscall === 'futex' ? 'any' : o.count }));
  t.same(view(b.recording), view(n.recording), 'identical observations');
  t.equal(readFileSync(b.profile, 'utf8'), readFileSync(n.profile, 'utf8'), 'byte-identical profiles');
});

const noStrace = hasCommand('strace') ? false : 'strace is not installed (apt-get install strace)';
for (const [label, cmd] of [
  ['the C fixture', () => [fixture('syscalls')]],
  ['ls -la /', () => ['ls', '-la', '/']],
  ['sh -c with a pipeline', () => ['sh', '-c', 'echo a | cat >/dev/null; true']],
] as const) {
  t.test(`recorded set equals strace -f for ${label}`, { skip: skip || noStrace }, async (t) => {
    const dir = sharedTempDir('record-bpf', t);
    const argv = cmd();
    const traced = join(dir, 'strace.txt');
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=all', '-o', traced, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    const expected = new Set<string>();
    for (const line of readFileSync(traced, 'utf8').split('\n')) {
      const m = /^\d+\s+(?:<\.\.\. ([a-z0-9_]+) resumed>|([a-z0-9_]+)\()/.exec(line);
      const name = m?.[1] ?? m?.[2];
      if (name && name !== 'restart_syscall') expected.add(name);
    }
    const r = await record(['--source', 'bpf'], [...argv], dir);
    t.equal(r.code, 0, r.stderr);
    const got = new Set(r.recording.observations.filter((o) => o.arch === 'x86_64').map((o) => o.syscall!));
    t.same([...got].sort(), [...expected].sort(), 'same syscall names');
  });
}

t.test('exit status and signals pass through', { skip }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  const e = await runCli(['record', '--source', 'bpf', '-q', '-o', join(dir, 'a.json'), '--', fixture('syscalls'), '--exit', '7']);
  t.equal(e.code, 7);
  const s = await runCli(['record', '--source', 'bpf', '-q', '-o', join(dir, 'b.json'), '--', fixture('syscalls'), '--raise', '15']);
  t.equal(s.code, 128 + 15);
  t.ok(allowedNames(join(dir, 'b.json')).includes('tgkill'), 'a profile is written for a killed command, with the call that killed it (raise: tgkill)');
});

t.test('where the kernel refuses the programs: --source bpf names why, --source auto records through notify', { skip: noGcc || (process.getuid?.() !== 0 && 'needs root') }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  // A real refusal: the recorder itself runs under a seccomp profile that fails bpf(2) with EPERM.
  const denyBpf = join(dir, 'deny-bpf.json');
  writeFileSync(denyBpf, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
  const underDeny = (args: string[]) => runCli(['run', '--profile', denyBpf, '--', process.execPath, join(process.cwd(), 'dist/cli/main.js'), ...args]);
  const out = join(dir, 'p.json');
  const bad = await underDeny(['record', '--source', 'bpf', '-o', out, '--', 'true']);
  t.equal(bad.code, 1, bad.stderr);
  t.match(bad.stderr, /^error: the bpf source cannot run here: cannot create BPF maps \(needs root, or CAP_BPF/m, 'one clear error naming what is missing');
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  t.notOk(readdirSync(dir).includes('p.json'), 'no output written');
  const auto = await underDeny(['record', '-o', out, '--', fixture('syscalls')]);
  t.equal(auto.code, 0, auto.stderr);
  t.match(auto.stderr, /source notify/, 'auto fell back to notify');
  t.ok(allowedNames(out).includes('getrusage'), 'and recorded the command');
});

const asNobody = cannotSwitchUser();
t.test('as an ordinary user: --source bpf says it needs privileges, auto uses notify', { skip: noGcc || asNobody }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  const opts = { prefix: asUser(), env: { PATH: process.env.PATH, HOME: dir } };
  const bad = await runCli(['record', '--source', 'bpf', '-o', join(dir, 'a.json'), '--', 'true'], opts);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^error: the bpf source cannot run here: .*needs root/m);
  const auto = await runCli(['record', '-o', join(dir, 'b.json'), '--', 'true'], opts);
  t.equal(auto.code, 0, auto.stderr);
  t.match(auto.stderr, /source notify/);
});

t.test('--known goes with notify: auto picks notify, --source bpf is refused', { skip }, async (t) => {
  const dir = sharedTempDir('record-bpf', t);
  const base = await record(['--source', 'bpf'], ['true'], dir);
  t.equal(base.code, 0, base.stderr);
  const r = await runCli(['record', '--known', base.profile, '-o', join(dir, 'k.json'), '--', 'true']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /source notify/);
  const refused = await runCli(['record', '--source', 'bpf', '--known', base.profile, '--', 'true']);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /^error: --known installs a filter that only the notify source uses/m);
  const unknown = await runCli(['record', '--source', 'ptrace', '--', 'true']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /--source must be one of auto, notify, bpf/);
});

t.test('doctor says whether the bpf source works here, and why not', { skip: asNobody }, async (t) => {
  const root = await runCli(['doctor', '--json']);
  const check = (text: string) => (JSON.parse(text) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'bpf source');
  const asRoot = check(root.stdout);
  t.ok(asRoot, 'a bpf source line');
  if (noBpf) t.equal(asRoot?.ok, false, `not available here: ${asRoot?.detail}`);
  else t.match(asRoot, { ok: true, detail: /programs load and attach .*cgroup v2 at \/sys\/fs\/cgroup/ });
  const dir = sharedTempDir('record-bpf', t);
  const nobody = await runCli(['doctor', '--json'], { prefix: asUser(), env: { PATH: process.env.PATH, HOME: dir } });
  t.match(check(nobody.stdout), { ok: false, detail: /needs root \(CAP_SYS_ADMIN, or CAP_BPF \+ CAP_PERFMON/ }, 'an ordinary user is told what is missing');
});
