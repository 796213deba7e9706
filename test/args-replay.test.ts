// Argument conditions for real: record a workload, generate --args strict,
// run it under that profile with `run`, and get the same output and exit
// status (the C fixture, a shell pipeline, ls, and a Python program with TCP
// and Unix sockets, a child process and pty ioctls). Then enforcement: under
// a profile recorded without them, socket(AF_PACKET), unshare(CLONE_NEWUSER)
// and an unrecorded ioctl request fail with the profile's errno while the
// recorded calls, threads and fork (clone3 answered ENOSYS) still work.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';
const python = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
const dir = sharedTempDir('args-replay');
const TIMEOUT = 120_000;

/** record -> generate --args LEVEL -> run; returns both runs and the generated profile path. */
async function replay(t: Test, name: string, command: string[], level = 'strict') {
  const rec = join(dir, `${name}.rec.json`);
  const profile = join(dir, `${name}-${level}.json`);
  const first = await runCli(['record', '-q', '--save-recording', rec, '-o', join(dir, `${name}.names.json`), '--', ...command], { timeoutMs: TIMEOUT });
  t.not(first.code, null, `record: ${first.stderr}`);
  const g = await runCli(['generate', rec, '--args', level, '-q', '-o', profile], { timeoutMs: TIMEOUT });
  t.equal(g.code, 0, `generate: ${g.stderr}`);
  const v = await runCli(['validate', '--strict', profile], { timeoutMs: TIMEOUT });
  t.equal(v.code, 0, `validate: ${v.stdout}${v.stderr}`);
  const second = await runCli(['run', '--profile', profile, '--', ...command], { timeoutMs: TIMEOUT });
  return { first, second, rec, profile };
}

t.test('replay: the syscalls fixture (threads, fork, vfork, exec) runs the same under its strict profile', { skip: noGcc }, async (t) => {
  const bin = fixture('syscalls');
  const { first, second, profile } = await replay(t, 'syscalls', [bin, '--exit', '3']);
  t.equal(first.code, 3, first.stderr);
  t.equal(second.code, first.code, second.stderr);
  t.equal(second.stdout, first.stdout);
  const doc = JSON.parse(readFileSync(profile, 'utf8'));
  t.ok(doc.syscalls.some((r: { names: string[]; args?: unknown[] }) => r.names.includes('clone') && r.args?.length), 'clone is restricted');
});

t.test('replay: a shell pipeline', async (t) => {
  const cmd = ['/bin/sh', '-c', 'printf "b\\na\\nc\\n" | sort | head -2; exit 4'];
  const { first, second } = await replay(t, 'pipeline', cmd);
  t.equal(first.code, 4, first.stderr);
  t.equal(first.stdout, 'a\nb\n');
  t.equal(second.code, 4, second.stderr);
  t.equal(second.stdout, first.stdout);
});

t.test('replay: ls -la of a fixed directory', async (t) => {
  const cmd = ['ls', '-la', '--time-style=+', FIXTURES + 'args'];
  const { first, second } = await replay(t, 'ls', cmd);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /rec-args\.json/);
  t.equal(second.code, 0, second.stderr);
  t.equal(second.stdout, first.stdout);
});

t.test('replay: Python with TCP and Unix sockets, a child and pty ioctls', { skip: python ? false : 'python3 is not installed (apt-get install python3)' }, async (t) => {
  const { first, second, profile } = await replay(t, 'python', [python!, join(FIXTURES, 'netpty.py')]);
  t.equal(first.stdout, 'tcp: ping\nunix: hello\nchild: child 0\npty: 24 80 True\n');
  t.equal(second.code, 0, second.stderr);
  t.equal(second.stdout, first.stdout);
  const doc = JSON.parse(readFileSync(profile, 'utf8'));
  const restricted = new Set(doc.syscalls.filter((r: { args?: unknown[] }) => r.args?.length).flatMap((r: { names: string[] }) => r.names));
  for (const n of ['socket', 'ioctl', 'setsockopt']) t.ok(restricted.has(n), `${n} has conditions`);
});

t.test('enforcement: unrecorded socket family, namespace flag, ioctl request and prctl option fail with the errno', { skip: noGcc }, async (t) => {
  const bin = fixture('argcalls');
  const rec = join(dir, 'argcalls.rec.json');
  const r = await runCli(['record', '-q', '--save-recording', rec, '-o', join(dir, 'argcalls.names.json'), '--', bin], { timeoutMs: TIMEOUT });
  t.equal(r.code, 0, r.stderr);
  const recorded = [
    'socket(AF_UNIX, SOCK_STREAM): ok',
    'socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC): ok',
    'unshare(CLONE_FILES): ok',
    'ioctl(FIONREAD): ok',
    'prctl(PR_GET_NAME): ok',
  ];
  const tail = ['pthread_create: ok', 'fork: ok', 'child exit 7'];
  // Unconfined, the probes succeed: what fails below fails because of the profile.
  const asRoot = process.getuid?.() === 0;
  const free = execFileSync(bin, ['--probe'], { encoding: 'utf8' });
  if (asRoot) t.match(free, /socket\(AF_PACKET, SOCK_RAW\): ok\nunshare\(CLONE_NEWUSER\): ok\nioctl\(FIOCLEX\): ok/);
  for (const [level, errno] of [['strict', 'EPERM'], ['safe', 'EPERM']] as const) {
    const profile = join(dir, `argcalls-${level}.json`);
    const g = await runCli(['generate', rec, '--no-baseline', '--args', level, '-q', '-o', profile], { timeoutMs: TIMEOUT });
    t.equal(g.code, 0, g.stderr);
    const run = await runCli(['run', '--profile', profile, '--', bin, '--probe'], { timeoutMs: TIMEOUT });
    t.equal(run.code, 0, run.stderr);
    const ioctl = level === 'strict' ? `errno 1 (${errno})` : 'ok';
    t.equal(
      run.stdout,
      [
        ...recorded,
        `socket(AF_PACKET, SOCK_RAW): errno 1 (${errno})`,
        `unshare(CLONE_NEWUSER): errno 1 (${errno})`,
        `ioctl(FIOCLEX): ${ioctl}`,
        `prctl(PR_GET_DUMPABLE): errno 1 (${errno})`,
        ...tail,
      ].join('\n') + '\n',
      `--args ${level}`,
    );
  }
  // The profile's own errno: a default of ENOSYS answers the same calls with ENOSYS.
  const doc = JSON.parse(readFileSync(join(dir, 'argcalls-strict.json'), 'utf8'));
  doc.defaultErrnoRet = 38;
  const enosys = join(dir, 'argcalls-enosys.json');
  execFileSync('sh', ['-c', `cat > ${enosys}`], { input: JSON.stringify(doc) });
  const run = await runCli(['run', '--profile', enosys, '--', bin, '--probe'], { timeoutMs: TIMEOUT });
  t.match(run.stdout, /socket\(AF_PACKET, SOCK_RAW\): errno 38 \(ENOSYS\)\nunshare\(CLONE_NEWUSER\): errno 38 \(ENOSYS\)\nioctl\(FIOCLEX\): errno 38 \(ENOSYS\)/);
  t.match(run.stdout, /pthread_create: ok\nfork: ok\nchild exit 7\n$/);
});

t.test('record --known with a generated --args profile: a call outside its conditions is new', { skip: noGcc }, async (t) => {
  const bin = fixture('argcalls');
  const rec = join(dir, 'known.rec.json');
  const r = await runCli(['record', '-q', '--save-recording', rec, '-o', join(dir, 'known.names.json'), '--', bin], { timeoutMs: TIMEOUT });
  t.equal(r.code, 0, r.stderr);
  const full = join(dir, 'known-full.json');
  const g = await runCli(['generate', rec, '--no-baseline', '--args', 'strict', '-q', '-o', full], { timeoutMs: TIMEOUT });
  t.equal(g.code, 0, g.stderr);
  // The profile answers clone3 ENOSYS beside a restricted clone: --known keeps that answer, glibc
  // retries with clone inside its conditions, so nothing is new; nor are the calls inside the
  // conditions (socket, ioctl, prctl, unshare with their recorded values).
  const covered = await runCli(['record', '--known', full, '--fail-on-new', '-o', join(dir, 'k1.json'), '--', bin], { timeoutMs: TIMEOUT });
  t.equal(covered.code, 0, covered.stderr);
  t.match(covered.stderr, 'nothing new beyond');
  // Without the AF_INET rule, socket(AF_INET, ...) falls outside the conditions: recorded as new.
  const doc = JSON.parse(readFileSync(full, 'utf8'));
  doc.syscalls = doc.syscalls.filter((s: { names: string[]; args?: { index: number; value: number }[] }) => !(s.names.includes('socket') && s.args?.some((a) => a.index === 0 && a.value === 2)));
  const narrowed = join(dir, 'known-no-inet.json');
  execFileSync('sh', ['-c', `cat > ${narrowed}`], { input: JSON.stringify(doc) });
  const outside = await runCli(['record', '--known', narrowed, '--fail-on-new', '-o', join(dir, 'k2.json'), '--', bin], { timeoutMs: TIMEOUT });
  t.equal(outside.code, 1, outside.stderr);
  t.match(outside.stderr, /new syscalls? beyond [^:]+: .*socket/);
});
