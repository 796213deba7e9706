// The built CLI: `seccomp-recorder lint` exit codes (0 clean or all accepted,
// 1 an error, 2 unreadable input), stdin `-`, directories, the JSON shape,
// SARIF 2.1.0's required fields, a YAML error's file and line, and Localhost
// profiles checked against recordings given as files or asked of a real agent.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { RecordingStore } from '../src/agent/store.js';
import { allowListProfile } from '../src/profile/model.js';
import { serializeOci } from '../src/profile/oci.js';
import { nativeBuildStatus } from '../src/record/native.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const FIX = 'test/fixtures/k8s/';
const CLEAN = `apiVersion: v1
kind: Pod
metadata:
  name: clean
spec:
  hostUsers: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: Localhost, localhostProfile: seccomp-recorder/busybox.json}
  containers:
    - name: app
      image: busybox:1.36
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
`;

t.test('text: errors exit 1, each line names file:line, severity, rule, object and container', async (t) => {
  const r = await runCli(['lint', `${FIX}cronjob.yaml`]);
  t.equal(r.code, 1, r.stderr);
  t.equal(r.stderr, '');
  t.match(r.stdout, /^test\/fixtures\/k8s\/cronjob\.yaml:25: error \[privileged\] CronJob\/reports\/nightly-report container "report": privileged: true: seccomp is not applied at all/m);
  t.match(r.stdout, /^test\/fixtures\/k8s\/cronjob\.yaml:26: error \[run-as-root-user\] /m);
  t.match(r.stdout, /\n5 error\(s\), 0 warning\(s\), 1 note\(s\), 0 accepted; 1 workload\(s\), 1 container\(s\) in 1 file\(s\)\n$/);
});

t.test('stdin "-": a clean manifest exits 0; the same with a flaw exits 1', async (t) => {
  const ok = await runCli(['lint', '-'], { input: CLEAN });
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.equal(ok.stdout, '0 error(s), 0 warning(s), 0 note(s), 0 accepted; 1 workload(s), 1 container(s) in 1 file(s)\n');
  const bad = await runCli(['lint', '-'], { input: CLEAN.replace('runAsNonRoot: true', 'runAsNonRoot: false') });
  t.equal(bad.code, 1);
  t.match(bad.stdout, /^<stdin>:8: error \[run-as-non-root\] Pod\/clean container "app": runAsNonRoot: false \(from the Pod securityContext\)$/m);
});

t.test('accepted errors are listed as accepted and do not fail the run', async (t) => {
  const accepted = CLEAN.replace('  name: clean\n', '  name: clean\n  annotations:\n    seccomp-recorder.io/accept-host-pid: "reads the node\'s processes"\n').replace('  hostUsers: false\n', '  hostUsers: false\n  hostPID: true\n');
  const r = await runCli(['lint', '-'], { input: accepted });
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /^<stdin>:9: accepted error \[host-pid\] Pod\/clean: hostPID: true \(accepted: reads the node's processes\)$/m);
  t.match(r.stdout, /0 error\(s\), 0 warning\(s\), 0 note\(s\), 1 accepted/);
});

t.test('JSON: findings with file, line, object, container, rule, severity; a summary', async (t) => {
  const r = await runCli(['lint', '--format', 'json', `${FIX}multi.yaml`]);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { findings: Record<string, unknown>[]; summary: Record<string, number> };
  t.same(doc.summary, { errors: 22, warnings: 1, notes: 3, accepted: 1, files: 1, workloads: 3, containers: 4, otherDocuments: 2 });
  t.same(doc.findings.find((f) => f.ruleId === 'selinux-type'), {
    ruleId: 'selinux-type',
    severity: 'error',
    file: `${FIX}multi.yaml`,
    line: 49,
    object: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'log-shipper', namespace: 'logging' },
    message: 'seLinuxOptions.type spc_t',
    container: 'shipper',
    containerKind: 'container',
  });
  t.equal(doc.findings.find((f) => f.ruleId === 'run-as-non-root' && (f.object as { name: string }).name === 'cache')?.accepted, 'redis image starts as root and drops to uid 999 itself');
});

t.test('SARIF 2.1.0: the fields code scanning requires, rules indexed, acceptance as a suppression', async (t) => {
  const out = join(tempDir('sarif', t), 'lint.sarif');
  const r = await runCli(['lint', '--format', 'sarif', '-o', out, `${FIX}multi.yaml`, `${FIX}cronjob.yaml`]);
  t.equal(r.code, 1, r.stderr);
  t.equal(r.stdout, '', 'written to the file only');
  type Sarif = {
    version: string;
    $schema: string;
    runs: {
      tool: { driver: { name: string; version: string; rules: { id: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }[] } };
      results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; suppressions?: { kind: string; justification: string }[] }[];
    }[];
  };
  const s = JSON.parse(readFileSync(out, 'utf8')) as Sarif;
  t.equal(s.version, '2.1.0');
  t.match(s.$schema, /sarif-2\.1\.0/);
  t.equal(s.runs.length, 1);
  const { driver } = s.runs[0].tool;
  t.equal(driver.name, 'seccomp-recorder');
  t.ok(driver.version);
  const ids = driver.rules.map((x) => x.id);
  t.equal(new Set(ids).size, ids.length, 'rule ids unique');
  for (const rule of driver.rules) {
    t.ok(rule.shortDescription.text, `${rule.id}: shortDescription`);
    t.ok(['error', 'warning', 'note'].includes(rule.defaultConfiguration.level), `${rule.id}: level`);
  }
  const results = s.runs[0].results;
  t.equal(results.length, 27 + 6);
  for (const res of results) {
    t.equal(driver.rules[res.ruleIndex].id, res.ruleId, 'ruleIndex points at the rule');
    t.ok(['error', 'warning', 'note'].includes(res.level));
    t.ok(res.message.text);
    t.equal(res.locations.length, 1);
    t.match(res.locations[0].physicalLocation.artifactLocation.uri, /^test\/fixtures\/k8s\/(multi|cronjob)\.yaml$/);
    t.ok(Number.isInteger(res.locations[0].physicalLocation.region.startLine) && res.locations[0].physicalLocation.region.startLine >= 1);
  }
  const suppressed = results.filter((x) => x.suppressions);
  const abs = JSON.parse((await runCli(['lint', '--format', 'sarif', join(process.cwd(), `${FIX}cronjob.yaml`)])).stdout) as Sarif;
  t.equal(abs.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, `file://${process.cwd()}/${FIX}cronjob.yaml`, 'an absolute path is a file: URI');
  t.same(suppressed.map((x) => [x.ruleId, x.suppressions]), [['run-as-non-root', [{ kind: 'inSource', justification: 'redis image starts as root and drops to uid 999 itself' }]]]);
});

t.test('bad input: YAML that does not parse names file and line, exit 2, nothing on stdout', async (t) => {
  const dir = tempDir('lint-bad', t);
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n');
  const r = await runCli(['lint', file]);
  t.equal(r.code, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, new RegExp(`^error: ${file}: invalid YAML at line 5: `));
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const missing = await runCli(['lint', join(dir, 'nope.yaml')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.yaml: cannot read: no such file/);
  const empty = tempDir('lint-empty', t);
  const none = await runCli(['lint', empty]);
  t.equal(none.code, 2);
  t.match(none.stderr, /no \*\.yaml, \*\.yml or \*\.json files in this directory/);
});

t.test('a directory is read as its manifest files, sorted', async (t) => {
  const r = await runCli(['lint', FIX]);
  t.equal(r.code, 1);
  const files = [...new Set(r.stdout.split('\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]))].filter((f) => f.startsWith('test/'));
  t.same(files, [`${FIX}cronjob.yaml`, `${FIX}deployment-init.yaml`, `${FIX}multi.yaml`]);
  t.match(r.stdout, /in 3 file\(s\)/);
});

function kubeletWithBusyboxProfile(names: string[]): string {
  const root = tempDir('lint-kubelet');
  mkdirSync(join(root, 'seccomp', 'seccomp-recorder'), { recursive: true });
  writeFileSync(join(root, 'seccomp', 'seccomp-recorder', 'busybox.json'), serializeOci(allowListProfile(['x86_64'], names)));
  return root;
}

function recordingFile(image: string, names: [string, number][]): string {
  const file = join(tempDir('lint-rec'), 'rec.json');
  const observations = names.map(([syscall, nr]) => ({ arch: 'x86_64', syscall, nr, count: 1 }));
  writeFileSync(file, JSON.stringify({ kind: 'seccomp-recorder/recording', version: 1, identity: { image }, arches: ['x86_64'], startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', tool: { name: 'seccomp-recorder', version: '0' }, observations, stats: { notifications: 1, lost: 0 } }));
  return file;
}

t.test('--kubelet-root and --recording: a Localhost profile missing, or denying a recorded call, is an error', async (t) => {
  const root = kubeletWithBusyboxProfile(['read', 'write', 'exit_group']);
  const ok = await runCli(['lint', '--kubelet-root', root, '-'], { input: CLEAN });
  t.equal(ok.code, 0, ok.stdout);
  const gone = await runCli(['lint', '--kubelet-root', root, '-'], { input: CLEAN.replace('busybox.json', 'other.json') });
  t.equal(gone.code, 1);
  t.match(gone.stdout, /^<stdin>:9: error \[localhost-profile-missing\] Pod\/clean container "app": seccomp-recorder\/other\.json is not installed/m);
  const rec = recordingFile('docker.io/library/busybox:1.36', [['read', 0], ['write', 1], ['exit_group', 231], ['openat', 257]]);
  const short = await runCli(['lint', '--kubelet-root', root, '--recording', `docker.io/library/busybox:1.36=${rec}`, '-'], { input: CLEAN });
  t.equal(short.code, 1, short.stderr);
  t.match(short.stdout, /\[localhost-profile-uncovered\] Pod\/clean container "app": seccomp-recorder\/busybox\.json denies what was recorded for busybox:1\.36: openat/);
  const noRoot = await runCli(['lint', '--recording', `docker.io/library/busybox:1.36=${rec}`, '-'], { input: CLEAN });
  t.equal(noRoot.code, 2, 'a recording without --kubelet-root would check nothing: refused');
  t.match(noRoot.stderr, /give --kubelet-root/);
  const bad = await runCli(['lint', '--kubelet-root', root, '--recording', 'no-equals-sign', '-'], { input: CLEAN });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--recording expects IMAGE=VALUE/);
});

const skipAgent = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';

t.test('--agent: what the agent recorded for the image decides coverage', { skip: skipAgent }, async (t) => {
  const dir = tempDir('lint-agent', t);
  mkdirSync(join(dir, 'state'));
  const store = await RecordingStore.open(join(dir, 'state'), pino({ level: 'silent' }));
  const at = '2026-01-01T00:00:00.000Z';
  const image = 'docker.io/library/busybox:1.36';
  store.record({ k: 'container', at, container: 'b1', image, source: 'cri-annotations', runtime: 'runc', uncovered: [], namespace: 'default', name: 'app' });
  store.record({ k: 'calls', at, container: 'b1', image, runtime: 'runc', phase: 'workload', namespace: 'default', name: 'app', calls: [['read', 0], ['write', 1], ['exit_group', 231], ['nanosleep', 35]].map(([syscall, nr]) => ({ arch: 'x86_64', syscall: syscall as string, nr: nr as number, count: 1 })) });
  await store.close();
  const agent: AgentProcess = await startAgent({ like: { dir } as AgentProcess });
  t.teardown(() => agent.kill9());
  const root = kubeletWithBusyboxProfile(['read', 'write', 'exit_group']);
  const r = await runCli(['lint', '--agent', '--api-socket', agent.apiSocket, '--kubelet-root', root, '-'], { input: CLEAN });
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /\[localhost-profile-uncovered\] .*denies what was recorded for busybox:1\.36: nanosleep$/m);
  const enough = kubeletWithBusyboxProfile(['read', 'write', 'exit_group', 'nanosleep']);
  const ok = await runCli(['lint', '--agent', '--api-socket', agent.apiSocket, '--kubelet-root', enough, '-'], { input: CLEAN });
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  const noAgent = await runCli(['lint', '--agent', '--kubelet-root', root, '--api-socket', join(dir, 'nothing.sock'), '-'], { input: CLEAN });
  t.equal(noAgent.code, 1);
  t.match(noAgent.stderr, /^error: no agent socket at /);
});
