// Kubernetes' path for real: the kubelet's CRI calls (played by this test over
// gRPC) → containerd 1.6's CRI plugin → its runc shim → runc. A Pod runs with
// the recording profile as its Localhost profile (notify source), another with
// no profile at all (bpf source); each container is attributed to its Pod,
// namespace, container name and image, the pod sandbox kept apart from the
// workload. Then the loop closes through the CRI: the image's profile,
// exported into the kubelet's seccomp directory, lets the same Pod run with
// the same output, and with one syscall it needs removed, the Pod fails.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SANDBOX_IMAGE } from '../src/agent/identity.js';
import type { ImageDetail } from '../src/agent/views.js';
import { bpfUnavailableReason } from '../src/record/sources.js';
import { nativeBuildStatus } from '../src/record/native.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { runPod } from './helpers/cri/pod.js';
import { criSkipReason, startCriNode, WORKLOAD_IMAGE } from './helpers/cri/setup.js';
import type { CriNode } from './helpers/cri/setup.js';

const skip = (nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)') || criSkipReason();
if (skip) console.log(`# skipping the CRI tests: ${skip}`);

// `&&` makes the Pod fail when any step does; mkdir(2) is the workload's alone
// (runc's start-up, under the same filter, needs e.g. getdents64 itself).
const WORKLOAD = ['/bin/sh', '-c', 'echo hello && ls / && mkdir /tmp/made && cat /proc/self/stat > /dev/null'];

/** `recordings show IMAGE --json` through the CLI, as a user runs it. */
async function show(agent: AgentProcess, image: string): Promise<ImageDetail> {
  const r = await runCli(['recordings', 'show', image, '--json', '--api-socket', agent.apiSocket]);
  if (r.code !== 0) throw new Error(`recordings show ${image}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ImageDetail;
}
const present = (agent: AgentProcess, image: string) => show(agent, image).catch(() => undefined);
const names = (d: ImageDetail) => new Set(d.calls.map((o) => o.syscall));
const groups = (d: ImageDetail) => d.groups.map((g) => ({ namespace: g.namespace, name: g.name, pods: g.pods }));

/** The localhost-profile-* rule ids `lint` reports for a Deployment of the image under this Localhost profile. */
async function lintLocalhost(node: CriNode, localhostProfile: string, recording: string): Promise<string[]> {
  const manifest = join(node.dir, 'web.yaml');
  writeFileSync(manifest, [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: web, namespace: staging}', 'spec:', '  template:', '    spec:', '      containers:',
    `        - name: app`, `          image: ${WORKLOAD_IMAGE}`, '          securityContext:', `            seccompProfile: {type: Localhost, localhostProfile: ${localhostProfile}}`, '',
  ].join('\n'));
  const r = await runCli(['lint', manifest, '--format', 'json', '--kubelet-root', node.kubeletRoot, '--recording', `${WORKLOAD_IMAGE}=${recording}`]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`lint: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId).filter((id) => id.startsWith('localhost-profile'));
}

t.test('Pods through containerd\'s CRI', { skip, timeout: 240_000 }, async (t) => {
  const node: CriNode = await startCriNode();
  t.teardown(() => node.stop());
  const version = await node.cri.runtime('Version', { version: 'v1' });
  t.equal(version.runtime_name, 'containerd', `containerd ${String(version.runtime_version)} answers the CRI`);
  t.ok((await node.cri.image('ImageStatus', { image: { image: WORKLOAD_IMAGE } })).image, 'the imported OCI archive is an image the CRI knows');
  const seccompDir = join(node.kubeletRoot, 'seccomp');
  const pod = (name: string, uid: string, namespace: string, seccompProfile?: string, profileOn: 'pod' | 'container' = 'pod') =>
    runPod(node.cri, { name, uid, namespace, container: 'app', image: WORKLOAD_IMAGE, command: WORKLOAD, seccompProfile, profileOn, logDir: node.logDir });

  await t.test('notify: a Pod with the recording profile as its Localhost profile; the exported profile enforced', async (t) => {
    const agent = await startAgent({ t, args: ['--batch-interval', '100ms'] });
    t.teardown(() => agent.kill9());
    const rp = await runCli(['recording-profile', '--runtime', 'runc', '--socket', agent.socket, '-q']);
    t.equal(rp.code, 0, rp.stderr);
    // Where the kubelet finds localhostProfile: seccomp-recorder/record.json (it hands the CRI the full path).
    const recordingPath = join(seccompDir, 'record.json');
    writeFileSync(recordingPath, rp.stdout);

    const recorded = await pod('web-0', 'uid-web-0', 'staging', recordingPath);
    t.equal(recorded.exitCode, 0, `the Pod ran under the recording profile: ${recorded.stderr}`);
    t.match(recorded.stdout, /^hello\nbin\n/, 'and printed what it prints');

    const d = await eventually(() => present(agent, WORKLOAD_IMAGE), (v) => !!v && v.liveContainers === 0 && v.notifications > 0, 30_000);
    t.same(d!.sources, ['cri-annotations'], 'named by containerd\'s annotations in the state message');
    t.same(groups(d!), [{ namespace: 'staging', name: 'app', pods: ['web-0'] }], 'attributed to its Pod, namespace and container name');
    for (const n of ['execve', 'getdents64', 'openat', 'exit_group']) t.ok(names(d!).has(n), `workload call ${n}`);
    // mkdir or mkdirat, as this libc makes it; runc never does after installing the filter.
    const removed = ['mkdir', 'mkdirat'].find((n) => names(d!).has(n) && !d!.runtimeCalls.runc.some((c) => c.endsWith(`/${n}`)));
    t.ok(removed, 'the workload\'s mkdir is recorded, and is not runc\'s');
    t.notOk(names(d!).has('pause'), 'the sandbox\'s pause(2) is not in the workload');
    const sandbox = await eventually(() => present(agent, SANDBOX_IMAGE), (v) => !!v && v.liveContainers === 0, 30_000);
    t.ok(names(sandbox!).has('pause'), 'the pause container is recorded apart, under its own key');
    t.same(groups(sandbox!), [{ namespace: 'staging', name: undefined, pods: ['web-0'] }]);

    // Close the loop: profile -> export into the kubelet's directory -> the same Pod under it.
    const profileFile = join(node.dir, 'busybox.json');
    const gen = await runCli(['recordings', 'profile', WORKLOAD_IMAGE, '-o', profileFile, '-q', '--api-socket', agent.apiSocket]);
    t.equal(gen.code, 0, gen.stderr);
    const exp = await runCli(['export', profileFile, '--name', 'cri-busybox', '--kubelet-root', node.kubeletRoot, '-q']);
    t.equal(exp.code, 0, exp.stderr);
    const localhostProfile = /^localhostProfile: (\S+)$/m.exec(exp.stdout)?.[1];
    t.equal(localhostProfile, 'seccomp-recorder/cri-busybox.json');
    const enforced = await pod('web-0', 'uid-web-0-b', 'staging', join(seccompDir, localhostProfile!), 'container');
    t.equal(enforced.exitCode, 0, `the same Pod runs under the exported profile: ${enforced.stderr}`);
    t.equal(enforced.stdout, recorded.stdout, 'with the same output');

    // The README's last step: lint proves the installed profile covers what was recorded.
    const recFile = join(node.dir, 'busybox.rec.json');
    const rec = await runCli(['recordings', 'recording', WORKLOAD_IMAGE, '-o', recFile, '--api-socket', agent.apiSocket]);
    t.equal(rec.code, 0, rec.stderr);
    const lint = (profileName: string) => lintLocalhost(node, profileName, recFile);
    t.same(await lint(localhostProfile!), [], 'lint: the exported profile is installed and covers the recording');

    const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { syscalls: { names: string[] }[] };
    t.ok(profile.syscalls.some((r) => r.names.includes(removed!)), `the profile allows ${removed}`);
    for (const r of profile.syscalls) r.names = r.names.filter((n) => n !== removed);
    profile.syscalls = profile.syscalls.filter((r) => r.names.length);
    const lessFile = join(node.dir, 'busybox-less.json');
    writeFileSync(lessFile, JSON.stringify(profile));
    const expLess = await runCli(['export', lessFile, '--name', 'cri-busybox-less', '--kubelet-root', node.kubeletRoot, '-q']);
    t.equal(expLess.code, 0, expLess.stderr);
    t.same(await lint('seccomp-recorder/cri-busybox-less.json'), ['localhost-profile-uncovered'], `lint: the profile without ${removed} does not cover the recording`);
    const denied = await pod('web-0', 'uid-web-0-c', 'staging', join(seccompDir, 'seccomp-recorder', 'cri-busybox-less.json'), 'container');
    t.not(denied.exitCode, 0, `without ${removed} the Pod fails: the exported profile is enforced, not an allow-all`);
    t.equal(denied.stdout, recorded.stdout, 'after the steps before it ran');
    t.match(denied.stderr, /mkdir/, 'at the step that needs it');
    t.equal(await agent.stop(), 0);
  });

  const bpfSkip = bpfUnavailableReason();
  await t.test('bpf: a Pod with no profile at all', { skip: bpfSkip || false }, async (t) => {
    const agent = await startAgent({ t, args: ['--source', 'bpf', '--batch-interval', '100ms', '--bpf-grace', '1s'] });
    t.teardown(() => agent.kill9());
    const run = await pod('batch-0', 'uid-batch-0', 'jobs');
    t.equal(run.exitCode, 0, run.stderr);
    t.match(run.stdout, /^hello\nbin\n/);
    await agent.waitForLog((l) => l.msg === 'container finished' && l.container === run.containerId, 30_000);
    const d = await eventually(() => present(agent, WORKLOAD_IMAGE), (v) => !!v && v.liveContainers === 0 && v.notifications > 0, 30_000);
    t.same(d!.sources, ['bundle-config'], 'named by the CRI annotations in the bundle containerd wrote');
    t.same(groups(d!), [{ namespace: 'jobs', name: 'app', pods: ['batch-0'] }], 'attributed to its Pod, namespace and container name');
    for (const n of ['execve', 'getdents64', 'exit_group']) t.ok(names(d!).has(n), `workload call ${n}`);
    t.notOk(names(d!).has('pause'), 'the sandbox\'s pause(2) is not in the workload');
    t.equal(d!.privileged, false);
    await agent.waitForLog((l) => l.msg === 'container finished' && l.container === run.sandboxId, 30_000);
    const sandbox = await eventually(() => present(agent, SANDBOX_IMAGE), (v) => !!v && v.liveContainers === 0, 30_000);
    t.ok(names(sandbox!).has('pause'), 'the pause container is recorded apart');
    // A node agent records every container it sees: the previous subtest's sandboxes, torn down as this agent
    // started, may add their own group under the same pause image; this Pod's sandbox must be there.
    t.ok(groups(sandbox!).some((g) => g.namespace === 'jobs' && g.name === undefined && g.pods?.length === 1 && g.pods[0] === 'batch-0'), `the sandbox attributed to its Pod and namespace: ${JSON.stringify(groups(sandbox!))}`);
    t.equal(await agent.stop(), 0);
  });
});
