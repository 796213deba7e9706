// The agent against a stand-in runtime (test/fixtures/agent-client.c: a real
// seccomp listener sent over the real socket) and the hostile clients it must
// survive: bad JSON, no fd, several fds, a non-seccomp fd, an oversized
// payload, clients that stall. Also 200 containers at once, draining on
// SIGTERM, and kill -9.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { ImageDetail } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { nativeArchName } from '../src/seccomp/arch.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { client } from './helpers/agent-client.js';
import { hasCommand } from './helpers/fixtures.js';

const ARCH = nativeArchName();
const skip = !nativeBuildStatus().ok ? 'the native part is not built (npm run build)' : !hasCommand('gcc') ? 'gcc is not installed' : false;

const show = (agent: AgentProcess, image: string) => agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent(image)}`);
const metric = async (agent: AgentProcess, line: RegExp) => {
  const m = line.exec((await agent.raw('GET', '/metrics')).body);
  return m ? Number(m[1]) : undefined;
};

t.test('a container from a stand-in runtime is served, attributed, and its runtime phase kept apart', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const c = client(agent, 'good', 'stand-in-1', 'test/app:1', 5);
  t.equal(await c.exit, 0, c.stderr());
  const d = await eventually(() => show(agent, 'test/app:1').catch(() => undefined), (v) => v?.notifications === 8);
  t.same(d!.calls.map((o) => [o.syscall, o.count]), [['getppid', 5], ['uname', 1]], 'the workload: after the exec');
  t.same(d!.runtimeCalls, { 'agent-client': [`${ARCH}/execve`, `${ARCH}/getpid`] }, 'before and at the exec: the runtime\'s');
  t.same(d!.groups.map((g) => [g.namespace, g.name]), [['test', 'client']]);
  const line = await agent.waitForLog((l) => l.msg === 'container finished');
  t.equal(line.container, 'stand-in-1', 'log lines about a container carry its id...');
  t.equal(line.image, 'test/app:1', '...and its image');
  t.equal(await agent.stop(), 0);
});

t.test('hostile clients: each refused with one log line, the agent lives on, others are not held up', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const stall = client(agent, 'stall', 'x-stall', 'test/bad:1');
  const partial = client(agent, 'partial', 'x-partial', 'test/bad:1');
  const good = client(agent, 'good', 'good-1', 'test/good:1', 2);
  t.equal(await good.exit, 0, good.stderr());
  t.ok(stall.running() && partial.running(), 'a good container finished while two clients still stalled the socket');
  for (const mode of ['badjson', 'nofd', 'twofds', 'notseccomp', 'huge']) {
    const c = client(agent, mode, `x-${mode}`, 'test/bad:1');
    t.equal(await c.exit, 0, `${mode}: client done (${c.stderr().trim()})`);
  }
  t.equal(await stall.exit, 0);
  t.equal(await partial.exit, 0);
  const good2 = client(agent, 'good', 'good-2', 'test/good:1', 2);
  t.equal(await good2.exit, 0, 'still serving afterwards');

  const refused = await eventually(
    async () => agent.logs.filter((l) => l.msg === 'runtime connection refused').map((l) => String(l.reason)),
    (v) => v.length >= 6,
  );
  t.equal(refused.length, 6, 'one line per refused connection');
  for (const re of [/^no file descriptor was sent$/, /^2 file descriptors were sent, expected one$/, /^the descriptor sent is not a seccomp listener$/, /^message larger than \d+ bytes$/, /^client sent no end of message within \d+ ms$/])
    t.ok(refused.some((r) => re.test(r)), `refused: ${re}`);
  const unreadable = agent.logs.filter((l) => l.msg === 'unreadable container state: serving its listener without recording');
  t.equal(unreadable.length, 1, 'bad JSON with a real listener: served (its workload ran to exit 0 above), not recorded');

  const text = (await agent.raw('GET', '/metrics')).body;
  for (const [reason, n] of [['bad-state', 1], ['no-fd', 1], ['several-fds', 1], ['not-a-listener', 1], ['too-large', 1], ['timeout', 2]] as const)
    t.match(text, new RegExp(`^seccomp_recorder_dropped_connections_total\\{reason="${reason}"\\} ${n}$`, 'm'), `metric ${reason}`);
  const list = await agent.json<{ images: { image: string; containers: number }[] }>('GET', '/v1/recordings');
  t.same(list.images.map((i) => [i.image, i.containers]), [['test/good:1', 2]], 'nothing recorded from the bad ones');
  t.match(await agent.json('GET', '/healthz'), { status: 'ok', liveContainers: 0, images: 1 });
  t.equal(await agent.stop(), 0);
});

t.test('200 containers recorded at once; a slow one holds up nobody', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const release = join(agent.dir, 'release');
  const slow = client(agent, 'good', 'slow', 'test/many:1', 1, join(agent.dir, 'never'));
  t.teardown(() => slow.kill());
  const many = Array.from({ length: 200 }, (_, i) => client(agent, 'good', `many-${i}`, 'test/many:1', 3, release));
  const peak = await eventually(() => metric(agent, /^seccomp_recorder_live_listeners (\d+)$/m), (v) => (v ?? 0) >= 201, 60_000).catch((err: Error) => {
    const exited = many.filter((c) => !c.running()).length;
    throw new Error(`${err.message}; ${exited} of 200 clients had exited (first stderr: ${many[0].stderr()}); agent log tail:\n${agent.stderr().slice(-2000)}`);
  });
  t.equal(peak, 201, 'all 201 listeners served at the same time');
  writeFileSync(release, '');
  const codes = await Promise.all(many.map((c) => c.exit));
  t.same([...new Set(codes)], [0], 'every one of the 200 ran to exit 0');
  t.ok(slow.running(), 'while the slow one is still running');
  const d = await eventually(() => show(agent, 'test/many:1'), (v) => v.liveContainers === 1 && v.notifications === 200 * 6, 20_000);
  t.equal(d.containers, 201);
  t.same(d.calls.map((o) => [o.syscall, o.count]), [['getppid', 601], ['uname', 200]], 'every call counted, the slow one\'s first call too');
  slow.kill();
  await eventually(() => metric(agent, /^seccomp_recorder_live_listeners (\d+)$/m), (v) => v === 0);
  t.equal(await agent.stop(), 0);
});

t.test('SIGTERM drains: no new containers, live ones served to their end', { skip }, async (t) => {
  const agent = await startAgent({ t, args: ['--drain-timeout', '30s'] });
  t.teardown(() => agent.kill9());
  const release = join(agent.dir, 'release');
  const live = client(agent, 'good', 'draining-1', 'test/drain:1', 2, release);
  await eventually(() => metric(agent, /^seccomp_recorder_live_listeners (\d+)$/m), (v) => v === 1);
  agent.child.kill('SIGTERM');
  await agent.waitForLog((l) => String(l.msg).startsWith('draining'));
  agent.child.kill('SIGTERM');
  await agent.waitForLog((l) => String(l.msg).startsWith('already draining'));
  const late = client(agent, 'nofd', 'late', 'test/drain:1');
  t.equal(await late.exit, 2, 'a new connection is refused by the closed socket');
  t.match(late.stderr(), /connect: Connection refused/);
  t.ok(live.running(), 'the live container is still running');
  writeFileSync(release, '');
  t.equal(await live.exit, 0, 'the live container was served through the drain');
  t.equal(await agent.stop(), 0);
  const again = await startAgent({ like: agent });
  t.teardown(() => again.kill9());
  const d = await show(again, 'test/drain:1');
  t.same(d.calls.map((o) => o.syscall), ['getppid', 'uname'], 'its last call, made during the drain, is recorded');
  t.equal(await again.stop(), 0);
});

t.test('after the drain timeout a live container\'s notified calls fail with ENOSYS (documented)', { skip }, async (t) => {
  const agent = await startAgent({ t, args: ['--drain-timeout', '500ms'] });
  t.teardown(() => agent.kill9());
  const release = join(agent.dir, 'release');
  const live = client(agent, 'good', 'overstay', 'test/overstay:1', 1, release);
  t.teardown(() => live.kill());
  await eventually(() => metric(agent, /^seccomp_recorder_live_listeners (\d+)$/m), (v) => v === 1);
  t.equal(await agent.stop(), 0);
  writeFileSync(release, ''); // its next call comes after the agent let go of it
  t.equal(await live.exit, 3);
  t.match(live.stderr(), /uname failed with ENOSYS/);
  t.ok(agent.logs.some((l) => String(l.msg).startsWith('drain timeout: stopping the listeners')));
});

t.test('kill -9: every observation older than the batch interval survives the restart', { skip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const release = join(agent.dir, 'release');
  const c = client(agent, 'good', 'crash-1', 'test/crash:1', 7, release);
  t.teardown(() => c.kill());
  await agent.waitForLog((l) => l.msg === 'recording container');
  // The event, not a time: the calls are in the state and no record waits for the journal.
  await eventually(
    async () => ({ d: await show(agent, 'test/crash:1').catch(() => undefined), pending: await metric(agent, /^seccomp_recorder_journal_pending_records (\d+)$/m) }),
    (v) => v.pending === 0 && v.d?.calls.some((o) => o.syscall === 'getppid' && o.count === 7) === true,
    20_000,
  );
  await agent.kill9();
  writeFileSync(release, '');
  t.equal(await c.exit, 3, 'with the agent gone, its next notified call fails (ENOSYS)');
  const again = await startAgent({ like: agent });
  t.teardown(() => again.kill9());
  const d = await show(again, 'test/crash:1');
  t.same(d.calls.map((o) => [o.syscall, o.count]), [['getppid', 7]]);
  t.same(d.runtimeCalls, { 'agent-client': [`${ARCH}/execve`, `${ARCH}/getpid`] });
  t.equal(d.containers, 1);
  t.equal(await again.stop(), 0);
});
