// `agent --source bpf` with real runc and crun containers that run under NO
// recording profile: attributed to their annotated images, the runtime's
// start-up kept out of the workload, concurrent containers kept apart, a
// container flushed when its cgroup empties, kill -9 of the agent harmless to
// a running container, a restarted agent picking it up with the unseen
// interval marked, a privileged container flagged, and a container's own
// seccomp filter hiding what it denies (sys_enter runs after seccomp).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { ImageDetail } from '../src/agent/views.js';
import { bpfUnavailableReason } from '../src/record/sources.js';
import { nativeArchName } from '../src/seccomp/arch.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { runCrunInOwnCgroup } from './helpers/crun-v2.js';
import { hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';
import { asUser, cannotSwitchUser } from './helpers/as-user.js';

const ARCH = nativeArchName();
const skip = containerSkipReason('runc') || bpfUnavailableReason() || false;
const crunSkip = skip || containerSkipReason('crun') || (!hasCommand('gcc') ? 'gcc is needed for test/fixtures/cgroup-exec.c' : false);
if (skip) console.log(`# skipping the bpf agent tests: ${skip}`);
else if (crunSkip) console.log(`# skipping the crun bpf agent test: ${crunSkip}`);

const AGENT_ARGS = ['--source', 'bpf', '--batch-interval', '100ms', '--bpf-grace', '1s'];
const RUNTIME_ONLY = ['pivot_root', 'mount', 'sethostname', 'umount2'];
const show = (agent: AgentProcess, image: string) => agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent(image)}`);
const names = (d: ImageDetail) => new Set(d.calls.map((o) => o.syscall));
const finished = (agent: AgentProcess, container: string) => agent.waitForLog((l) => l.msg === 'container finished' && l.container === container, 15_000);

t.test('runc: attributed to its annotated image, runtime start-up apart, flushed when its cgroup empties', { skip, timeout: 90_000 }, async (t) => {
  const agent = await startAgent({ t, args: AGENT_ARGS });
  t.teardown(() => agent.kill9());
  const image = 'registry.example/bpf-runc:1.0';
  const run = await runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'echo hello; sync; sleep 1'], annotations: criAnnotations(image, 'app', 'prod'), timeoutMs: 30_000 });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'hello\n', 'the container ran as without the agent');
  // Flushed on its own: the agent keeps running, the cgroup is empty.
  const line = await finished(agent, run.id);
  t.equal(line.image, image);
  const d = await eventually(() => show(agent, image).catch(() => undefined), (v) => !!v && v.liveContainers === 0 && v.notifications > 0);
  t.same(d!.sources, ['bundle-config'], 'named by the bundle\'s CRI annotations');
  t.same(d!.groups.map((g) => [g.namespace, g.name]), [['prod', 'app']]);
  const workload = names(d!);
  for (const n of ['execve', 'write', 'sync', 'exit_group']) t.ok(workload.has(n), `workload call ${n}`);
  t.ok(workload.has('nanosleep') || workload.has('clock_nanosleep'), 'sleep');
  for (const n of RUNTIME_ONLY) t.notOk(workload.has(n), `${n} (runc's start-up) is not in the workload`);
  const runtime = new Set(d!.runtimeCalls.runc ?? []);
  for (const n of ['pivot_root', 'sethostname']) t.ok(runtime.has(`${ARCH}/${n}`), `${n} is attributed to runc`);
  t.notOk(runtime.has(`${ARCH}/sync`), 'the workload\'s sync is not runc\'s');
  t.equal(d!.lost, 0);
  t.equal(d!.privileged, false);
  t.equal(await agent.stop(), 0);
});

t.test('crun (own cgroup v2, as on a v2 node): attributed, runtime start-up apart, flushed', { skip: crunSkip, timeout: 90_000 }, async (t) => {
  const agent = await startAgent({ t, args: AGENT_ARGS });
  t.teardown(() => agent.kill9());
  const image = 'registry.example/bpf-crun:2.0';
  const run = await runCrunInOwnCgroup({ t, args: ['sh', '-c', 'echo hi-crun; sync; sleep 1'], annotations: criAnnotations(image, 'web', 'prod') });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'hi-crun\n');
  const line = await finished(agent, run.id);
  t.equal(line.image, image);
  const d = await eventually(() => show(agent, image).catch(() => undefined), (v) => !!v && v.liveContainers === 0 && v.notifications > 0);
  t.same(d!.runtimes, ['crun']);
  const workload = names(d!);
  for (const n of ['execve', 'write', 'sync', 'exit_group']) t.ok(workload.has(n), `workload call ${n}`);
  for (const n of RUNTIME_ONLY) t.notOk(workload.has(n), `${n} (crun's start-up) is not in the workload`);
  const runtime = new Set(d!.runtimeCalls.crun ?? []);
  for (const n of ['pivot_root', 'sethostname']) t.ok(runtime.has(`${ARCH}/${n}`), `${n} is attributed to crun`);
  t.equal(await agent.stop(), 0);
});

t.test('two concurrent containers are kept apart; a container\'s own filter hides what it denies', { skip, timeout: 90_000 }, async (t) => {
  const agent = await startAgent({ t, args: AGENT_ARGS });
  t.teardown(() => agent.kill9());
  const [a, b] = ['registry.example/apart-a:1', 'registry.example/apart-b:1'];
  // sync and uname in a; nproc (sched_getaffinity) in b, and uname, which b's own filter denies.
  const ownFilter = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  const [ra, rb] = await Promise.all([
    runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'sleep 1; sync; uname >/dev/null; sleep 1'], annotations: criAnnotations(a, 'a'), timeoutMs: 30_000 }),
    runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'sleep 1; nproc; uname >/dev/null 2>&1; sleep 1'], seccomp: ownFilter, annotations: criAnnotations(b, 'b'), timeoutMs: 30_000 }),
  ]);
  t.equal(ra.code, 0, ra.stderr);
  t.equal(rb.code, 0, rb.stderr);
  await Promise.all([finished(agent, ra.id), finished(agent, rb.id)]);
  const da = await eventually(() => show(agent, a).catch(() => undefined), (v) => !!v && v.notifications > 0);
  const db = await eventually(() => show(agent, b).catch(() => undefined), (v) => !!v && v.notifications > 0);
  t.ok(names(da!).has('sync'), 'a: sync');
  t.notOk(names(da!).has('sched_getaffinity'), 'a: not b\'s nproc');
  t.ok(names(db!).has('sched_getaffinity'), 'b: nproc');
  t.notOk(names(db!).has('sync'), 'b: not a\'s sync');
  t.ok(names(da!).has('uname'), 'a: uname');
  t.notOk(names(db!).has('uname'), 'b: uname, denied by its own filter, is never seen (sys_enter runs after seccomp)');
  t.end();
});

// Before the cgroup watcher ~11% of such containers went unrecorded here (89% of 450 recorded), so
// the old code missed 7-14 of these 30 in each of 3 runs; now ~1 in 200 is missed (the watcher's
// thread too late for a cgroup that lives ~30 ms under heavy load). Up to 3 misses in 30 are
// tolerated for that (a 1-in-200 rate makes 4 a one-in-a-million event), 4 are a failure.
const SHORT_RUNS = 30;

t.test(`${SHORT_RUNS} containers of \`busybox true\` (a few ms each, runtime state gone before a tick) are recorded, and the profile of one runs it again`, { skip, timeout: 240_000 }, async (t) => {
  // The default batch interval: each container and its runc state (state.json lives ~5-15 ms here) are gone
  // before the next tick; only the path its cgroup had when made names it. No annotations: each
  // container is its own image (its id), so a container not attributed has no recording at all.
  const agent = await startAgent({ args: ['--source', 'bpf', '--batch-interval', '1s', '--bpf-grace', '1s'] });
  t.teardown(() => agent.kill9());
  const ids: string[] = [];
  for (let i = 0; i < SHORT_RUNS; i++) {
    const r = await runAnnotated({ runtime: 'runc', args: ['true'], timeoutMs: 30_000 });
    t.equal(r.code, 0, r.stderr);
    ids.push(r.id);
  }
  const complete = (d: ImageDetail | undefined) => !!d && names(d).has('execve') && names(d).has('exit_group');
  const missed: string[] = [];
  const deadline = Date.now() + 10_000;
  for (const id of ids) {
    const d = await eventually(() => show(agent, id).catch(() => undefined), complete, Math.max(0, deadline - Date.now())).catch(() => undefined);
    if (!complete(d)) missed.push(id);
  }
  t.ok(missed.length <= 3, `${SHORT_RUNS - missed.length} of ${SHORT_RUNS} short containers recorded with their workload's execve and exit_group (missed: ${missed.join(', ') || 'none'})`);
  const recorded = ids.find((id) => !missed.includes(id))!;
  const profile = join(agent.dir, 'short.json');
  const out = await runCli(['recordings', 'profile', recorded, '--no-baseline', '--exact', '-o', profile, '--api-socket', agent.apiSocket]);
  t.equal(out.code, 0, out.stderr);
  const enforced = JSON.parse(readFileSync(profile, 'utf8')) as unknown;
  const again = await runAnnotated({ runtime: 'runc', args: ['true'], seccomp: enforced, timeoutMs: 30_000 });
  t.equal(again.code, 0, `the recorded profile (exactly what was seen, no baseline) runs the container again: ${again.stderr}`);
  const other = await runAnnotated({ runtime: 'runc', args: ['id'], seccomp: enforced, timeoutMs: 30_000 });
  t.not(other.code, 0, 'and it is no allow-all: `id`, never recorded for it, fails under it');
  t.equal(await agent.stop(), 0);
});

t.test('a privileged container is recorded and its profile says it applies only once unprivileged', { skip, timeout: 90_000 }, async (t) => {
  const agent = await startAgent({ t, args: AGENT_ARGS });
  t.teardown(() => agent.kill9());
  const image = 'registry.example/privileged:1';
  const run = await runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', 'sync; sleep 1'], annotations: criAnnotations(image, 'p'), privileged: true, timeoutMs: 30_000 });
  t.equal(run.code, 0, run.stderr);
  await finished(agent, run.id);
  const d = await eventually(() => show(agent, image).catch(() => undefined), (v) => !!v && v.notifications > 0);
  t.equal(d!.privileged, true);
  t.ok(names(d!).has('sync'), 'its calls are recorded');
  const shown = await runCli(['recordings', 'show', image, '--api-socket', agent.apiSocket]);
  t.match(shown.stdout, /PRIVILEGED: .*applies only once they run unprivileged/);
  const profile = await runCli(['recordings', 'profile', image, '--api-socket', agent.apiSocket, '-o', '/dev/null']);
  t.equal(profile.code, 0, profile.stderr);
  t.match(profile.stderr, /PRIVILEGED/, 'the profile summary says so');
  t.equal(await agent.stop(), 0);
});

t.test('kill -9 of the agent leaves a running container unharmed; a restarted agent picks it up and marks what it did not see', { skip, timeout: 120_000 }, async (t) => {
  const first = await startAgent({ t, args: AGENT_ARGS });
  t.teardown(() => first.kill9());
  const image = 'registry.example/survivor:1';
  const script = 'i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); sleep 0.1; done; sync';
  const expected = Array.from({ length: 40 }, (_, i) => `line${i}\n`).join('');
  const running = runAnnotated({ t, runtime: 'runc', args: ['sh', '-c', script], annotations: criAnnotations(image, 's'), timeoutMs: 60_000 });
  await eventually(() => first.json<{ live: { container?: string; image?: string }[] }>('GET', '/v1/recordings'), (v) => v.live.some((l) => l.image === image));
  await first.kill9();
  await new Promise((r) => setTimeout(r, 500));
  const second = await startAgent({ like: first, args: AGENT_ARGS });
  t.teardown(() => second.kill9());
  const run = await running;
  t.equal(run.code, 0, `the container ended normally: ${run.stderr}`);
  t.equal(run.stdout, expected, 'with the same output as without the agent');
  await finished(second, run.id);
  const d = await eventually(() => show(second, image).catch(() => undefined), (v) => !!v && v.gaps.length > 0 && v.notifications > 0);
  t.equal(d!.gaps.length, 1);
  t.equal(d!.gaps[0].container, run.id);
  t.ok(d!.gaps[0].from && d!.gaps[0].from < d!.gaps[0].to, `the unseen interval: ${d!.gaps[0].from} .. ${d!.gaps[0].to}`);
  t.ok(names(d!).has('sync'), 'calls after the restart are the workload\'s (the runtime\'s start-up was long over)');
  t.notOk((d!.runtimeCalls.runc ?? []).includes(`${ARCH}/sync`), '...not the runtime\'s');
  const shown = await runCli(['recordings', 'show', image, '--api-socket', second.apiSocket]);
  t.match(shown.stdout, new RegExp(`NOT SEEN: +container ${run.id} from .* to `));
  t.equal(await second.stop(), 0);
});

const asNobody = cannotSwitchUser();

t.test('where the programs cannot load (nobody): --source bpf fails with one line, auto falls back to notify and says why', { skip: asNobody, timeout: 60_000 }, async (t) => {
  const dir = sharedTempDir('agent-nobody', t);
  const opts = { prefix: asUser(), env: { PATH: process.env.PATH, HOME: dir } };
  const where = ['--state-dir', join(dir, 'state'), '--socket', join(dir, 'run', 'notify.sock'), '--api-socket', join(dir, 'run', 'api.sock')];
  const bpf = await runCli(['agent', '--source', 'bpf', ...where], opts);
  t.equal(bpf.code, 1);
  t.match(bpf.stderr, /^error: the bpf source cannot run here: .*(root|CAP_BPF).*$/m, 'one line naming what is missing');
  t.notMatch(bpf.stderr, /^\s+at /m, 'no stack trace');
  const auto = await runCli(['agent', ...where], { ...opts, onSpawn: (pid) => setTimeout(() => process.kill(pid, 'SIGTERM'), 3000) });
  t.equal(auto.code, 0, auto.stderr);
  t.match(auto.stderr, /the bpf source cannot run here; recording containers through notify/);
  t.match(auto.stderr, /"source":"notify"/);
  t.notMatch(auto.stderr, /^\s+at /m, 'no stack trace');
});
