// deploy/: the DaemonSet's paths are the agent's defaults (imported, not
// restated), each on a hostPath at the same path on the node, the grace period
// outlasts the drain, the liveness probe's command really answers from a
// running agent (and fails without one), the image installs the command the
// manifest calls, and `lint deploy/` passes (the rules the agent must break
// accepted by annotation, each with its reason).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_API_SOCKET } from '../src/agent/client.js';
import { DEFAULT_RUNTIME_SOCKET } from '../src/agent/recording-profile.js';
import { DEFAULT_DRAIN_TIMEOUT, DEFAULT_STATE_DIR, parseDuration } from '../src/cli/agent.js';
import { DEFAULT_KUBELET_ROOT } from '../src/profile/pod.js';
import { BUNDLE_PATTERNS, DEFAULT_STATE_ROOTS } from '../src/record/audit/runtime-state.js';
import { startAgent } from './helpers/agent-process.js';
import { REPO, runCli } from './helpers/cli.js';

interface Mount { name: string; mountPath: string; readOnly?: boolean }
interface Container { name: string; image: string; command: string[]; volumeMounts: Mount[]; livenessProbe?: { exec: { command: string[] } }; securityContext: Record<string, unknown> }
interface DaemonSet {
  kind: string;
  metadata: { annotations: Record<string, string> };
  spec: { template: { spec: { hostPID?: boolean; terminationGracePeriodSeconds: number; initContainers: Container[]; containers: Container[]; volumes: { name: string; hostPath?: { path: string } }[] } } };
}

const docs = parseAllDocuments(readFileSync(join(REPO, 'deploy', 'daemonset.yaml'), 'utf8')).map((d) => {
  if (d.errors.length) throw new Error(`deploy/daemonset.yaml: ${d.errors[0].message}`);
  return d.toJS() as { kind: string };
});
const ds = docs.find((d) => d.kind === 'DaemonSet') as DaemonSet;
const pod = ds.spec.template.spec;
const agent = pod.containers.find((c) => c.name === 'agent')!;
const init = pod.initContainers.find((c) => c.name === 'recording-profile')!;
const flag = (c: Container, name: string) => c.command[c.command.indexOf(name) + 1];

/** The host path a container path comes from, through a hostPath volume mounted at the same path. */
function hostPathOf(c: Container, path: string): { host: string; readOnly: boolean } | undefined {
  for (const m of [...c.volumeMounts].sort((a, b) => b.mountPath.length - a.mountPath.length)) {
    if (path !== m.mountPath && !path.startsWith(`${m.mountPath}/`)) continue;
    const v = pod.volumes.find((x) => x.name === m.name);
    if (!v?.hostPath) return undefined;
    return { host: v.hostPath.path + path.slice(m.mountPath.length), readOnly: m.readOnly === true };
  }
  return undefined;
}

t.test('the DaemonSet uses the agent\'s default paths, each the same path on the node', async (t) => {
  t.equal(docs.filter((d) => d.kind === 'DaemonSet').length, 1);
  t.equal(flag(agent, '--state-dir'), DEFAULT_STATE_DIR);
  t.equal(flag(agent, '--socket'), DEFAULT_RUNTIME_SOCKET);
  t.equal(flag(agent, '--api-socket'), DEFAULT_API_SOCKET);
  t.same(hostPathOf(agent, DEFAULT_STATE_DIR), { host: DEFAULT_STATE_DIR, readOnly: false }, 'journal on the node, writable');
  // runc connects to the listenerPath on the node: the socket directory must be the node's, at the same path.
  for (const socket of [DEFAULT_RUNTIME_SOCKET, DEFAULT_API_SOCKET]) t.same(hostPathOf(agent, dirname(socket)), { host: dirname(socket), readOnly: false }, `${socket} is on the node`);
  const seccompDir = join(DEFAULT_KUBELET_ROOT, 'seccomp');
  t.same(hostPathOf(agent, seccompDir), { host: seccompDir, readOnly: true });
  // Every runtime state root and bundle directory the bpf source reads (read-only suffices).
  const roots = [...DEFAULT_STATE_ROOTS.map((r) => r.replace(/\/\*$/, '')), ...BUNDLE_PATTERNS.map((p) => p.slice(0, p.indexOf('/{id}')).replace(/\/\*$/, ''))];
  for (const root of roots) t.equal(hostPathOf(agent, root)?.host, root, `${root} is the node's`);
  t.equal(hostPathOf(agent, '/sys/fs/cgroup')?.host, '/sys/fs/cgroup', 'the node\'s cgroup tree (bpf keys on its ids)');
  t.equal(pod.hostPID, true, 'hostPID: runtime state names host pids');
  t.ok(ds.metadata.annotations['seccomp-recorder.io/accept-host-pid'], 'and says why');
});

t.test('the init container installs the recording profile for the agent\'s socket where the kubelet reads it', async (t) => {
  t.same(init.command.slice(0, 2), ['seccomp-recorder', 'recording-profile']);
  t.equal(flag(init, '--socket'), DEFAULT_RUNTIME_SOCKET);
  const out = flag(init, '-o');
  t.equal(dirname(out), join(DEFAULT_KUBELET_ROOT, 'seccomp', 'seccomp-recorder'));
  t.same(hostPathOf(init, dirname(out)), { host: dirname(out), readOnly: false });
});

t.test('least privilege: every capability dropped but the bpf source\'s, no escalation, a grace period above the drain', async (t) => {
  const caps = agent.securityContext.capabilities as { drop: string[]; add: string[] };
  t.same(caps.drop, ['ALL']);
  t.same([...caps.add].sort(), ['BPF', 'PERFMON']);
  t.equal(agent.securityContext.allowPrivilegeEscalation, false);
  t.not(agent.securityContext.privileged, true);
  const drain = parseDuration(flag(agent, '--drain-timeout') ?? DEFAULT_DRAIN_TIMEOUT, '--drain-timeout');
  t.ok(pod.terminationGracePeriodSeconds * 1000 > drain, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds}s outlasts the drain (${drain} ms)`);
});

t.test('the Containerfile installs the command the manifest runs', async (t) => {
  const containerfile = readFileSync(join(REPO, 'deploy', 'Containerfile'), 'utf8');
  t.match(containerfile, /ln -s \/opt\/seccomp-recorder\/dist\/cli\/main\.js \/usr\/local\/bin\/seccomp-recorder/);
  for (const c of [agent, init]) t.equal(c.command[0], 'seccomp-recorder');
  t.match(containerfile, /libseccomp2/, 'libseccomp at run time (koffi loads it)');
});

t.test('lint deploy/ exits 0: what the agent needs is accepted, with reasons, and listed', async (t) => {
  const r = await runCli(['lint', 'deploy/', '--format', 'json']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { findings: { ruleId: string; severity: string; accepted?: string }[]; summary: { errors: number; workloads: number } };
  t.equal(report.summary.workloads, 1);
  const errors = report.findings.filter((f) => f.severity === 'error');
  t.ok(errors.length > 0 && errors.every((f) => f.accepted), 'every error is accepted...');
  t.same([...new Set(errors.map((f) => f.ruleId))].sort(), ['capabilities-add-dangerous', 'host-pid', 'run-as-non-root', 'run-as-root-user'], '...and only the ones the agent\'s needs explain');
  for (const f of errors) t.equal(f.accepted, ds.metadata.annotations[`seccomp-recorder.io/accept-${f.ruleId}`], `${f.ruleId}: its reason`);
  t.notOk(report.findings.some((f) => /seccomp|privileged|privilege-escalation|capabilities-drop-all/.test(f.ruleId)), 'seccomp set, not privileged, no escalation, ALL dropped');
});

const rootSkip = process.getuid?.() !== 0 ? 'the agent needs root' : false;
t.test('the liveness probe\'s command answers from a running agent, and fails without one', { skip: rootSkip }, async (t) => {
  const probe = agent.livenessProbe!.exec.command;
  t.equal(probe[0], 'seccomp-recorder');
  t.equal(flag({ ...agent, command: probe }, '--api-socket'), DEFAULT_API_SOCKET);
  const running = await startAgent({ t });
  t.teardown(() => running.kill9());
  const args = (api: string) => [...probe.slice(1, probe.indexOf('--api-socket')), '--api-socket', api];
  const ok = await runCli(args(running.apiSocket));
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stdout, 'ok\n');
  t.equal(await running.stop(), 0);
  const down = await runCli(args(running.apiSocket));
  t.not(down.code, 0, 'no agent: the probe fails');
  t.match(down.stderr, /^error: /);
});
