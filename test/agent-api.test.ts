// The agent's API and the `recordings` commands, against the real agent
// process over its unix socket, on a state prepared through the store (no
// container needed here; the runtime tests cover recording for real).
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import YAML from 'yaml';
import type { JournalRecord } from '../src/agent/records.js';
import { RecordingStore } from '../src/agent/store.js';
import { probeCompatAbis } from '../src/record/abi-probe.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { markedEquivalents } from '../src/profile/equivalents.js';
import { parseOciProfile } from '../src/profile/oci.js';
import { parseRecording } from '../src/profile/recording.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const skip = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';
const at = '2026-01-01T00:00:00.000Z';
const NGINX = 'docker.io/library/nginx:1.27';

function seedRecords(): JournalRecord[] {
  const c = (container: string, image: string, namespace: string, name: string): JournalRecord => ({
    k: 'container', at, container, image, source: 'cri-annotations', runtime: 'runc', uncovered: ['write'], namespace, name,
  });
  const w = (container: string, image: string, namespace: string, name: string, calls: [string, number][]): JournalRecord => ({
    k: 'calls', at, container, image, runtime: 'runc', phase: 'workload', namespace, name,
    calls: calls.map(([syscall, nr]) => ({ arch: 'x86_64', syscall, nr, count: 3 })),
  });
  return [
    c('n1', NGINX, 'shop', 'web'),
    w('n1', NGINX, 'shop', 'web', [['read', 0], ['accept4', 288], ['epoll_wait', 232], ['exit_group', 231]]),
    { k: 'calls', at, container: 'n1', image: NGINX, runtime: 'runc', phase: 'runtime', calls: [{ arch: 'x86_64', syscall: 'execve', nr: 59, count: 1 }, { arch: 'x86_64', syscall: 'getdents64', nr: 217, count: 2 }] },
    c('n2', NGINX, 'staging', 'web'),
    w('n2', NGINX, 'staging', 'web', [['read', 0], ['bind', 49]]),
    c('r1', 'docker.io/library/redis:7', 'shop', 'cache'),
    w('r1', 'docker.io/library/redis:7', 'shop', 'cache', [['epoll_wait', 232]]),
  ];
}

async function seededAgent(): Promise<AgentProcess> {
  const dir = tempDir('agent-api');
  mkdirSync(join(dir, 'state'));
  const store = await RecordingStore.open(join(dir, 'state'), pino({ level: 'silent' }));
  for (const r of seedRecords()) store.record(r);
  await store.close();
  return startAgent({ like: { dir } as AgentProcess });
}

t.test('sockets are private; healthz, list, show, recording and metrics answer', { skip }, async (t) => {
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  t.equal(statSync(agent.apiSocket).mode & 0o777, 0o600, 'API socket 0600');
  t.equal(statSync(agent.socket).mode & 0o777, 0o600, 'runtime socket 0600');
  t.equal(statSync(join(agent.dir, 'run')).mode & 0o777, 0o700, 'socket directory 0700');
  t.same(await agent.json('GET', '/healthz'), { status: 'ok', liveContainers: 0, images: 2, journalLagSeconds: 0 });

  const list = await runCli(['recordings', 'list', '--api-socket', agent.apiSocket]);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^IMAGE\s+CONTAINERS\s+LIVE\s+SYSCALLS\s+LAST ACTIVITY\s+IDENTIFIED BY$/m);
  t.match(list.stdout, /^docker\.io\/library\/nginx:1\.27\s+2\s+0\s+5\s+2026-01-01T00:00:00Z\s+cri-annotations$/m);
  t.match(list.stdout, /^docker\.io\/library\/redis:7\s+1\s+0\s+1\s/m);
  t.match(list.stdout, /runtime runc: 2 start-up syscalls over 3 container\(s\)/);
  const json = JSON.parse((await runCli(['recordings', 'list', '--json', '--api-socket', agent.apiSocket])).stdout) as { images: { image: string }[] };
  t.same(json.images.map((i) => i.image), [NGINX, 'docker.io/library/redis:7']);

  const show = await runCli(['recordings', 'show', NGINX, '--api-socket', agent.apiSocket]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /identified by:\s+cri-annotations/);
  t.match(show.stdout, /not observed:\s+write/);
  t.match(show.stdout, /accept4 bind epoll_wait exit_group read/);
  t.match(show.stdout, /shop\/web: 1 container\(s\), 4 syscalls/);
  t.match(show.stdout, /only here: x86_64\/accept4 x86_64\/epoll_wait x86_64\/exit_group/);
  t.match(show.stdout, /staging\/web: 1 container\(s\), 2 syscalls[^\n]*\n\s+only here: x86_64\/bind/);

  const rec = await agent.raw('GET', `/v1/recordings/${encodeURIComponent(NGINX)}/recording`);
  const recording = parseRecording(rec.body, 'api');
  t.same(recording.identity, { image: NGINX });
  t.ok(recording.observations.find((o) => o.syscall === 'getdents64')?.runtimeOnly, 'runtime calls marked');

  const metrics = (await agent.raw('GET', '/metrics')).body;
  t.match(metrics, /^# TYPE seccomp_recorder_live_listeners gauge\nseccomp_recorder_live_listeners 0$/m);
  t.match(metrics, /^seccomp_recorder_images 2$/m);
  t.match(metrics, /^seccomp_recorder_images_incomplete 0$/m);
  for (const m of ['containers_recorded_total', 'notifications_total', 'dropped_connections_total', 'journal_lag_seconds'])
    t.match(metrics, new RegExp(`^# TYPE seccomp_recorder_${m} `, 'm'));
  t.equal(await agent.stop(), 0, 'SIGTERM: clean exit');
});

t.test('profiles in each format, from the generator', { skip }, async (t) => {
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  const out = join(agent.dir, 'nginx.json');
  const oci = await runCli(['recordings', 'profile', NGINX, '--no-baseline', '--exact', '-o', out, '--api-socket', agent.apiSocket]);
  t.equal(oci.code, 0, oci.stderr);
  t.match(oci.stderr, /nginx:1\.27: 8 syscalls allowed \(2 only for the runtime's start-up\); no baseline/);
  const profile = parseOciProfile(readFileSync(out, 'utf8'), out);
  t.same(profile.rules.flatMap((r) => r.names).sort(), ['accept4', 'bind', 'epoll_wait', 'execve', 'exit_group', 'getdents64', 'read', 'write'], 'workload + runtime start-up + write');
  t.equal(profile.defaultAction.kind, 'errno');
  // Without --exact: the equivalents of recorded calls, in their own marked rule.
  const deployable = join(agent.dir, 'nginx.deployable.json');
  const dep = await runCli(['recordings', 'profile', NGINX, '--no-baseline', '-o', deployable, '--api-socket', agent.apiSocket]);
  t.equal(dep.code, 0, dep.stderr);
  t.match(dep.stderr, /plus 6 equivalents of recorded calls \(accept,epoll_pwait,epoll_pwait2,getdents,readv,writev; exact=1 leaves them out\)/);
  t.same(markedEquivalents(parseOciProfile(readFileSync(deployable, 'utf8'), deployable)), ['accept', 'epoll_pwait', 'epoll_pwait2', 'getdents', 'readv', 'writev']);

  const spo = await runCli(['recordings', 'profile', NGINX, '--format', 'spo', '--namespace', 'shop', '--api-socket', agent.apiSocket]);
  t.equal(spo.code, 0, spo.stderr);
  const doc = YAML.parse(spo.stdout) as { kind: string; metadata: { name: string; namespace: string; annotations: Record<string, string> } };
  t.equal(doc.kind, 'SeccompProfile');
  t.same(doc.metadata.name, 'nginx-1.27');
  t.same(doc.metadata.namespace, 'shop');
  t.equal(doc.metadata.annotations['seccomp-recorder/image'], NGINX);

  const pod = await runCli(['recordings', 'profile', NGINX, '--format', 'pod', '--name', 'nginx', '--api-socket', agent.apiSocket]);
  t.equal(pod.code, 0, pod.stderr);
  t.match(pod.stdout, /localhostProfile: seccomp-recorder\/nginx\.json/);
  const noName = await runCli(['recordings', 'profile', NGINX, '--format', 'pod', '--api-socket', agent.apiSocket]);
  t.equal(noName.code, 2);
  t.match(noName.stderr, /--format pod needs --name/);
  const badCaps = await runCli(['recordings', 'profile', NGINX, '--caps', 'CAP_NOPE', '--api-socket', agent.apiSocket]);
  t.equal(badCaps.code, 2);
  t.match(badCaps.stderr, /^error: caps: unknown capabilities CAP_NOPE$/m);

  const withBaseline = await agent.raw('GET', `/v1/recordings/${encodeURIComponent(NGINX)}/profile?baseline=/nonexistent.json`);
  t.equal(withBaseline.status, 400);
  t.match(withBaseline.body, /never a path/);
});

t.test('reset forgets an image durably; unknown images and routes are clear errors', { skip }, async (t) => {
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  const missing = await runCli(['recordings', 'show', 'nginx', '--api-socket', agent.apiSocket]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^error: no recording for image "nginx" \(did you mean: docker\.io\/library\/nginx:1\.27\?\)$/m);

  const reset = await runCli(['recordings', 'reset', NGINX, '--api-socket', agent.apiSocket]);
  t.equal(reset.code, 0, reset.stderr);
  t.match(reset.stderr, /forgot everything recorded for docker\.io\/library\/nginx:1\.27/);
  t.equal((await agent.raw('GET', `/v1/recordings/${encodeURIComponent(NGINX)}`)).status, 404);
  const again = await runCli(['recordings', 'reset', NGINX, '--api-socket', agent.apiSocket]);
  t.equal(again.code, 1, 'resetting an unknown image is an error');

  t.equal((await agent.raw('GET', '/v2/nothing')).status, 404);
  t.equal((await agent.raw('POST', '/v1/recordings')).status, 405);
  t.equal((await agent.raw('GET', '/v1/recordings/%E0%A4%A')).status, 400);
  t.equal((await agent.raw('GET', `/v1/recordings/${encodeURIComponent('docker.io/library/redis:7')}/nope`)).status, 404);

  await agent.kill9(); // the reset was acknowledged: it must survive even this
  const restarted = await startAgent({ like: agent });
  t.teardown(() => restarted.kill9());
  const list = await restarted.json<{ images: { image: string }[] }>('GET', '/v1/recordings');
  t.same(list.images.map((i) => i.image), ['docker.io/library/redis:7']);
  t.equal(await restarted.stop(), 0);
});

t.test('the CLI says what is wrong when no agent answers', async (t) => {
  const dir = tempDir('agent-none', t);
  const r = await runCli(['recordings', 'list', '--api-socket', join(dir, 'api.sock')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error: no agent socket at .*api\.sock: is `seccomp-recorder agent` running\? \(or pass --api-socket\)$/m);
  const bad = await runCli(['agent', '--batch-interval', '5s', '--state-dir', dir]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--batch-interval must be from 10ms to 1s/);
  const dur = await runCli(['agent', '--drain-timeout', 'soon', '--state-dir', dir]);
  t.equal(dur.code, 2);
  t.match(dur.stderr, /--drain-timeout: not a duration: "soon"/);
});

t.test('recording-profile: notes on stderr, a warning while no agent owns the socket, usage errors', async (t) => {
  const dir = tempDir('recprof', t);
  const out = join(dir, 'record.json');
  const r = await runCli(['recording-profile', '--socket', join(dir, 'notify.sock'), '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /runc profile: NOTIFY on \d+ syscalls, default ALLOW/);
  t.match(r.stderr, /not observed \(runc refuses NOTIFY on them, or its init may need them before the agent has the listener\), always allowed in generated profiles: futex, nanosleep, rt_sigreturn, sched_yield, write/);
  t.match(r.stderr, /warning: no agent socket at .*notify\.sock yet: start `seccomp-recorder agent` before any container uses this profile \(runc hangs/);
  const profile = parseOciProfile(readFileSync(out, 'utf8'), out);
  t.equal(profile.listenerPath, join(dir, 'notify.sock'));
  t.equal(profile.defaultAction.kind, 'allow');
  t.notOk(profile.rules[0].names.includes('write'));
  const crun = await runCli(['recording-profile', '--runtime', 'crun', '--socket', '/run/x.sock', '--image', 'app:1', '-q']);
  t.equal(crun.code, 0, crun.stderr);
  t.equal(crun.stderr, '');
  const { architectures, ...rest } = JSON.parse(crun.stdout) as Record<string, unknown>;
  t.same(rest, { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/x.sock', listenerMetadata: 'seccomp-recorder=1&runtime=crun&image=app%3A1', syscalls: [] });
  if (process.arch === 'x64') t.same(architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'the kernel\'s native and compat ABIs');
  // runc compiles its NOTIFY rule for every arch listed at each start: by default only the ABIs this kernel runs.
  const probe = await probeCompatAbis();
  if (probe.applicable) {
    const runs = ['x86_64', ...(probe.i386.runs ? ['x86'] : []), ...(probe.x32.runs ? ['x32'] : [])];
    t.same(profile.architectures, runs, 'runc: native plus the compat ABIs the probe saw run');
    t.match(r.stderr, new RegExp(`architectures: ${runs.join(', ')}\n`));
    if (!probe.x32.runs) t.match(r.stderr, /left out: .*x32 \(not run by this kernel \(x32 getpid → ENOSYS\)\): each ABI listed lengthens the filter runc compiles/);
    const all = await runCli(['recording-profile', '--socket', '/run/x.sock', '--arch', 'x86_64,x86,x32', '-q']);
    t.same((JSON.parse(all.stdout) as { architectures: string[] }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], '--arch keeps every ABI asked for');
  }
  const rel = await runCli(['recording-profile', '--socket', 'notify.sock']);
  t.equal(rel.code, 2);
  t.match(rel.stderr, /--socket must be an absolute path/);
  const mix = await runCli(['recording-profile', '--runtime', 'crun', '--uncovered', 'log']);
  t.equal(mix.code, 2);
  t.match(mix.stderr, /--uncovered applies to --runtime runc/);
});
