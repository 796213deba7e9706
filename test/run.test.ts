// `run --profile P -- CMD` for real: the flock fixture under a profile without
// flock sees EPERM, with flock it succeeds, and --complain lets it succeed while
// reporting flock with pid and executable; also as an ordinary user.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';
import { asUser, cannotSwitchUser } from './helpers/as-user.js';

const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';
const asNobody = cannotSwitchUser();
const NOBODY = asUser();
const CONTAINERS_DEFAULT = '/usr/share/containers/seccomp.json';

interface Profiles {
  dir: string;
  bin: string;
  withFlock: string;
  withoutFlock: string;
  killFlock: string;
}

let cached: Profiles | undefined;

/** Records the fixture once, then derives profiles from what it really calls. */
async function profiles(): Promise<Profiles> {
  if (cached) return cached;
  const bin = fixture('flock');
  const dir = sharedTempDir('run');
  const withFlock = join(dir, 'with-flock.json');
  const r = await runCli(['record', '-q', '-o', withFlock, '--', bin]);
  if (r.code !== 0) throw new Error(`record failed: ${r.stderr}`);
  const doc = JSON.parse(readFileSync(withFlock, 'utf8'));
  if (!doc.syscalls[0].names.includes('flock')) throw new Error('the recording lacks flock');
  const without = structuredClone(doc);
  without.syscalls[0].names = without.syscalls[0].names.filter((n: string) => n !== 'flock');
  const withoutFlock = join(dir, 'without-flock.json');
  writeFileSync(withoutFlock, JSON.stringify(without));
  const kill = structuredClone(without);
  kill.syscalls.push({ names: ['flock'], action: 'SCMP_ACT_KILL_PROCESS' });
  const killFlock = join(dir, 'kill-flock.json');
  writeFileSync(killFlock, JSON.stringify(kill));
  cached = { dir, bin, withFlock, withoutFlock, killFlock };
  return cached;
}

t.test('enforced: without flock the fixture sees EPERM; with flock it succeeds', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const denied = await runCli(['run', '--profile', p.withoutFlock, '--', p.bin]);
  t.equal(denied.code, 0, denied.stderr);
  t.equal(denied.stdout, 'flock: errno 1 (EPERM)\n');
  t.equal(denied.stderr, '', 'nothing to report when enforcing');
  const allowed = await runCli(['run', '--profile', p.withFlock, '--', p.bin]);
  t.equal(allowed.code, 0, allowed.stderr);
  t.equal(allowed.stdout, 'flock: ok\n');
});

t.test('complain: the fixture succeeds and flock is reported once with pid and executable', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const report = join(p.dir, 'report.json');
  const r = await runCli(['run', '--complain', '--profile', p.withoutFlock, '--report', report, '--', p.bin]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'flock: ok\n');
  const m = new RegExp(
    `^seccomp-recorder: complain mode: 1 syscall would be denied by ${p.withoutFlock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\n` +
      `  would deny: flock \\(1 call, ${p.bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, pid (\\d+)\\) → SCMP_ACT_ERRNO\\(EPERM\\)\n$`,
  ).exec(r.stderr);
  t.ok(m, `report: ${r.stderr}`);
  const doc = JSON.parse(readFileSync(report, 'utf8'));
  t.same(doc.wouldDeny.map((c: { syscall: string; exe: string; count: number; action: string }) => [c.syscall, c.exe, c.count, c.action]), [
    ['flock', p.bin, 1, 'SCMP_ACT_ERRNO(EPERM)'],
  ]);
  t.equal(doc.wouldDeny[0].pid, Number(m?.[1]));
  t.same(doc.notified, []);
  t.equal(doc.exitCode, 0);

  const clean = await runCli(['run', '--complain', '--profile', p.withFlock, '--', p.bin]);
  t.equal(clean.code, 0);
  t.equal(clean.stderr, `seccomp-recorder: complain mode: nothing ${p.withFlock} denies was called\n`, 'the launcher\'s own exec hand-over is not reported');
});

t.test('complain when the profile denies execve: the launcher\'s exec is let through and reported', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const doc = JSON.parse(readFileSync(p.withoutFlock, 'utf8'));
  doc.syscalls[0].names = doc.syscalls[0].names.filter((n: string) => n !== 'execve');
  const file = join(p.dir, 'no-exec.json');
  writeFileSync(file, JSON.stringify(doc));
  const enforced = await runCli(['run', '--profile', file, '--', p.bin]);
  t.equal(enforced.code, 126, 'enforced, the command cannot even start');
  t.equal(enforced.stderr, `error: cannot execute ${p.bin}: operation not permitted\n`);
  const r = await runCli(['run', '--complain', '--profile', file, '--', p.bin]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'flock: ok\n');
  t.match(r.stderr, /complain mode: 2 syscalls would be denied by .*:\n  would deny: execve \(1 call, .*seccomp-recorder-launcher, pid \d+\) → SCMP_ACT_ERRNO\(EPERM\)\n  would deny: flock /);
});

t.test('a profile with its own NOTIFY rules: run serves the listener and answers CONTINUE', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const file = join(p.dir, 'notify.json');
  writeFileSync(
    file,
    JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['flock'], action: 'SCMP_ACT_NOTIFY' }, { names: ['mount'], action: 'SCMP_ACT_ERRNO' }] }),
  );
  const r = await runCli(['run', '--profile', file, '--', p.bin]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'flock: ok\n');
  t.match(r.stderr, new RegExp(`sends these to a user-notify listener; run answered each with CONTINUE:\n  notified: flock \\(1 call, .*flock, pid \\d+\\) → SCMP_ACT_NOTIFY\n$`));
  t.notMatch(r.stderr, /execve/, 'the exec hand-over is not reported: the profile allows execve');
});

t.test('a killing action: enforced the process dies of SIGSYS; in complain mode it runs on', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const killed = await runCli(['run', '--profile', p.killFlock, '--', p.bin]);
  t.equal(killed.code, 128 + 31, 'SIGSYS → 159');
  t.equal(killed.stdout, '');
  const r = await runCli(['run', '--complain', '--profile', p.killFlock, '--', p.bin]);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'flock: ok\n');
  t.match(r.stderr, / → SCMP_ACT_KILL_PROCESS\n$/);
});

t.test('exit status passthrough, enforced and in complain mode', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const a = await runCli(['run', '--profile', p.withoutFlock, '--', p.bin, '--exit', '7']);
  t.equal(a.code, 7);
  t.equal(a.stdout, 'flock: errno 1 (EPERM)\n');
  const b = await runCli(['run', '-q', '--complain', '--profile', p.withoutFlock, '--', p.bin, '--exit', '9']);
  t.equal(b.code, 9);
  t.equal(b.stderr, '', '-q: no report');
});

t.test('works as an ordinary user (no_new_privs set by the launcher)', { skip: noGcc || asNobody }, async (t) => {
  const p = await profiles();
  const env = { PATH: process.env.PATH, HOME: p.dir };
  const denied = await runCli(['run', '--profile', p.withoutFlock, '--', p.bin], { prefix: NOBODY, env });
  t.equal(denied.code, 0, denied.stderr);
  t.equal(denied.stdout, 'flock: errno 1 (EPERM)\n');
  const allowed = await runCli(['run', '--profile', p.withFlock, '--', p.bin], { prefix: NOBODY, env });
  t.equal(allowed.stdout, 'flock: ok\n', allowed.stderr);
  const complain = await runCli(['run', '--complain', '--profile', p.withoutFlock, '--', p.bin], { prefix: NOBODY, env });
  t.equal(complain.code, 0, complain.stderr);
  t.equal(complain.stdout, 'flock: ok\n');
  t.match(complain.stderr, /would deny: flock \(1 call, .*flock, pid \d+\) → SCMP_ACT_ERRNO\(EPERM\)/);
});

t.test("a Docker-shaped default is resolved for this machine and enforced (containers-common's)", { skip: noGcc || (existsSync(CONTAINERS_DEFAULT) ? false : `${CONTAINERS_DEFAULT} is missing (apt-get install golang-github-containers-common)`) }, async (t) => {
  const p = await profiles();
  const r = await runCli(['run', '--profile', CONTAINERS_DEFAULT, '--', p.bin]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'flock: ok\n');
  t.match(r.stderr, /warning: .*seccomp\.json has Docker-style conditional rules; resolved for/);
});

t.test('a profile that does not compile, a missing profile, a missing command', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const bad = join(p.dir, 'eexist.json');
  writeFileSync(
    bad,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['ioctl'], action: 'SCMP_ACT_KILL', args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
      ],
    }),
  );
  const r = await runCli(['run', '--profile', bad, '--', p.bin]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '', 'the command never ran');
  t.equal(r.stderr, 'error: the profile does not compile: syscalls[1]: ioctl: seccomp_rule_add_array failed: EEXIST (run `seccomp-recorder validate` for details)\n');
  const missing = await runCli(['run', '--profile', join(p.dir, 'nope.json'), '--', p.bin]);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, `error: ${join(p.dir, 'nope.json')}: cannot read: no such file\n`);
  const noCmd = await runCli(['run', '--profile', p.withFlock, '--', '/nonexistent/cmd']);
  t.equal(noCmd.code, 127);
  t.equal(noCmd.stderr, 'error: cannot execute /nonexistent/cmd: no such file or directory\n');
  const usage = await runCli(['run', '--', p.bin]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /required option '--profile <file>' not specified/);
});

t.test('profile flags go to seccomp(2); WAIT_KILLABLE_RECV only with a listener', { skip: noGcc }, async (t) => {
  const p = await profiles();
  const doc = JSON.parse(readFileSync(p.withoutFlock, 'utf8'));
  doc.flags = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'];
  const flagged = join(p.dir, 'flagged.json');
  writeFileSync(flagged, JSON.stringify(doc));
  const r = await runCli(['run', '--profile', flagged, '--', p.bin]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'flock: errno 1 (EPERM)\n', 'enforced with the flags');
  t.equal(r.stderr, '', 'no warning: both flags were applied');
  doc.flags = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];
  writeFileSync(flagged, JSON.stringify(doc));
  const w = await runCli(['run', '--profile', flagged, '--', p.bin]);
  t.equal(w.code, 0, w.stderr);
  t.match(w.stderr, 'warning: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV cannot apply without a listener');
  const c = await runCli(['run', '--complain', '--profile', flagged, '--', p.bin]);
  t.equal(c.code, 0, c.stderr);
  t.notMatch(c.stderr, 'cannot apply', 'with a listener the flag is applied');
});
