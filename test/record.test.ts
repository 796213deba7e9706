// `record -- CMD` for real: a C fixture with a known syscall list runs under each
// recording source; the profile and the saved recording must hold exactly it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseOciProfile } from '../src/profile/oci.js';
import { parseRecording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { allCompatSkip, COMPAT_CASES } from './helpers/compat.js';
import { bpfUnavailableReason } from '../src/record/sources.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';
import { asUser, cannotSwitchUser } from './helpers/as-user.js';

const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';

function names(file: string): string[] {
  const p = parseOciProfile(readFileSync(file, 'utf8'), file);
  return p.rules.flatMap((r) => r.names);
}

// Every case runs once per source this machine has: notify always, bpf where its programs load.
const SOURCES = ['notify', ...(bpfUnavailableReason() === undefined ? ['bpf'] : [])];
if (!SOURCES.includes('bpf')) t.comment(`bpf source not available here (${bpfUnavailableReason()}): notify only`);

for (const source of SOURCES) {
  t.test(`--source ${source}`, async (t) => {
    t.test('records every syscall of the fixture, its threads, fork, vfork, exec and daemonised grandchild', { skip: noGcc }, async (t) => {
      const bin = fixture('syscalls');
      const dir = sharedTempDir('record', t);
      const out = join(dir, 'p.json');
      const rec = join(dir, 'r.json');
      const r = await runCli(['record', '--source', source, '--exact', '-o', out, '--save-recording', rec, '--', bin]);
      t.equal(r.code, 0, r.stderr);
      const allowed = names(out);
      for (const s of [
        'execve', // the target's first call, from the launcher's exec
        'flock',
        'memfd_create',
        'getrandom',
        'prctl',
        'personality',
        'sysinfo',
        'getitimer', // second thread only
        'clone3', // pthread_create
        'vfork',
        'clone', // fork()
        'umask', // exec'd child only
        'getrusage', // daemonised grandchild, 300 ms after the parent exited
        'setsid',
        'exit_group',
      ]) {
        t.ok(allowed.includes(s), `profile allows ${s}`);
      }
      for (const s of ['mount', 'ptrace', 'reboot', 'io_uring_setup', 'bpf', 'socket', 'write', 'seccomp', 'pidfd_getfd', 'close_range']) {
        t.notOk(allowed.includes(s), `profile does not allow ${s} (the fixture never calls it; the launcher's own calls stay out)`);
      }
      t.same(allowed, [...allowed].sort(), 'names are sorted');
      const recording = parseRecording(readFileSync(rec, 'utf8'), rec);
      const personality = recording.observations.find((o) => o.syscall === 'personality');
      t.same(personality?.args?.values, [['0xffffffff']], 'personality argument kept');
      t.same(recording.observations.filter((o) => o.arch === 'x86' || o.arch === 'x32'), [], 'no compat calls unless the fixture is given --compat');
      const prctl = recording.observations.find((o) => o.syscall === 'prctl');
      t.ok(prctl?.args?.values.some((v) => v[0] === '0x10'), 'prctl option PR_GET_NAME (16) kept');
      t.match(r.stderr, /distinct syscalls/, 'summary on stderr');
      t.match(r.stderr, new RegExp(`→ ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });

    async function recordCompat(source: string, flags: string[]) {
      const dir = sharedTempDir('record', t);
      const rec = join(dir, 'r.json');
      const out = join(dir, 'p.json');
      const r = await runCli(['record', '--source', source, '-q', '-o', out, '--save-recording', rec, '--', fixture('syscalls'), ...flags]);
      const recording = r.code === 0 ? parseRecording(readFileSync(rec, 'utf8'), rec) : undefined;
      const profile = r.code === 0 ? (JSON.parse(readFileSync(out, 'utf8')) as { architectures: string[] }) : undefined;
      return { r, recording, profile, compat: recording?.observations.filter((o) => o.arch !== 'x86_64').map((o) => `${o.arch}/${o.syscall}`).sort() };
    }

    for (const c of COMPAT_CASES) {
      t.test(`compat calls are recorded under their own arch, never the 64-bit name: ${c.call}`, { skip: noGcc || c.skip }, async (t) => {
        const { r, recording, profile, compat } = await recordCompat(source, [c.flag]);
        t.equal(r.code, 0, r.stderr);
        t.same(compat, [c.call], c.abi === 'i386' ? 'int 0x80 getpid is x86/getpid' : 'the x32 number is x32/getpid (whatever the kernel answered)');
        t.notOk(recording?.observations.some((o) => o.arch === 'x86_64' && o.syscall === 'getpid'), 'no x86_64 getpid');
        t.same(profile?.architectures, [c.oci, 'SCMP_ARCH_X86_64'].sort(), 'recorded arches, OCI spelling');
      });
    }

    t.test('both compat calls in one run: three arches, sorted', { skip: noGcc || allCompatSkip }, async (t) => {
      const { r, profile, compat } = await recordCompat(source, ['--compat']);
      t.equal(r.code, 0, r.stderr);
      t.same(compat, ['x32/getpid', 'x86/getpid'], 'int 0x80 getpid is x86, the x32 number is x32');
      t.same(profile?.architectures, ['SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'], 'recorded arches, OCI spelling');
    });

    t.test('the same recording gives byte-identical profiles', { skip: noGcc }, async (t) => {
      const bin = fixture('syscalls');
      const dir = sharedTempDir('record', t);
      const a = await runCli(['record', '--source', source, '-q', '--save-recording', join(dir, 'r.json'), '--', bin]);
      t.equal(a.code, 0);
      const b = await runCli(['record', '--source', source, '-q', '-o', join(dir, 'p2.json'), '--', bin]);
      t.equal(b.code, 0);
      t.equal(readFileSync(join(dir, 'p2.json'), 'utf8'), a.stdout, 'two runs of a deterministic program, same bytes');
    });

    t.test('exit status passthrough: code, and 128+N for a signal; profile still written', { skip: noGcc }, async (t) => {
      const bin = fixture('syscalls');
      const dir = sharedTempDir('record', t);
      const r1 = await runCli(['record', '--source', source, '-q', '-o', join(dir, 'a.json'), '--', bin, '--exit', '7']);
      t.equal(r1.code, 7);
      t.ok(existsSync(join(dir, 'a.json')));
      const r2 = await runCli(['record', '--source', source, '-q', '-o', join(dir, 'b.json'), '--', bin, '--raise', '15']);
      t.equal(r2.code, 128 + 15, 'SIGTERM → 143');
      t.ok(names(join(dir, 'b.json')).includes('tgkill'), 'raise() is recorded');
    });

    t.test('SIGINT to the recorder is forwarded to the command; the profile is still written', { skip: noGcc }, async (t) => {
      const bin = fixture('syscalls');
      const dir = sharedTempDir('record', t);
      const out = join(dir, 'p.json');
      let pid = 0;
      const done = runCli(['record', '--source', source, '-q', '-o', out, '--', bin, '--wait-signal'], {
        detached: true,
        onSpawn: (p) => (pid = p),
        onStdout: (d) => {
          if (d.includes('waiting')) process.kill(pid, 'SIGINT');
        },
      });
      const r = await done;
      t.match(r.stdout, /got SIGINT/, 'the command received SIGINT');
      t.equal(r.code, 42, "the command's exit status");
      const allowed = names(out);
      t.ok(allowed.includes('rt_sigsuspend') && allowed.includes('write'), 'calls up to and in the signal handler are in the profile');
    });

    t.test('a command that does not exist or cannot run fails like a shell, with no output file', async (t) => {
      const dir = sharedTempDir('record', t);
      const out = join(dir, 'p.json');
      const r = await runCli(['record', '--source', source, '-o', out, '--', '/nonexistent/cmd']);
      t.equal(r.code, 127);
      t.equal(r.stderr, 'error: cannot execute /nonexistent/cmd: no such file or directory\n');
      t.notOk(existsSync(out));
      const r2 = await runCli(['record', '--source', source, '-o', out, '--', 'no-such-command-here']);
      t.equal(r2.code, 127);
      t.match(r2.stderr, /^error: cannot execute no-such-command-here: no such file or directory\n$/);
      const plain = join(dir, 'not-executable');
      writeFileSync(plain, 'data\n', { mode: 0o644 });
      const r3 = await runCli(['record', '--source', source, '-o', out, '--', plain]);
      t.equal(r3.code, 126);
      t.equal(r3.stderr, `error: cannot execute ${plain}: permission denied\n`);
      const garbage = join(dir, 'garbage');
      writeFileSync(garbage, '\x7fELF-not-really', { mode: 0o755 });
      const r4 = await runCli(['record', '--source', source, '-o', out, '--', garbage]);
      t.equal(r4.code, 126);
      t.equal(r4.stderr, `error: cannot execute ${garbage}: exec format error\n`);
      t.same(readdirSync(dir).sort(), ['garbage', 'not-executable'], 'no profile written, not even a temp file');
    });
  });
}

const asNobody = cannotSwitchUser();
t.test('works as an ordinary user (no capabilities: no_new_privs + user-notify)', { skip: noGcc || asNobody }, async (t) => {
  const bin = fixture('syscalls');
  const dir = sharedTempDir('record', t);
  const out = join(dir, 'p.json');
  const r = await runCli(['record', '-q', '-o', out, '--', bin, '--print-nnp'], {
    prefix: asUser(),
    // tap's process tracking (NODE_OPTIONS) would write into .tap/ as nobody
    env: { PATH: process.env.PATH, HOME: dir },
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /NoNewPrivs=1/, 'the target runs with no_new_privs set');
  t.ok(names(out).includes('getrusage'), 'descendants recorded as nobody too');
});

t.test('usage errors exit 2', async (t) => {
  const r = await runCli(['record']);
  t.equal(r.code, 2);
  t.match(r.stderr, /missing required argument/);
});
