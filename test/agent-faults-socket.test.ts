// Fault injection on the runtime socket (issue 15): the agent under clients
// that stall, connect and say nothing, hand over a listener and vanish, or
// send a malformed message; with its descriptors exhausted (prlimit on the
// running agent); with its event loop blocked (test hook); and shut down while
// connections are in progress. Each checks that nothing recorded is lost and
// no container is harmed beyond what docs/agent.md promises.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { ImageDetail } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { nativeArchName } from '../src/seccomp/arch.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { client } from './helpers/agent-client.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { hasCommand } from './helpers/fixtures.js';

const ARCH = nativeArchName();
const skip = !nativeBuildStatus().ok ? 'the native part is not built (npm run build)' : !hasCommand('gcc') ? 'gcc is not installed' : false;
const prlimitSkip = skip || (process.getuid?.() !== 0 ? 'needs root (prlimit on the agent)' : !hasCommand('prlimit') ? 'prlimit is not installed (apt-get install util-linux)' : false);
const runcSkip = skip || containerSkipReason('runc');

const show = (agent: AgentProcess, image: string) => agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent(image)}`);
const metricsText = async (agent: AgentProcess) => (await agent.raw('GET', '/metrics')).body;
const metric = async (agent: AgentProcess, name: string, labels = '') => {
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(await metricsText(agent));
  return m ? Number(m[1]) : undefined;
};
const calls = (d: ImageDetail) => d.calls.map((o) => [o.syscall, o.count]);

/** A connection that says nothing, as many as asked; `closed` counts those the agent ended. */
function silentConnections(path: string, n: number): { sockets: Socket[]; closed(): number; end(): void } {
  let closed = 0;
  const sockets = Array.from({ length: n }, () => {
    const s = connect(path);
    s.on('error', () => {});
    s.on('close', () => closed++);
    s.resume();
    return s;
  });
  return { sockets, closed: () => closed, end: () => sockets.forEach((s) => s.destroy()) };
}

/** The agent's open descriptor numbers. */
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).map(Number);

/** The agent's descriptors by kind, as /proc names them. */
function fdKinds(pid: number): { listeners: number; eventfds: number; sockets: number; other: number } {
  const k = { listeners: 0, eventfds: 0, sockets: 0, other: 0 };
  for (const fd of openFds(pid)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target === 'anon_inode:seccomp notify') k.listeners++;
    else if (target === 'anon_inode:[eventfd]') k.eventfds++;
    else if (target.startsWith('socket:')) k.sockets++;
    else k.other++;
  }
  return k;
}

/** The lowest descriptor numbers the process has free, in order. */
function freeFds(pid: number, count: number): number[] {
  const open = new Set(openFds(pid));
  const out: number[] = [];
  for (let fd = 0; out.length < count; fd++) if (!open.has(fd)) out.push(fd);
  return out;
}

/** Soft RLIMIT_NOFILE of a running process. */
function softNofile(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  return Number(line.trim().split(/\s+/)[3]);
}
/** Lowers the running process's soft RLIMIT_NOFILE to `n`; the function returned puts it back (once). */
function lowerNofile(t: { teardown(f: () => void): void }, pid: number, n: number): () => void {
  const original = softNofile(pid);
  const set = (v: number) => execFileSync('prlimit', ['--pid', String(pid), `--nofile=${v}:`]);
  set(n);
  let restored = false;
  const restore = () => {
    if (!restored) set(original);
    restored = true;
  };
  t.teardown(restore);
  return restore;
}

/** utime + stime of one thread, in clock ticks. */
function threadTicks(pid: number, tid: string): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
}
const threadNamed = (pid: number, name: string) => readdirSync(`/proc/${pid}/task`).find((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name);

t.test('a listener whose session cannot start is closed: the container fails at once instead of hanging', { skip: prlimitSkip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const pid = agent.child.pid!;
  const warm = client(agent, 'good', 'warm-1', 'test/fail-start:1', 1);
  t.equal(await warm.exit, 0, warm.stderr());
  // No API call before the count: its connection would free a descriptor after it.
  await agent.waitForLog((l) => l.msg === 'container finished' && l.container === 'warm-1');
  // Room for exactly two more descriptors: the connection and the listener it
  // brings. Serving it needs a third (the session's eventfd): that fails.
  const [, second] = freeFds(pid, 2);
  const restore = lowerNofile(t, pid, second + 1);
  const c = client(agent, 'good', 'cannot-serve', 'test/fail-start:1', 1);
  t.teardown(() => c.kill());
  const refused = await agent.waitForLog((l) => l.msg === 'runtime connection refused' && l.container === 'cannot-serve');
  restore();
  t.match(String(refused.reason), /^cannot serve the listener: Too many open files$/);
  t.equal(await c.exit, 3, 'its next notified call failed (ENOSYS): the listener was closed, not leaked');
  t.match(c.stderr(), /getpid failed with ENOSYS/);
  t.equal(await metric(agent, 'seccomp_recorder_dropped_connections_total', '{reason="session-start"}'), 1, 'counted');
  const after = client(agent, 'good', 'after-1', 'test/fail-start:1', 2);
  t.equal(await after.exit, 0, 'served again once descriptors are back');
  const d = await eventually(() => show(agent, 'test/fail-start:1'), (v) => v.containers === 2 && v.liveContainers === 0);
  t.same(calls(d), [['getppid', 3], ['uname', 2]], 'the two served containers, nothing of the refused one');
  t.equal(await agent.stop(), 0);
});

t.test('accept4 without descriptors (EMFILE): the socket thread backs off, counts it, and serves the waiting runtime once they free up', { skip: prlimitSkip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const pid = agent.child.pid!;
  const tid = threadNamed(pid, 'sr-oci-accept');
  t.ok(tid, 'the accept thread is named sr-oci-accept');
  const [lowest] = freeFds(pid, 1);
  const restore = lowerNofile(t, pid, lowest); // no descriptor can be made at all
  const waiting = client(agent, 'good', 'waits-1', 'test/emfile:1', 4);
  t.teardown(() => waiting.kill());
  await agent.waitForLog((l) => String(l.msg).startsWith('runtime socket: cannot accept connections'));
  // A measurement window (not a wait for an event): CPU time the accept thread
  // burns while accept4 keeps failing. Spinning took a whole CPU when idle and
  // still 28% of the window on this 2-CPU machine at load 16; backing off
  // takes under 1%. The bound, a tenth, sits far from both.
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const start = { ticks: threadTicks(pid, tid!), at: Date.now() };
  await new Promise((r) => setTimeout(r, 3000));
  const cpuSeconds = (threadTicks(pid, tid!) - start.ticks) / ticksPerSecond;
  const wallSeconds = (Date.now() - start.at) / 1000;
  t.ok(cpuSeconds < wallSeconds * 0.1, `the accept thread used ${cpuSeconds.toFixed(2)} s of CPU in ${wallSeconds.toFixed(2)} s (bound: a tenth)`);
  t.ok(waiting.running(), 'the runtime waits meanwhile (its connection is queued, not dropped)');
  restore();
  t.equal(await waiting.exit, 0, `served once descriptors are free: ${waiting.stderr()}`);
  await agent.waitForLog((l) => l.msg === 'runtime socket: accepting connections again');
  t.ok((await metric(agent, 'seccomp_recorder_runtime_accept_errors_total'))! >= 2, 'each failed try counted');
  const d = await eventually(() => show(agent, 'test/emfile:1'), (v) => v.liveContainers === 0 && v.containers === 1);
  t.same(calls(d), [['getppid', 4], ['uname', 1]], 'recorded in full');
  t.equal(await agent.stop(), 0);
});

t.test('shutdown is ordered and never blocks the event loop: a stalled client, and a container handed over during the drain', { skip }, async (t) => {
  const agent = await startAgent({ t, args: ['--drain-timeout', '30s'] });
  t.teardown(() => agent.kill9());
  const stalled = silentConnections(agent.socket, 1);
  t.teardown(() => stalled.end());
  const gate = join(agent.dir, 'gate');
  const slow = client(agent, 'slow', 'handed-over-late', 'test/late:1', 3, 0, gate);
  t.teardown(() => slow.kill());
  await eventually(() => metric(agent, 'seccomp_recorder_runtime_connections_in_progress'), (v) => v === 2);
  agent.child.kill('SIGTERM');
  await agent.waitForLog((l) => String(l.msg).startsWith('draining'));
  // The event loop answers while both connections are still in progress (the
  // old stop joined their threads on it, for up to 5 s each).
  t.match(await agent.json('GET', '/healthz'), { status: 'draining' }, 'the API answers during the drain');
  t.equal(await metric(agent, 'seccomp_recorder_runtime_connections_in_progress'), 2, '...while both connections are still in progress');
  const late = client(agent, 'nofd', 'late', 'test/late:1');
  t.equal(await late.exit, 2, 'a new connection is refused at once');
  t.match(late.stderr(), /connect: Connection refused/);
  writeFileSync(gate, ''); // the rest of the message: it arrives during the drain
  t.equal(await slow.exit, 0, `the container handed over during the drain was served to its end: ${slow.stderr()}`);
  t.equal(await agent.stop(), 0);
  t.ok(agent.logs.some((l) => l.msg === 'runtime connection refused' && /within \d+ ms/.test(String(l.reason))), 'the stalled client was timed out');
  const again = await startAgent({ like: agent });
  t.teardown(() => again.kill9());
  const d = await show(again, 'test/late:1');
  t.same(calls(d), [['getppid', 3], ['uname', 1]], 'and recorded in full, journaled before the agent exited');
  t.equal(await again.stop(), 0);
});

t.test('a stray "}" before the state message: refused and counted, the agent lives on', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const bad = client(agent, 'straybrace', 'stray-1', 'test/stray:1');
  t.equal(await bad.exit, 0, bad.stderr());
  const line = await agent.waitForLog((l) => l.msg === 'runtime connection refused');
  t.equal(line.reason, 'the state message does not start with a JSON object');
  t.equal(await metric(agent, 'seccomp_recorder_dropped_connections_total', '{reason="not-json"}'), 1);
  const good = client(agent, 'good', 'after-stray', 'test/stray:1', 1);
  t.equal(await good.exit, 0, good.stderr());
  const d = await eventually(() => show(agent, 'test/stray:1'), (v) => v.liveContainers === 0);
  t.equal(d.containers, 1, 'only the good one recorded');
  t.equal(await agent.stop(), 0);
});

t.test('clients that hand over a listener and vanish at once: nothing leaks, nothing crashes', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const pid = agent.child.pid!;
  const warm = client(agent, 'good', 'vanish-warm', 'test/vanish:1', 1);
  t.equal(await warm.exit, 0, warm.stderr());
  await eventually(() => metric(agent, 'seccomp_recorder_live_listeners'), (v) => v === 0);
  // What a hand-over leaves behind if anything leaks: a listener, a session's
  // eventfd. (Sockets come and go with the API requests of the test itself.)
  const baseline = fdKinds(pid);
  t.equal(baseline.listeners, 0, 'no listener held before');
  const gone = Array.from({ length: 20 }, (_, i) => client(agent, 'sendexit', `vanish-${i}`, 'test/vanish:1'));
  t.same([...new Set(await Promise.all(gone.map((c) => c.exit)))], [0]);
  await eventually(() => show(agent, 'test/vanish:1'), (v) => v.containers === 21 && v.liveContainers === 0);
  await eventually(() => metric(agent, 'seccomp_recorder_live_listeners'), (v) => v === 0);
  const after = await eventually(async () => fdKinds(pid), (k) => k.listeners === 0 && k.eventfds === baseline.eventfds && k.other === baseline.other);
  t.same(after, { ...baseline, sockets: after.sockets }, `no listener, eventfd or other descriptor left behind (${JSON.stringify(after)})`);
  const good = client(agent, 'good', 'vanish-after', 'test/vanish:1', 2);
  t.equal(await good.exit, 0, 'still serving');
  t.equal(agent.child.exitCode, null, 'the agent is alive');
  t.equal(await agent.stop(), 0);
});

t.test('500 connections that send nothing: the agent answers, containers start and are recorded, the connections are timed out and counted', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const silent = silentConnections(agent.socket, 500);
  t.teardown(() => silent.end());
  // Every one accepted: held, or already timed out (each has 5 s from its accept; on a loaded host the first
  // can time out before the last is accepted, so the 500 are not always held at one moment).
  const accepted = async () =>
    ((await metric(agent, 'seccomp_recorder_runtime_connections_in_progress')) ?? 0) +
    ((await metric(agent, 'seccomp_recorder_dropped_connections_total', '{reason="timeout"}')) ?? 0);
  await eventually(accepted, (v) => v === 500, 30_000);
  const good = Array.from({ length: 5 }, (_, i) => client(agent, 'good', `among-silent-${i}`, 'test/silent:1', 2));
  t.same([...new Set(await Promise.all(good.map((c) => c.exit)))], [0], 'every container ran to its end');
  t.ok((await metric(agent, 'seccomp_recorder_runtime_connections_in_progress'))! >= 1, 'while silent connections were still held (the agent answered meanwhile)');
  const d = await eventually(() => show(agent, 'test/silent:1'), (v) => v.containers === 5 && v.liveContainers === 0);
  t.same(calls(d), [['getppid', 10], ['uname', 5]], 'recorded in full');
  await eventually(async () => silent.closed(), (n) => n === 500, 30_000);
  t.equal(await metric(agent, 'seccomp_recorder_dropped_connections_total', '{reason="timeout"}'), 500, 'each silent connection timed out and counted');
  t.equal(await metric(agent, 'seccomp_recorder_runtime_connections_in_progress'), 0);
  t.equal(await agent.stop(), 0);
});

async function recordingProfile(agent: AgentProcess): Promise<unknown> {
  const r = await runCli(['recording-profile', '--runtime', 'runc', '--socket', agent.socket, '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const WORKLOAD = ['/bin/sh', '-c', 'echo hello; ls / > /dev/null'];

t.test('runc containers start and are recorded while a stalled client holds the socket', { skip: runcSkip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const profile = await recordingProfile(agent);
  // Always one silent connection open: a new one as soon as the agent times the last out.
  let holding = true;
  let current = silentConnections(agent.socket, 1);
  const hold = () => {
    current.sockets[0].once('close', () => {
      if (!holding) return;
      current = silentConnections(agent.socket, 1);
      hold();
    });
  };
  hold();
  t.teardown(() => {
    holding = false;
    current.end();
  });
  await eventually(() => metric(agent, 'seccomp_recorder_runtime_connections_in_progress'), (v) => v === 1);
  for (const i of [1, 2]) {
    const r = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: profile, annotations: criAnnotations('test.local/held:1', 'box') });
    t.equal(r.code, 0, `container ${i} ran: ${r.stderr}`);
    if (r.code !== 0) t.comment(agent.stderr());
    t.equal(r.stdout, 'hello\n');
  }
  holding = false;
  current.end();
  const d = await eventually(() => show(agent, 'test.local/held:1'), (v) => v.containers === 2 && v.liveContainers === 0);
  const names = d.calls.map((o) => `${o.arch}/${o.syscall}`);
  for (const s of ['openat', 'getdents64', 'exit_group']) t.ok(names.includes(`${ARCH}/${s}`), `recorded ${s}`);
  t.ok(d.runtimeCalls.runc?.includes(`${ARCH}/execve`), 'runc\'s start-up calls kept apart');
  t.equal(await agent.stop(), 0);
});

t.test('the event loop is not in a container\'s path: blocked for seconds, a runc container still starts and ends, and is attributed', { skip: runcSkip }, async (t) => {
  const blockMs = 8000;
  const agent = await startAgent({ t, env: { ...process.env, SECCOMP_RECORDER_TEST_BLOCK_MS: String(blockMs) } });
  t.teardown(() => agent.kill9());
  const profile = await recordingProfile(agent);
  const r = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: profile, annotations: criAnnotations('test.local/blocked:1', 'box', 'team-b') });
  const unblockedBeforeExit = agent.logs.some((l) => l.msg === 'test hook: the event loop was blocked');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'hello\n');
  t.notOk(unblockedBeforeExit, `the container ended while the agent's event loop was still blocked (${blockMs} ms from its connection)`);
  const d = await eventually(() => show(agent, 'test.local/blocked:1').catch(() => undefined), (v) => v?.liveContainers === 0 && v.containers === 1, 30_000);
  t.same(d!.groups.map((g) => [g.namespace, g.name]), [['team-b', 'box']], 'attributed by its annotations afterwards');
  t.ok(d!.calls.some((o) => o.syscall === 'getdents64'), 'its calls recorded (ls: getdents64)');
  t.ok(d!.runtimeCalls.runc?.includes(`${ARCH}/execve`), 'runc\'s start-up calls kept apart');
  t.equal(await agent.stop(), 0);
});
