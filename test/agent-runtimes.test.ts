// The agent with real runtimes: busybox containers run by runc and crun under
// the printed recording profiles, with containerd-CRI annotations in
// config.json. Attribution, per-image merging, the API's profile enforced by
// runc, hostile clients during a real recording, and kill -9 of the agent.
import { spawn } from 'node:child_process';
import t from 'tap';
import type { ImageDetail, ImageSummary } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { nativeArchName } from '../src/seccomp/arch.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';

const ARCH = nativeArchName();
const native = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';
const runcSkip = native || containerSkipReason('runc');
const crunSkip = native || containerSkipReason('crun');

const WORKLOAD = ['/bin/sh', '-c', 'echo hello; ls / > /dev/null; cat /proc/self/status > /dev/null'];

async function recordingProfile(agent: AgentProcess, runtime: 'runc' | 'crun'): Promise<unknown> {
  const r = await runCli(['recording-profile', '--runtime', runtime, '--socket', agent.socket, '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const show = (agent: AgentProcess, image: string) => agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent(image)}`);
const images = async (agent: AgentProcess) => (await agent.json<{ images: ImageSummary[] }>('GET', '/v1/recordings')).images;
const names = (d: ImageDetail) => d.calls.map((o) => `${o.arch}/${o.syscall ?? o.nr}`);

t.test('runc and crun containers: attributed by annotation, merged per image, the API profile enforced by runc', { skip: runcSkip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const runcProfile = await recordingProfile(agent, 'runc');

  const a = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: runcProfile, annotations: criAnnotations('test.local/busybox:1', 'box', 'team-a') });
  t.equal(a.code, 0, `runc under the recording profile: ${a.stderr}`);
  t.equal(a.stdout, 'hello\n');
  let expected = 1;
  // A skip with its reason when crun is missing (.ci/run installs it); the rest checks runc alone then.
  await t.test('the crun container of the same image', { skip: crunSkip }, async (t) => {
    const b = await runAnnotated({ t, runtime: 'crun', args: WORKLOAD, seccomp: await recordingProfile(agent, 'crun'), annotations: criAnnotations('test.local/busybox:1', 'box', 'team-b') });
    t.equal(b.code, 0, `crun under its recording profile (NOTIFY as the default action): ${b.stderr}`);
    expected = 2;
  });
  const c = await runAnnotated({ t, runtime: 'runc', args: ['/bin/sh', '-c', 'echo other; id > /dev/null'], seccomp: runcProfile, annotations: criAnnotations('test.local/other:2', 'other', 'team-a') });
  t.equal(c.code, 0, c.stderr);

  const list = await eventually(() => images(agent), (l) => l.length === 2 && l[0].containers === expected && l[0].liveContainers === 0);
  t.same(list.map((i) => [i.image, i.containers, i.sources]), [
    ['test.local/busybox:1', expected, ['cri-annotations']],
    ['test.local/other:2', 1, ['cri-annotations']],
  ]);
  const box = await show(agent, 'test.local/busybox:1');
  t.same(box.groups.map((g) => [g.namespace, g.name]), expected === 2 ? [['team-a', 'box'], ['team-b', 'box']] : [['team-a', 'box']]);
  t.same(box.runtimes, expected === 2 ? ['crun', 'runc'] : ['runc']);
  for (const s of ['execve', 'openat', 'getdents64', 'exit_group', 'wait4']) t.ok(names(box).includes(`${ARCH}/${s}`), `image recorded ${s}`);
  t.ok(box.runtimeCalls.runc.includes(`${ARCH}/execve`), 'runc\'s start-up calls are attributed to runc');
  if (expected === 2) {
    t.ok(box.groups[1].onlyHere.includes(`${ARCH}/write`), 'write is observed only under crun (NOTIFY default)...');
    t.ok(box.runtimeCalls.crun.length > 0, 'crun\'s start-up calls are attributed to crun');
  } else t.notOk(names(box).includes(`${ARCH}/write`), 'write is never notified under runc...');
  t.same(box.assumed, ['futex', 'nanosleep', 'rt_sigreturn', 'sched_yield', 'write'], '...so it is carried as always allowed (and the Go runtime\'s calls left out of the runc profile)');
  const other = await show(agent, 'test.local/other:2');
  t.ok(names(other).includes(`${ARCH}/getgroups`) || names(other).includes(`${ARCH}/getgid`), 'the second image has its own calls (id)');
  t.notOk(names(box).includes(`${ARCH}/getgroups`), 'and they did not leak into the first');

  const profile = await agent.raw('GET', `/v1/recordings/${encodeURIComponent('test.local/busybox:1')}/profile`);
  t.equal(profile.status, 200);
  const enforced = JSON.parse(profile.body) as unknown;
  const run = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: enforced });
  t.equal(run.code, 0, `the generated profile lets the same workload run under runc: ${run.stderr}`);
  t.equal(run.stdout, 'hello\n');
  const denied = await runAnnotated({ t, runtime: 'runc', args: ['/bin/sh', '-c', 'echo hello; id'], seccomp: enforced });
  t.not(denied.code, 0, 'and it is no allow-all: `id`, never recorded for this image, fails under it');
  t.equal(await agent.stop(), 0);
});

t.test('hostile clients while a real container is recorded: it finishes normally, its recording complete', { skip: runcSkip || (!hasCommand('gcc') && 'gcc is not installed') }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const profile = await recordingProfile(agent, 'runc');
  const slowWorkload = ['/bin/sh', '-c', 'i=0; while [ $i -lt 20 ]; do cat /proc/self/status > /dev/null; i=$((i+1)); sleep 0.1; done; echo done'];

  const solo = await runAnnotated({ t, runtime: 'runc', args: slowWorkload, seccomp: profile, annotations: criAnnotations('test.local/solo:1', 'w') });
  t.equal(solo.code, 0, solo.stderr);

  const bin = fixture('agent-client', ['-lseccomp']);
  const hostile = ['stall', 'partial', 'badjson', 'nofd', 'twofds', 'notseccomp', 'huge'].map(
    (mode, i) =>
      new Promise<number | null>((resolve) => {
        setTimeout(() => spawn(bin, [agent.socket, mode, `h-${mode}`, 'test.local/bad:1'], { stdio: 'ignore' }).on('exit', resolve), 100 + i * 150);
      }),
  );
  const underFire = await runAnnotated({ t, runtime: 'runc', args: slowWorkload, seccomp: profile, annotations: criAnnotations('test.local/underfire:1', 'w') });
  t.equal(underFire.code, 0, `the container finished normally: ${underFire.stderr}`);
  t.equal(underFire.stdout, 'done\n');
  t.same([...new Set(await Promise.all(hostile))], [0], 'the hostile clients ran');
  await eventually(() => images(agent), (l) => l.every((i) => i.liveContainers === 0) && l.length === 2);
  const a = await show(agent, 'test.local/solo:1');
  const b = await show(agent, 'test.local/underfire:1');
  t.same(names(b), names(a), 'the same syscalls as the same workload recorded alone');
  t.same(b.runtimeCalls, a.runtimeCalls);
  t.equal((await images(agent)).length, 2, 'nothing recorded for the hostile clients');
  t.equal(agent.logs.filter((l) => l.msg === 'runtime connection refused').length, 6);
  t.equal(await agent.stop(), 0);
});

t.test('kill -9 after a recording: after a restart the observations are all there', { skip: runcSkip }, async (t) => {
  const agent = await startAgent({ t });
  t.teardown(() => agent.kill9());
  const r = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: await recordingProfile(agent, 'runc'), annotations: criAnnotations('test.local/crash:1', 'box') });
  t.equal(r.code, 0, r.stderr);
  const before = await eventually(() => show(agent, 'test.local/crash:1').catch(() => undefined), (d) => d?.liveContainers === 0 && d.notifications > 0);
  await new Promise((resolve) => setTimeout(resolve, 2500)); // two batch intervals
  await agent.kill9();
  const again = await startAgent({ like: agent });
  t.teardown(() => again.kill9());
  const after = await show(again, 'test.local/crash:1');
  t.same(after, before, 'the same image detail, field for field');
  t.ok(after.calls.length > 10);
  t.equal(await again.stop(), 0);
});
