// The audit source against the real kernel: programs and a runc container run
// under SCMP_ACT_LOG; their records are read live from a private auditd's log
// (followed across a rotation), then from /dev/kmsg with no auditd; loss is
// provoked twice (a one-record backlog flooded under auditd, the printk rate
// limit without it) and must be reported. Every audit and printk setting
// changed here is restored, and the auditd started here is stopped.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { ociObject } from '../src/profile/oci.js';
import { parseRecording } from '../src/profile/recording.js';
import { logRecordingProfile } from '../src/record/audit/log-profile.js';
import type { AuditObservation, AuditSourceOptions } from '../src/record/audit/source.js';
import { AuditSource } from '../src/record/audit/source.js';
import { LAUNCHER_PATH } from '../src/record/native.js';
import { runAnnotated } from './helpers/agent-bundle.js';
import type { PrivateAuditd } from './helpers/auditd.js';
import { auditdSkipReason, auditStatus, saveAuditSettings, startPrivateAuditd, until } from './helpers/auditd.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { COMPAT_CASES, RUNNABLE_COMPAT } from './helpers/compat.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { tempDir } from './helpers/tmp.js';

const skip: string | false =
  process.getuid?.() !== 0
    ? 'the audit tests need root'
    : auditdSkipReason() ||
      (!existsSync(LAUNCHER_PATH)
        ? 'the native launcher is not built (npx node-gyp rebuild)'
        : !hasCommand('gcc')
          ? 'gcc is not installed'
          : false);
const containerSkip = skip || containerSkipReason('runc');

const work = tempDir('audit-kernel');
/** One BPF instruction: return SECCOMP_RET_LOG (struct sock_filter {u16 code; u8 jt, jf; u32 k}). */
const LOG_BPF = join(work, 'log.bpf');
writeFileSync(LOG_BPF, Buffer.from([0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfc, 0x7f]));

/** What the syscalls fixture is known to call (see test/fixtures/syscalls.c), and the compat calls this kernel lets it make. */
const FIXTURE_CALLS = ['x86_64/flock', 'x86_64/memfd_create', 'x86_64/getrandom', 'x86_64/sysinfo', 'x86_64/getitimer', 'x86_64/vfork', 'x86_64/umask', 'x86_64/getrusage', 'x86_64/setsid', 'x86_64/execve', 'x86_64/exit_group'];
const COMPAT_FLAGS = RUNNABLE_COMPAT.map((c) => c.flag);

/** One assertion per call the fixture made; a compat call this kernel cannot make is a skip saying why. */
function assertFixtureCalls(t: Test, names: Set<string>): void {
  for (const c of FIXTURE_CALLS) t.ok(names.has(c), `recorded ${c}`);
  for (const c of COMPAT_CASES) {
    if (c.skip) t.pass(`recorded ${c.call}`, { skip: c.skip });
    else t.ok(names.has(c.call), `recorded ${c.call}`);
  }
}
const label = (o: AuditObservation) => `${o.arch}/${o.syscall ?? `#${o.nr}`}`;

// ---- the settings we touch, saved once and restored whatever happens ----
const PRINTK = '/proc/sys/kernel/printk_ratelimit';
const PRINTK_BURST = '/proc/sys/kernel/printk_ratelimit_burst';
const savedStatus = skip ? undefined : auditStatus();
const restoreSettings = skip ? undefined : saveAuditSettings([PRINTK, PRINTK_BURST]);
let auditd: PrivateAuditd | undefined;

async function stopAuditd(): Promise<void> {
  const a = auditd;
  auditd = undefined;
  await a?.stop();
}

if (restoreSettings)
  t.teardown(async () => {
    await stopAuditd();
    restoreSettings();
  });

async function startAuditd(name: string): Promise<PrivateAuditd> {
  auditd = await startPrivateAuditd(join(work, name));
  return auditd;
}

/** Runs a command under the SECCOMP_RET_LOG filter; the launcher execs it, so its pid is the command's. */
function runLogged(cmd: string[], onStart?: (pid: number) => void): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER_PATH, ['--bpf', LOG_BPF, '--', ...cmd], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('spawn', () => onStart?.(child.pid!));
    child.on('exit', (code) => resolve({ pid: child.pid!, code }));
  });
}

function collect(opts: AuditSourceOptions) {
  const source = new AuditSource({ pollMs: 50, statusPollMs: 250, ...opts });
  const seen: AuditObservation[] = [];
  const losses: string[] = [];
  source.on('observation', (o) => seen.push(o));
  source.on('loss', (l) => losses.push(l.what));
  return { source, seen, losses, byPid: (pid: number) => seen.filter((o) => o.pid === pid) };
}

const ownCgroupV2 = () => /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
const logSeccomp = () => ({ ...ociObject(logRecordingProfile()) });

t.test('auditd: the live source follows its log across a rotation; calls, attribution, offline import agree', { skip }, async (t) => {
  const { conf, log } = await startAuditd('live');
  const { source, seen, byPid } = collect({ auditdConf: conf });
  await source.start();
  t.equal(source.stats().mode, 'auditd', 'an audit daemon is registered: its log is read');
  t.equal(source.stats().file, log);

  const prog = fixture('syscalls');
  const first = await runLogged([prog, ...COMPAT_FLAGS]);
  t.equal(first.code, 0);
  // The fixture's daemonised grandchild calls getrusage last, 300 ms after its parents exit.
  await until(() => seen.some((o) => o.exe === prog && o.syscall === 'getrusage'), 'the first run\'s records');

  process.kill(auditd!.pid, 'SIGUSR1'); // auditd rotates: audit.log -> audit.log.1
  await until(() => existsSync(`${log}.1`), 'the rotation');
  // A long-lived process: attributed while it lives (here: to our own cgroup, no container).
  let waiting = 0;
  const second = runLogged([prog, '--wait-signal'], (pid) => (waiting = pid));
  await until(() => waiting > 0 && byPid(waiting).some((o) => o.syscall === 'write'), 'the waiting process\'s records');
  process.kill(waiting, 'SIGINT');
  t.equal((await second).code, 42);
  await source.stop();

  const names = new Set(seen.filter((o) => o.exe === prog).map(label));
  assertFixtureCalls(t, names);
  t.ok(byPid(waiting).length > 0, 'records after the rotation were read from the new file');
  t.equal(source.stats().follow?.rotations, 1);
  const attributions = new Set(byPid(waiting).map((o) => JSON.stringify(o.attribution)));
  t.same([...attributions], [JSON.stringify({ status: 'host', cgroup: ownCgroupV2() })], 'a live host process: attributed to its cgroup, no container');
  t.match(source.stats(), { lines: { malformed: 0 }, loss: { incomplete: false, lostAtLeast: 0 } });

  // The same records offline, from the rotated pair.
  const out = join(work, 'offline.json');
  const r = await runCli(['import-audit', log, `${log}.1`, '--image', 'fixture', '--pid', String(first.pid), '-o', out]);
  t.equal(r.code, 0, r.stderr);
  const offline = parseRecording(readFileSync(out, 'utf8'), out);
  const firstLive = new Set(byPid(first.pid).map(label));
  t.same(offline.observations.map((o) => `${o.arch}/${o.syscall}`).sort(), [...firstLive].sort(), 'offline import = live source for that pid');
  t.equal(offline.stats.lost, 0);
  await stopAuditd();
});

t.test('auditd: a runc container under a SCMP_ACT_LOG profile is attributed to its container id', { skip: containerSkip }, async (t) => {
  const { conf } = await startAuditd('container');
  const { source, seen } = collect({ auditdConf: conf });
  await source.start();
  const run = await runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'echo hello; sleep 1'], seccomp: logSeccomp() });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'hello\n');
  await until(() => seen.some((o) => o.attribution.status === 'container' && o.attribution.containerId === run.id && o.syscall === 'exit_group'), 'the container\'s records');
  await source.stop();
  const mine = seen.filter((o) => o.attribution.status === 'container' && o.attribution.containerId === run.id);
  const workload = new Set(mine.filter((o) => o.phase === 'workload').map((o) => o.syscall));
  for (const n of ['execve', 'write', 'exit_group']) t.ok(workload.has(n), `workload call ${n}`);
  t.ok(workload.has('nanosleep') || workload.has('clock_nanosleep'), 'sleep');
  t.ok(mine.some((o) => o.phase === 'runtime' && o.comm?.startsWith('runc:[')), "runc init's own calls are labelled runtime");
  t.equal(source.stats().loss.incomplete, false);
  await stopAuditd();
});

t.test('no auditd: the kernel log (/dev/kmsg) is read; a program and a container are recorded', { skip }, async (t) => {
  await stopAuditd();
  t.equal(auditStatus()?.pid, 0, 'no audit daemon');
  writeFileSync(PRINTK, '0'); // no printk rate limit while recording through the kernel log (restored at the end)
  const { source, seen } = collect({});
  const warnings: string[] = [];
  source.on('warning', (w) => warnings.push(w));
  await source.start();
  t.equal(source.stats().mode, 'kmsg');
  t.same(warnings, [], 'no rate-limit warning with printk_ratelimit=0');
  const prog = fixture('syscalls');
  const run = await runLogged([prog, ...COMPAT_FLAGS]);
  t.equal(run.code, 0);
  await until(() => seen.some((o) => o.exe === prog && o.syscall === 'getrusage'), 'the program\'s records, to its grandchild\'s last');
  const names = new Set(seen.filter((o) => o.exe === prog).map(label));
  assertFixtureCalls(t, names);

  if (!containerSkip) {
    const c = await runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'echo hello; sleep 1'], seccomp: logSeccomp() });
    t.equal(c.code, 0, c.stderr);
    await until(() => seen.some((o) => o.attribution.status === 'container' && o.attribution.containerId === c.id && o.syscall === 'exit_group'), 'the container\'s records');
    const calls = new Set(seen.filter((o) => o.attribution.status === 'container' && o.attribution.containerId === c.id).map((o) => o.syscall));
    for (const n of ['execve', 'write', 'exit_group']) t.ok(calls.has(n), `container call ${n}`);
  }
  await source.stop();
  t.equal(source.stats().loss.incomplete, false);
});

t.test('loss: a one-record backlog flooded under auditd is detected from the lost counter', { skip }, async (t) => {
  const { conf } = await startAuditd('loss');
  const { source, byPid, losses } = collect({ auditdConf: conf });
  await source.start();
  execFileSync('auditctl', ['-b', '1']);
  execFileSync('auditctl', ['--backlog_wait_time', '0']); // drop instead of making the caller wait
  const flood = await runLogged(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000']);
  t.equal(flood.code, 0);
  execFileSync('auditctl', ['-b', String(savedStatus!.backlogLimit)]);
  execFileSync('auditctl', ['--backlog_wait_time', String(savedStatus!.backlogWaitTime ?? 15000)]);
  await until(() => source.stats().loss.kernelLost > 0, 'the status poll to see the lost counter rise');
  await source.stop();
  const s = source.stats();
  t.ok(byPid(flood.pid).length < 40000, `only ${byPid(flood.pid).length} of the ~40,000 records arrived`);
  t.match(s.loss, { incomplete: true });
  t.ok(s.loss.lostAtLeast > 0, `at least ${s.loss.lostAtLeast} reported lost`);
  t.match(s.loss.reasons.join('\n'), /kernel counted \d+ audit records lost/);
  t.ok(losses.some((l) => /lost counter rose/.test(l)), "a 'loss' event was emitted");
  await stopAuditd();
});

t.test('loss: the printk rate limit without auditd shows as serial gaps and suppressed messages', { skip }, async (t) => {
  await stopAuditd();
  writeFileSync(PRINTK, '1'); // 10 messages a second
  writeFileSync(PRINTK_BURST, '10');
  const { source, losses } = collect({});
  const warnings: string[] = [];
  source.on('warning', (w) => warnings.push(w));
  await source.start();
  t.match(warnings.join('\n'), /passes only 10 messages every 1 s/, 'the rate limit is announced up front');
  await runLogged([fixture('syscalls')]); // ~100 records: most suppressed
  // Later records reveal the gap; the kernel prints "callbacks suppressed" once the interval has passed.
  await new Promise((r) => setTimeout(r, 1500));
  await runLogged(['/bin/true']);
  await until(() => source.stats().loss.serialGaps > 0 || source.stats().loss.suppressed > 0, 'the loss to show');
  await source.stop();
  const s = source.stats().loss;
  t.equal(s.incomplete, true);
  t.ok(s.serialGaps > 0 || s.suppressed > 0, `serial gaps ${s.serialGaps}, suppressed ${s.suppressed}`);
  t.ok(losses.length > 0, "'loss' events emitted");
});
