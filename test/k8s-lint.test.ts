// lint's rules on manifests built in the test: a clean Pod gives nothing, and
// each rule fires (with the line of the field that decides it) once one field
// is changed; Pod vs container securityContext inheritance; acceptance by
// annotation; Localhost profiles checked against a kubelet directory and a
// recording; the fixtures' workload kinds (init, ephemeral, CronJob, List).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { lintManifests } from '../src/k8s/lint.js';
import type { LintFinding } from '../src/k8s/lint.js';
import { RULES } from '../src/k8s/lint-rules.js';
import { parseManifest, readManifest } from '../src/k8s/manifest.js';
import { workloadsOf } from '../src/k8s/workloads.js';
import { allowListProfile } from '../src/profile/model.js';
import { serializeOci } from '../src/profile/oci.js';
import type { Recording } from '../src/profile/recording.js';
import { recordingOfNames } from './helpers/recordings.js';
import { tempDir } from './helpers/tmp.js';

const CLEAN = `apiVersion: v1
kind: Pod
metadata:
  name: clean
  namespace: t
spec:
  hostUsers: false
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: app
      image: busybox:1.36
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
`;

const C = ['spec', 'containers', 0, 'securityContext'];
const P = ['spec', 'securityContext'];

/** CLEAN with one change made through the Document API. */
function changed(edit: (d: YAML.Document) => void): string {
  const d = YAML.parseDocument(CLEAN);
  edit(d);
  return d.toString();
}

const lint = (text: string, ctx = {}) => lintManifests([parseManifest(text, 'pod.yaml')], ctx);
const ids = (fs: LintFinding[]) => fs.map((f) => f.ruleId).sort();
/** The last line holding `needle` (a container's field comes after the Pod's), or the first matching a pattern. */
function lineOf(text: string, needle: string | RegExp): number {
  const lines = text.split('\n');
  if (typeof needle !== 'string') return lines.findIndex((l) => needle.test(l)) + 1;
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].includes(needle)) return i + 1;
  return 0;
}

t.test('a hardened Pod gives no finding at all', async (t) => {
  const r = lint(CLEAN);
  t.same(r.findings, []);
  t.equal(r.workloads, 1);
  t.equal(r.containers, 1);
});

// rule, the change that breaks it, the text on the line the finding must point at.
const CASES: [string, (d: YAML.Document) => void, string | RegExp][] = [
  ['seccomp-missing', (d) => d.deleteIn([...P, 'seccompProfile']), '- name: app'],
  ['seccomp-unconfined', (d) => d.setIn([...P, 'seccompProfile', 'type'], 'Unconfined'), /^    seccompProfile:/],
  ['seccomp-unconfined', (d) => d.setIn([...C, 'seccompProfile'], { type: 'Unconfined' }), 'seccompProfile:'],
  ['privileged', (d) => d.setIn([...C, 'privileged'], true), 'privileged:'],
  ['allow-privilege-escalation', (d) => d.setIn([...C, 'allowPrivilegeEscalation'], true), 'allowPrivilegeEscalation:'],
  ['allow-privilege-escalation', (d) => d.deleteIn([...C, 'allowPrivilegeEscalation']), '- name: app'],
  ['capabilities-drop-all', (d) => d.setIn([...C, 'capabilities', 'drop'], ['NET_RAW']), '- NET_RAW'],
  ['capabilities-add-dangerous', (d) => d.setIn([...C, 'capabilities', 'add'], ['SYS_ADMIN']), '- SYS_ADMIN'],
  ['capabilities-add-dangerous', (d) => d.setIn([...C, 'capabilities', 'add'], ['CAP_BPF']), '- CAP_BPF'],
  ['capabilities-add', (d) => d.setIn([...C, 'capabilities', 'add'], ['chown']), '- chown'],
  ['run-as-non-root', (d) => d.deleteIn([...P, 'runAsNonRoot']), '- name: app'],
  ['run-as-non-root', (d) => d.setIn([...C, 'runAsNonRoot'], false), 'runAsNonRoot: false'],
  ['run-as-root-user', (d) => d.setIn([...P, 'runAsUser'], 0), 'runAsUser:'],
  ['host-pid', (d) => d.setIn(['spec', 'hostPID'], true), 'hostPID:'],
  ['host-ipc', (d) => d.setIn(['spec', 'hostIPC'], true), 'hostIPC:'],
  ['host-network', (d) => d.setIn(['spec', 'hostNetwork'], true), 'hostNetwork:'],
  ['host-users', (d) => d.setIn(['spec', 'hostUsers'], true), 'hostUsers:'],
  ['host-users', (d) => d.deleteIn(['spec', 'hostUsers']), /^  securityContext:/],
  ['proc-mount-unmasked', (d) => d.setIn([...C, 'procMount'], 'Unmasked'), 'procMount:'],
  ['apparmor-unconfined', (d) => d.setIn([...P, 'appArmorProfile'], { type: 'Unconfined' }), 'appArmorProfile:'],
  ['apparmor-unconfined', (d) => d.setIn(['metadata', 'annotations'], { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }), '- name: app'],
  ['selinux-type', (d) => d.setIn([...C, 'seLinuxOptions'], { type: 'spc_t' }), 'type: spc_t'],
  ['selinux-type', (d) => d.setIn([...P, 'seLinuxOptions'], { role: 'sysadm_r' }), 'role:'],
  ['localhost-profile-invalid', (d) => d.setIn([...C, 'seccompProfile'], { type: 'Localhost', localhostProfile: '/etc/p.json' }), 'seccompProfile:'],
  ['localhost-profile-invalid', (d) => d.setIn([...C, 'seccompProfile'], { type: 'Localhost', localhostProfile: '../p.json' }), 'seccompProfile:'],
  ['localhost-profile-invalid', (d) => d.setIn([...C, 'seccompProfile'], { type: 'Localhost' }), 'seccompProfile:'],
];

for (const [rule, edit, at] of CASES) {
  t.test(`${rule} fires on one change, at the line of the field (${String(at)})`, async (t) => {
    const text = changed(edit);
    const r = lint(text);
    t.same(ids(r.findings), [rule], text);
    const f = r.findings[0];
    t.equal(f.line, lineOf(text, at), `line of "${at}"`);
    t.same(f.object, { apiVersion: 'v1', kind: 'Pod', namespace: 't', name: 'clean' });
    if (!rule.startsWith('host-')) t.equal(f.container, 'app');
    t.equal(f.severity, rule === 'host-users' ? (text.includes('hostUsers: true') ? 'warning' : 'note') : RULES.find((x) => x.id === rule)!.severity);
  });
}

t.test('every rule but the Localhost file checks and acceptance is exercised above', async (t) => {
  const covered = new Set(CASES.map(([r]) => r));
  const elsewhere = new Set(['localhost-profile-missing', 'localhost-profile-uncovered', 'accept-annotation-invalid']);
  t.same(RULES.map((r) => r.id).filter((id) => !covered.has(id) && !elsewhere.has(id)), []);
});

t.test('privileged is an error even with a profile set, and says the profile has no effect', async (t) => {
  const r = lint(changed((d) => d.setIn([...C, 'privileged'], true)));
  t.match(r.findings[0].message, /seccomp is not applied at all, so its RuntimeDefault profile has no effect/);
  t.equal(r.findings[0].severity, 'error');
});

t.test('the container securityContext overrides the Pod one, both ways', async (t) => {
  // Pod Unconfined, container RuntimeDefault: the container is confined.
  let r = lint(changed((d) => {
    d.setIn([...P, 'seccompProfile', 'type'], 'Unconfined');
    d.setIn([...C, 'seccompProfile'], { type: 'RuntimeDefault' });
  }));
  t.same(r.findings, [], 'container RuntimeDefault wins over Pod Unconfined');
  // Pod runAsNonRoot true, container false: the container's value decides.
  r = lint(changed((d) => d.setIn([...C, 'runAsNonRoot'], false)));
  t.same(ids(r.findings), ['run-as-non-root']);
  // Pod runAsUser 0, container 1000: fine.
  r = lint(changed((d) => {
    d.setIn([...P, 'runAsUser'], 0);
    d.setIn([...C, 'runAsUser'], 1000);
  }));
  t.same(r.findings, [], 'container runAsUser wins');
  // The Pod-level value is named as such.
  r = lint(changed((d) => d.setIn([...P, 'seccompProfile', 'type'], 'Unconfined')));
  t.match(r.findings[0].message, /from the Pod securityContext/);
});

t.test('acceptance: the annotation names the rule and a reason; the finding stays, accepted', async (t) => {
  const text = changed((d) => {
    d.setIn(['spec', 'hostNetwork'], true);
    d.setIn(['metadata', 'annotations'], { 'seccomp-recorder.io/accept-host-network': 'node exporter: reads the host interfaces' });
  });
  const r = lint(text);
  t.equal(r.findings.length, 1);
  t.equal(r.findings[0].ruleId, 'host-network');
  t.equal(r.findings[0].accepted, 'node exporter: reads the host interfaces');

  const typo = lint(changed((d) => {
    d.setIn(['spec', 'hostNetwork'], true);
    d.setIn(['metadata', 'annotations'], { 'seccomp-recorder.io/accept-host-netwrk': 'typo', 'seccomp-recorder.io/accept-host-pid': '' });
  }));
  t.same(ids(typo.findings), ['accept-annotation-invalid', 'accept-annotation-invalid', 'host-network']);
  t.equal(typo.findings.find((f) => f.ruleId === 'host-network')!.accepted, undefined, 'a misspelt rule accepts nothing');
  t.ok(typo.findings.some((f) => /no rule "host-netwrk"/.test(f.message)));
  t.ok(typo.findings.some((f) => /accept-host-pid: a reason is required/.test(f.message)));
});

function recordingOf(image: string, names: string[]): Recording {
  return recordingOfNames(names, { image });
}

t.test('Localhost profiles: missing from the kubelet directory, unreadable, or not covering the recording', async (t) => {
  const root = tempDir('lint-kubelet', t);
  mkdirSync(join(root, 'seccomp', 'seccomp-recorder'), { recursive: true });
  writeFileSync(join(root, 'seccomp', 'seccomp-recorder', 'busybox.json'), serializeOci(allowListProfile(['x86_64'], ['read', 'write', 'exit_group'])));
  writeFileSync(join(root, 'seccomp', 'seccomp-recorder', 'broken.json'), '{"defaultAction": 5');
  const withProfile = (p: string) => changed((d) => d.setIn([...C, 'seccompProfile'], { type: 'Localhost', localhostProfile: p }));

  t.same(lint(withProfile('seccomp-recorder/busybox.json')).findings, [], 'without --kubelet-root nothing is looked up');
  t.same(lint(withProfile('seccomp-recorder/busybox.json'), { kubeletRoot: root }).findings, [], 'installed');
  const missing = lint(withProfile('seccomp-recorder/nope.json'), { kubeletRoot: root }).findings;
  t.same(ids(missing), ['localhost-profile-missing']);
  t.match(missing[0].message, /seccomp-recorder\/nope\.json is not installed/);
  t.same(ids(lint(withProfile('seccomp-recorder/broken.json'), { kubeletRoot: root }).findings), ['localhost-profile-invalid']);

  // The image as the manifest writes it (busybox:1.36) is recorded under its full name.
  const recorded = new Map([['docker.io/library/busybox:1.36', recordingOf('docker.io/library/busybox:1.36', ['read', 'write', 'exit_group', 'openat', 'mmap'])]]);
  const recordingFor = (image: string) => recorded.get(image === 'busybox:1.36' ? 'docker.io/library/busybox:1.36' : image);
  const uncovered = lint(withProfile('seccomp-recorder/busybox.json'), { kubeletRoot: root, recordingFor }).findings;
  t.same(ids(uncovered), ['localhost-profile-uncovered']);
  t.match(uncovered[0].message, /denies what was recorded for busybox:1\.36: mmap, openat$/);
  const covering = new Map([['busybox:1.36', recordingOf('busybox:1.36', ['read', 'exit_group'])]]);
  t.same(lint(withProfile('seccomp-recorder/busybox.json'), { kubeletRoot: root, recordingFor: (i: string) => covering.get(i) }).findings, [], 'covered');
});

t.test('fixtures: every workload kind and container kind is found; other kinds and custom resources are not', async (t) => {
  const multi = readManifest('test/fixtures/k8s/multi.yaml');
  const ws = workloadsOf(multi);
  t.same(ws.map((w) => `${w.kind}/${w.name}`), ['StatefulSet/cache', 'DaemonSet/log-shipper', 'Pod/debug-me'], 'the example.com Deployment is a custom resource');
  t.same(ws[2].containers.map((c) => `${c.kind}:${c.name}`), ['container:app', 'ephemeralContainer:debugger']);
  const deploy = workloadsOf(readManifest('test/fixtures/k8s/deployment-init.yaml'));
  t.same(deploy[0].containers.map((c) => `${c.kind}:${c.name}:${c.image}`), [
    'initContainer:render-config:busybox:1.36',
    'initContainer:wait-for-db:busybox:1.36',
    'container:nginx:nginx:1.27',
    'container:exporter:quay.io/prometheus/nginx-exporter:v1.1',
  ]);
  const cron = workloadsOf(readManifest('test/fixtures/k8s/cronjob.yaml'));
  t.same(cron.map((w) => [w.kind, w.namespace, w.containers.map((c) => c.name)]), [['CronJob', 'reports', ['report']]]);
  const r = lintManifests([multi]);
  t.equal(r.otherDocuments, 2, 'the Service and the custom resource are counted, not checked');
  t.notOk(r.findings.some((f) => f.object.name === 'not-a-real-deployment'));

  const list = parseManifest(`apiVersion: v1\nkind: List\nitems:\n${CLEAN.replace(/^/gm, '  ').replace(/^  apiVersion/, '- apiVersion')}`, 'list.yaml');
  t.equal(workloadsOf(list).length, 1, 'kubectl List items are walked');
});
