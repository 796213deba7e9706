// The built CLI: `seccomp-recorder patch`. Golden outputs for the fixtures
// (comments, key order, quoting, sequence style kept; other kinds and custom
// resources untouched), --diff (applied by GNU patch, it gives the golden),
// --in-place all-or-nothing, the list of containers without a profile,
// replacing another profile, idempotence, --format spo, the agent as source
// (exported where the manifests point, then accepted by lint), bad input.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import YAML from 'yaml';
import { RecordingStore } from '../src/agent/store.js';
import { exportProfile } from '../src/profile/export.js';
import { allowListProfile } from '../src/profile/model.js';
import { parseOciProfile } from '../src/profile/oci.js';
import { profileFromSpoObject } from '../src/profile/spo.js';
import { nativeBuildStatus } from '../src/record/native.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { hasCommand } from './helpers/fixtures.js';
import { tempDir } from './helpers/tmp.js';

const FIX = 'test/fixtures/k8s/';
const FILES = ['deployment-init', 'multi', 'cronjob'];
const BUILDER = 'registry.example.com/reports/builder:2.4.1';
const MAP = ['--map', `${BUILDER}=report-builder`];

/** A kubelet root with the profiles the fixtures' images resolve to, exported as `export` does. */
async function kubeletRoot(): Promise<string> {
  const root = tempDir('patch-kubelet');
  for (const name of ['busybox-1.36', 'nginx-1.27', 'redis-7', 'report-builder'])
    await exportProfile({ profile: allowListProfile(['x86_64'], ['read', 'write', 'exit_group', name.startsWith('nginx') ? 'accept4' : 'nanosleep']), name, kubeletRoot: root });
  return root;
}

const comments = (text: string) => text.split('\n').filter((l) => l.includes('#')).map((l) => l.trim());

t.test('golden: each fixture patched, comments and formatting kept, nothing else changed', async (t) => {
  const root = await kubeletRoot();
  const out = tempDir('patch-out', t);
  for (const f of FILES) {
    const r = await runCli(['patch', '--kubelet-root', root, ...MAP, `${FIX}${f}.yaml`, '-o', join(out, `${f}.yaml`)]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, '');
    const got = readFileSync(join(out, `${f}.yaml`), 'utf8');
    t.equal(got, readFileSync(`test/fixtures/k8s-patched/${f}.yaml`, 'utf8'), `${f}: golden`);
    t.same(comments(got), comments(readFileSync(`${FIX}${f}.yaml`, 'utf8')), `${f}: every comment kept, in order`);
  }
  // Only additions: every original line survives, in order (a subsequence of the output).
  const before = readFileSync(`${FIX}multi.yaml`, 'utf8').split('\n');
  const after = readFileSync(`test/fixtures/k8s-patched/multi.yaml`, 'utf8').split('\n');
  let j = 0;
  for (const line of after) if (line === before[j]) j++;
  t.equal(j, before.length, 'the original is a subsequence of the patched file');
  // The custom resource and the Service are byte for byte the same.
  const docs = (text: string) => text.split(/^---$/m);
  t.equal(docs(after.join('\n'))[0], docs(before.join('\n'))[0], 'the Service');
  t.equal(docs(after.join('\n'))[3], docs(before.join('\n'))[3], 'the custom resource');
  // What was set is what the kubelet reads.
  const pod = YAML.parseAllDocuments(readFileSync(`test/fixtures/k8s-patched/multi.yaml`, 'utf8'))[4].toJS() as { spec: { ephemeralContainers: { securityContext: unknown }[] } };
  t.same(pod.spec.ephemeralContainers[0].securityContext, { appArmorProfile: { type: 'Unconfined' }, seccompProfile: { type: 'Localhost', localhostProfile: 'seccomp-recorder/busybox-1.36.json' } });
});

t.test('containers without a profile are listed on stderr; privileged ones are flagged', async (t) => {
  const root = await kubeletRoot();
  const r = await runCli(['patch', '--kubelet-root', root, `${FIX}multi.yaml`, `${FIX}cronjob.yaml`, `${FIX}deployment-init.yaml`, '-o', join(tempDir('patch-all', t), 'all.yaml')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^seccomp-recorder: 6 container\(s\) given a Localhost profile \(0 replacing another\), 0 already set, 3 without a profile; 3 file\(s\)$/m);
  const listed = r.stderr.split('no profile for:\n')[1].trimEnd().split('\n');
  t.same(listed, [
    `  ${FIX}multi.yaml:44 DaemonSet/logging/log-shipper container "shipper": fluent/fluent-bit:3.0 (looked for seccomp-recorder/fluent-bit-3.0.json)`,
    `  ${FIX}cronjob.yaml:19 CronJob/reports/nightly-report container "report": ${BUILDER} (looked for seccomp-recorder/builder-2.4.1.json)`,
    `  ${FIX}deployment-init.yaml:46 Deployment/shop/shop-web container "exporter": quay.io/prometheus/nginx-exporter:v1.1 (looked for seccomp-recorder/nginx-exporter-v1.1.json)`,
  ]);
  const withMap = await runCli(['patch', '--kubelet-root', root, ...MAP, `${FIX}cronjob.yaml`]);
  t.match(withMap.stderr, /PRIVILEGED: test\/fixtures\/k8s\/cronjob\.yaml:19 CronJob\/reports\/nightly-report container "report": seccomp is not applied to privileged containers/);
});

t.test('--diff prints a unified diff and writes nothing; GNU patch applies it to give the golden', async (t) => {
  const root = await kubeletRoot();
  const dir = tempDir('patch-diff', t);
  const file = join(dir, 'deployment-init.yaml');
  copyFileSync(`${FIX}deployment-init.yaml`, file);
  const mtime = statSync(file).mtimeMs;
  const r = await runCli(['patch', '-q', '--diff', '--kubelet-root', root, file]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  t.equal(readFileSync(file, 'utf8'), readFileSync(`${FIX}deployment-init.yaml`, 'utf8'), 'the manifest is not touched');
  t.equal(statSync(file).mtimeMs, mtime);
  t.match(r.stdout, new RegExp(`^--- a/${file}\\n\\+\\+\\+ b/${file}\\n@@ -27,9 \\+27,17 @@\\n`));
  t.equal(r.stdout.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')).length, 11, '11 lines added');
  t.equal(r.stdout.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---')).length, 0, 'none removed');
  const none = await runCli(['patch', '-q', '--diff', '--kubelet-root', root, `test/fixtures/k8s-patched/deployment-init.yaml`]);
  t.equal(none.stdout, '', 'an already patched manifest: an empty diff');
});

t.test('--diff applied by GNU patch gives the golden, for every fixture', { skip: hasCommand('patch') ? false : 'GNU patch is missing (apt-get install patch)' }, async (t) => {
  const root = await kubeletRoot();
  const dir = tempDir('patch-apply', t);
  for (const f of FILES) {
    const r = await runCli(['patch', '-q', '--diff', '--kubelet-root', root, ...MAP, `${FIX}${f}.yaml`]);
    t.equal(r.code, 0, r.stderr);
    writeFileSync(join(dir, `${f}.diff`), r.stdout);
    execFileSync('patch', ['-s', '-o', join(dir, `${f}.yaml`), `${FIX}${f}.yaml`, join(dir, `${f}.diff`)]);
    t.equal(readFileSync(join(dir, `${f}.yaml`), 'utf8'), readFileSync(`test/fixtures/k8s-patched/${f}.yaml`, 'utf8'), f);
  }
});

t.test('a file without a final newline keeps it that way', async (t) => {
  const root = await kubeletRoot();
  const r = await runCli(['patch', '-q', '--kubelet-root', root, '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27' });
  t.equal(r.stdout, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: seccomp-recorder/nginx-1.27.json');
});

t.test('idempotent; another profile already set is replaced and reported', async (t) => {
  const root = await kubeletRoot();
  const again = await runCli(['patch', '--kubelet-root', root, ...MAP, `test/fixtures/k8s-patched/cronjob.yaml`]);
  t.equal(again.stdout, readFileSync(`test/fixtures/k8s-patched/cronjob.yaml`, 'utf8'), 'patching the patched file changes nothing');
  t.match(again.stderr, /0 container\(s\) given a Localhost profile \(0 replacing another\), 1 already set/);
  const input = 'kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext: {seccompProfile: {type: RuntimeDefault}}\n  - name: d\n    image: nginx:1.27\n    securityContext:\n';
  const r = await runCli(['patch', '--kubelet-root', root, '-'], { input });
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    'kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext: {seccompProfile: {type: Localhost, localhostProfile: seccomp-recorder/nginx-1.27.json}}\n  - name: d\n    image: nginx:1.27\n    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: seccomp-recorder/nginx-1.27.json\n',
  );
  t.match(r.stderr, /replaced RuntimeDefault → seccomp-recorder\/nginx-1\.27\.json: <stdin>:6 Pod\/p container "c"/);
});

t.test('--in-place rewrites every file, or none when one of them is bad', async (t) => {
  const root = await kubeletRoot();
  const dir = tempDir('patch-inplace', t);
  for (const f of FILES) copyFileSync(`${FIX}${f}.yaml`, join(dir, `${f}.yaml`));
  writeFileSync(join(dir, 'zz-broken.yaml'), 'kind: Pod\nspec:\n  containers: [\n');
  const bad = await runCli(['patch', '--in-place', '--kubelet-root', root, ...MAP, dir]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^error: .*zz-broken\.yaml: invalid YAML at line \d+/);
  for (const f of FILES) t.equal(readFileSync(join(dir, `${f}.yaml`), 'utf8'), readFileSync(`${FIX}${f}.yaml`, 'utf8'), `${f} untouched`);
  writeFileSync(join(dir, 'zz-broken.yaml'), 'kind: ConfigMap\napiVersion: v1\n');
  const ok = await runCli(['patch', '--in-place', '--kubelet-root', root, ...MAP, dir]);
  t.equal(ok.code, 0, ok.stderr);
  for (const f of FILES) t.equal(readFileSync(join(dir, `${f}.yaml`), 'utf8'), readFileSync(`test/fixtures/k8s-patched/${f}.yaml`, 'utf8'), `${f} patched`);
  t.equal(readFileSync(join(dir, 'zz-broken.yaml'), 'utf8'), 'kind: ConfigMap\napiVersion: v1\n', 'other kinds untouched');
});

t.test('--format spo: a SeccompProfile and a ProfileBinding per namespace and image', async (t) => {
  const root = await kubeletRoot();
  const r = await runCli(['patch', '--format', 'spo', '--namespace', 'dev', '--kubelet-root', root, `${FIX}deployment-init.yaml`, `${FIX}multi.yaml`]);
  t.equal(r.code, 0, r.stderr);
  const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: Record<string, unknown> });
  t.same(
    docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
    [
      'SeccompProfile dev/busybox-1.36', 'ProfileBinding dev/busybox-1.36',
      'SeccompProfile dev/redis-7', 'ProfileBinding dev/redis-7',
      'SeccompProfile shop/busybox-1.36', 'ProfileBinding shop/busybox-1.36',
      'SeccompProfile shop/nginx-1.27', 'ProfileBinding shop/nginx-1.27',
    ],
  );
  const binding = docs.find((d) => d.kind === 'ProfileBinding' && d.metadata.name === 'redis-7')!;
  t.equal(binding.apiVersion, 'security-profiles-operator.x-k8s.io/v1alpha1');
  t.same(binding.spec, { profileRef: { kind: 'SeccompProfile', name: 'redis-7' }, image: 'docker.io/library/redis:7' });
  const nginx = docs.find((d) => d.kind === 'SeccompProfile' && d.metadata.name === 'nginx-1.27')!;
  t.equal(nginx.metadata.annotations!['seccomp-recorder/image'], 'nginx:1.27');
  const exported = parseOciProfile(readFileSync(join(root, 'seccomp', 'seccomp-recorder', 'nginx-1.27.json'), 'utf8'), 'x');
  t.same(profileFromSpoObject(nginx, 'spo').profile, exported, 'the SeccompProfile holds the exported profile');
  const noContent = await runCli(['patch', '--format', 'spo', '--map', 'nginx:1.27=web', `${FIX}deployment-init.yaml`]);
  t.equal(noContent.code, 2);
  t.match(noContent.stderr, /--format spo needs the content of seccomp-recorder\/web\.json/);
});

t.test('bad use: no profile source, --in-place on stdin, a mapped profile not exported', async (t) => {
  const none = await runCli(['patch', `${FIX}cronjob.yaml`]);
  t.equal(none.code, 2);
  t.match(none.stderr, /^error: say where profiles come from/);
  const stdin = await runCli(['patch', '--in-place', '--map', 'a=b', '-']);
  t.equal(stdin.code, 2);
  const root = await kubeletRoot();
  const gone = await runCli(['patch', '--kubelet-root', root, '--map', 'nginx:1.27=absent', `${FIX}deployment-init.yaml`]);
  t.equal(gone.code, 2);
  t.match(gone.stderr, /absent\.json: --map nginx:1\.27=absent: no such profile \(export it first\)/);
  const badName = await runCli(['patch', '--map', 'nginx:1.27=../x', `${FIX}deployment-init.yaml`]);
  t.equal(badName.code, 2);
  t.match(badName.stderr, /must not contain "\/"/);
  t.equal(badName.stdout, '', 'nothing half-written');
});

const skipAgent = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';

t.test('--agent: the agent\'s profiles are exported where the manifests now point, and lint is then satisfied', { skip: skipAgent }, async (t) => {
  const dir = tempDir('patch-agent', t);
  mkdirSync(join(dir, 'state'));
  const store = await RecordingStore.open(join(dir, 'state'), pino({ level: 'silent' }));
  const at = '2026-01-01T00:00:00.000Z';
  const image = 'docker.io/library/nginx:1.27';
  store.record({ k: 'container', at, container: 'n1', image, source: 'cri-annotations', runtime: 'runc', uncovered: [], namespace: 'shop', name: 'nginx' });
  store.record({ k: 'calls', at, container: 'n1', image, runtime: 'runc', phase: 'workload', namespace: 'shop', name: 'nginx', calls: [['read', 0], ['write', 1], ['accept4', 288], ['exit_group', 231]].map(([syscall, nr]) => ({ arch: 'x86_64', syscall: syscall as string, nr: nr as number, count: 1 })) });
  await store.close();
  const agent: AgentProcess = await startAgent({ like: { dir } as AgentProcess });
  t.teardown(() => agent.kill9());
  const root = tempDir('patch-agent-kubelet', t);
  const out = join(dir, 'patched.yaml');
  const r = await runCli(['patch', '--agent', '--api-socket', agent.apiSocket, '--kubelet-root', root, `${FIX}deployment-init.yaml`, '-o', out]);
  t.equal(r.code, 0, r.stderr);
  const file = join(root, 'seccomp', 'seccomp-recorder', 'nginx-1.27.json');
  t.ok(existsSync(file), 'exported');
  t.match(r.stderr, new RegExp(`exported ${file} \\(nginx:1\\.27\\)`));
  const names = parseOciProfile(readFileSync(file, 'utf8'), file).rules.flatMap((x) => x.names);
  t.ok(['read', 'write', 'accept4', 'exit_group'].every((n) => names.includes(n)), 'the recorded calls are allowed');
  t.match(readFileSync(out, 'utf8'), /- name: nginx\n {10}image: nginx:1\.27\n[\s\S]*?localhostProfile: seccomp-recorder\/nginx-1\.27\.json/);
  t.match(r.stderr, /busybox:1\.36 \(looked for seccomp-recorder\/busybox-1\.36\.json\)/, 'images the agent never saw are listed');
  const lint = await runCli(['lint', '--format', 'json', '--agent', '--api-socket', agent.apiSocket, '--kubelet-root', root, out]);
  const findings = (JSON.parse(lint.stdout) as { findings: { ruleId: string; container?: string }[] }).findings.filter((f) => f.container === 'nginx');
  t.same(findings.filter((f) => f.ruleId.startsWith('localhost-profile') || f.ruleId.startsWith('seccomp')), [], 'lint: installed and covering what was recorded');
});
