// The agent's pure parts: listenerMetadata, the runtime's state message,
// identity order, per-image aggregation (merge, groups, runtime phase, reset),
// snapshots, metrics text, the recording profiles and an image's Recording.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentState } from '../src/agent/aggregate.js';
import { CallTable, MAX_ARG_TUPLES } from '../src/agent/call-table.js';
import type { IdentityLookups } from '../src/agent/identity.js';
import { identityFromAnnotations, resolveIdentity, SANDBOX_IMAGE } from '../src/agent/identity.js';
import { imageProfile, k8sNameForImage, profileOptionsFromQuery } from '../src/agent/image-profile.js';
import { readContainersStorage } from '../src/agent/lookups.js';
import { decodeMetadata, encodeMetadata } from '../src/record/notify/metadata.js';
import { dropReason, renderMetrics } from '../src/agent/metrics.js';
import type { CallsRecord, ContainerRecord } from '../src/agent/records.js';
import { recordProblem } from '../src/agent/records.js';
import { recordingProfile } from '../src/agent/recording-profile.js';
import { parseStateMessage } from '../src/record/notify/state-message.js';
import { imageRecording, listImages, showImage } from '../src/agent/views.js';
import { formatShow } from '../src/cli/recordings.js';
import { UsageError } from '../src/errors.js';
import { serializeOci } from '../src/profile/oci.js';
import type { Observation } from '../src/profile/recording.js';
import { recordingOfNames } from './helpers/recordings.js';
import { tempDir } from './helpers/tmp.js';

const RUNC_STATE = JSON.stringify({
  ociVersion: '1.0.2-dev',
  fds: ['seccompFd'],
  pid: 4242,
  metadata: 'seccomp-recorder=1&runtime=runc&uncovered=write',
  state: {
    ociVersion: '1.0.2-dev',
    id: 'abc123',
    status: 'creating',
    pid: 4242,
    bundle: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123',
    annotations: {
      'io.kubernetes.cri.image-name': 'docker.io/library/nginx:1.27',
      'io.kubernetes.cri.container-name': 'web',
      'io.kubernetes.cri.sandbox-name': 'web-7d9f-x2x',
      'io.kubernetes.cri.sandbox-namespace': 'shop',
      'not.a.string': 7,
    },
  },
});

t.test('listenerMetadata round-trips and ignores other tools\' strings', async (t) => {
  const text = encodeMetadata({ runtime: 'runc', uncovered: ['write', 'write'], image: 'quay.io/x/y:1' });
  t.equal(text, 'seccomp-recorder=1&runtime=runc&uncovered=write&image=quay.io%2Fx%2Fy%3A1');
  t.same(decodeMetadata(text), { runtime: 'runc', uncovered: ['write'], image: 'quay.io/x/y:1' });
  t.equal(decodeMetadata('some other agent metadata'), undefined);
  t.equal(decodeMetadata(undefined), undefined);
  t.same(decodeMetadata('seccomp-recorder=1&uncovered=write,Bad;Name'), { uncovered: ['write'] }, 'malformed names dropped');
});

t.test('the state message of runc (one line) and crun (pretty) parse alike', async (t) => {
  const runc = parseStateMessage(RUNC_STATE);
  t.ok(runc.ok);
  if (!runc.ok) return;
  t.equal(runc.state.containerId, 'abc123');
  t.equal(runc.state.pid, 4242);
  t.equal(runc.state.annotations['io.kubernetes.cri.image-name'], 'docker.io/library/nginx:1.27');
  t.notOk('not.a.string' in runc.state.annotations, 'non-string annotations dropped');
  const crun = parseStateMessage(JSON.stringify(JSON.parse(RUNC_STATE), null, 4));
  t.same(crun, runc);
});

t.test('a bad state message is a sentence, never an exception', async (t) => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /no container state/],
    ['', /no container state/],
    ['{"state": not json', /not JSON/],
    ['[1,2]', /expected an object/],
    ['{"fds":["seccompFd"]}', /^state: expected an object/],
    ['{"fds":["seccompFd"],"state":{"id":"../../etc"}}', /state\.id/],
    ['{"fds":["seccompFd"],"state":{"id":""}}', /state\.id/],
    ['{"fds":[],"state":{"id":"ok"}}', /fds/],
  ];
  for (const [text, re] of cases) {
    const r = parseStateMessage(text);
    t.notOk(r.ok, `refused: ${text}`);
    if (!r.ok) t.match(r.problem, re);
  }
});

t.test('identity from containerd CRI and CRI-O annotations; sandboxes share one key', async (t) => {
  t.same(identityFromAnnotations({ 'io.kubernetes.cri.image-name': 'a:1', 'io.kubernetes.cri.container-name': 'c', 'io.kubernetes.cri.sandbox-namespace': 'ns', 'io.kubernetes.cri.sandbox-name': 'p' }), {
    image: 'a:1',
    source: 'cri-annotations',
    name: 'c',
    pod: 'p',
    namespace: 'ns',
  });
  t.same(identityFromAnnotations({ 'io.kubernetes.cri-o.ImageName': 'b:2', 'io.kubernetes.container.name': 'c2', 'io.kubernetes.pod.namespace': 'ns2', 'io.kubernetes.pod.name': 'p2' }), {
    image: 'b:2',
    source: 'crio-annotations',
    name: 'c2',
    pod: 'p2',
    namespace: 'ns2',
  });
  t.equal(identityFromAnnotations({ 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-name': 'p' })?.image, SANDBOX_IMAGE);
  t.equal(identityFromAnnotations({ 'io.kubernetes.cri.image-name': '   ' }), undefined, 'blank image is no image');
  t.equal(identityFromAnnotations({}), undefined);
});

t.test('identity order: annotations, podman, profile metadata, bundle config.json, container id', async (t) => {
  // Lookups stand in for podman and the filesystem here; both are exercised for real in the runtime tests.
  const asked: string[] = [];
  const lookups = (podman?: { image?: string; name?: string }, bundle?: Record<string, string>, storage?: { image?: string; name?: string }): IdentityLookups => ({
    podmanStorage: async (b, id) => {
      asked.push(`storage ${b} ${id}`);
      return storage;
    },
    podman: async (id) => {
      asked.push(`podman ${id}`);
      return podman;
    },
    bundleAnnotations: async (b) => {
      asked.push(`bundle ${b}`);
      return bundle;
    },
  });
  const base = { ociVersion: '1', containerId: 'cid', bundle: '/b', annotations: {} as Record<string, string> };
  const libpod = { ...base, annotations: { 'io.container.manager': 'libpod' } };

  t.equal((await resolveIdentity({ ...base, annotations: { 'io.kubernetes.cri.image-name': 'x:1' } }, undefined, lookups({ image: 'no' }))).source, 'cri-annotations');
  t.same(asked, [], 'no lookup when the annotations name the image');

  const pod = await resolveIdentity(libpod, { uncovered: [], image: 'meta:1' }, lookups({ image: 'localhost/app:2', name: 'happy_cat' }));
  t.same(pod, { containerId: 'cid', image: 'localhost/app:2', source: 'podman', name: 'happy_cat' });
  asked.length = 0;
  const stored = await resolveIdentity(libpod, undefined, lookups({ image: 'not asked' }, undefined, { image: 'localhost/app:3', name: 'web' }));
  t.same(stored, { containerId: 'cid', image: 'localhost/app:3', source: 'podman', name: 'web' });
  t.same(asked, ['storage /b cid'], 'podman\'s storage record first: no podman process, no lock');

  t.same(await resolveIdentity(libpod, { uncovered: [], image: 'meta:1' }, lookups(undefined)), { containerId: 'cid', image: 'meta:1', source: 'profile-metadata' }, 'podman does not know it: metadata');
  asked.length = 0;
  t.equal((await resolveIdentity(base, undefined, lookups({ image: 'p:1' }, undefined, { image: 's:1' }))).source, 'container-id', 'podman is asked only about libpod containers');
  t.same(asked, ['bundle /b']);

  const fromBundle = await resolveIdentity(base, undefined, lookups(undefined, { 'io.kubernetes.cri-o.ImageName': 'q:3', 'io.kubernetes.container.name': 'n' }));
  t.same(fromBundle, { containerId: 'cid', image: 'q:3', source: 'bundle-config', name: 'n' });
  t.same(await resolveIdentity({ ...base, bundle: undefined }, undefined, lookups()), { containerId: 'cid', image: 'cid', source: 'container-id' });
});

const obs = (syscall: string, nr: number, count = 1, arch = 'x86_64'): Observation => ({ arch, syscall, nr, count });
const container = (id: string, image: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  k: 'container',
  at: '2026-01-01T00:00:00.000Z',
  container: id,
  image,
  source: 'cri-annotations',
  runtime: 'runc',
  uncovered: ['write'],
  ...extra,
});
const calls = (id: string, image: string, list: Observation[], extra: Partial<CallsRecord> = {}): CallsRecord => ({
  k: 'calls',
  at: '2026-01-01T00:00:01.000Z',
  container: id,
  image,
  runtime: 'runc',
  phase: 'workload',
  calls: list,
  ...extra,
});

function sampleState(): AgentState {
  const s = new AgentState();
  s.apply(container('c1', 'nginx:1', { namespace: 'shop', name: 'web' }));
  s.apply(calls('c1', 'nginx:1', [obs('read', 0, 5), obs('accept4', 288)], { namespace: 'shop', name: 'web' }));
  s.apply(calls('c1', 'nginx:1', [obs('execve', 59), obs('prctl', 157)], { phase: 'runtime' }));
  s.apply(container('c2', 'nginx:1', { namespace: 'staging', name: 'web', pod: 'web-7d4f' }));
  s.apply(calls('c2', 'nginx:1', [obs('read', 0, 2), obs('bind', 49)], { namespace: 'staging', name: 'web' }));
  s.apply(container('c3', 'redis:7'));
  s.apply(calls('c3', 'redis:7', [obs('epoll_wait', 232)]));
  s.apply({ k: 'end', at: '2026-01-01T00:00:09.000Z', container: 'c1', image: 'nginx:1', notifications: 10, lost: 1 });
  return s;
}

t.test('two containers of one image merge, another image stays apart, groups keep name and namespace', async (t) => {
  const s = sampleState();
  const list = listImages(s, new Map([['redis:7', 1]]));
  t.same(
    list.map((i) => [i.image, i.containers, i.syscalls, i.liveContainers]),
    [
      ['nginx:1', 2, 3, 0],
      ['redis:7', 1, 1, 1],
    ],
  );
  const d = showImage(s, 'nginx:1', new Map())!;
  t.same(d.calls.map((o) => [o.syscall, o.count]), [['accept4', 1], ['bind', 1], ['read', 7]], 'counts add up; runtime calls are not the image\'s');
  t.same(d.runtimeCalls, { runc: ['x86_64/execve', 'x86_64/prctl'] }, 'runtime start-up calls attributed to runc');
  t.same(d.assumed, ['write']);
  t.equal(d.notifications, 10);
  t.equal(d.lost, 1);
  t.same(
    d.groups.map((g) => [g.namespace, g.name, g.containers, g.onlyHere]),
    [
      ['shop', 'web', 1, ['x86_64/accept4']],
      ['staging', 'web', 1, ['x86_64/bind']],
    ],
  );
  t.same(d.groups.map((g) => g.pods), [undefined, ['web-7d4f']], 'the Pod a group ran in, when the annotations name it');
  t.equal(showImage(s, 'nope', new Map()), undefined);
});

t.test('a snapshot from before pods were kept loads with none', async (t) => {
  const snap = sampleState().toSnapshot(1) as { images: { groups: { pods?: string[] }[] }[] };
  t.same(snap.images[0].groups.map((g) => g.pods), [undefined, ['web-7d4f']]);
  for (const g of snap.images[0].groups) delete g.pods;
  const { state } = AgentState.fromSnapshot(JSON.parse(JSON.stringify(snap)), 'state.json');
  t.same(showImage(state, 'nginx:1', new Map())!.groups.map((g) => g.pods), [undefined, undefined]);
  t.throws(() => AgentState.fromSnapshot({ ...snap, images: [{ ...snap.images[0], groups: [{ ...snap.images[0].groups[0], pods: [1] }] }] }, 'state.json'), /groups\[0\]\.pods: expected a list of strings/);
});

t.test('reset forgets one image only; an end after a reset changes nothing', async (t) => {
  const s = sampleState();
  s.apply({ k: 'reset', at: '2026-01-01T00:01:00.000Z', image: 'nginx:1' });
  s.apply({ k: 'end', at: '2026-01-01T00:02:00.000Z', container: 'c2', image: 'nginx:1', notifications: 3, lost: 0 });
  t.same([...s.images.keys()], ['redis:7']);
  t.ok(s.runtimes.get('runc'), 'runtime calls stay with the runtime');
});

t.test('a snapshot round-trips exactly and is deterministic', async (t) => {
  const s = sampleState();
  const snap = s.toSnapshot(7);
  const { state, generation } = AgentState.fromSnapshot(JSON.parse(JSON.stringify(snap)), 'state.json');
  t.equal(generation, 7);
  t.same(state.toSnapshot(7), snap);
  t.equal(JSON.stringify(sampleState().toSnapshot(7)), JSON.stringify(snap), 'same state, same bytes');
  t.throws(() => AgentState.fromSnapshot({ ...snap, version: 2 }, 'state.json'), /version: this agent reads version 1/);
  t.throws(() => AgentState.fromSnapshot({ ...snap, images: [{ image: 'x' }] }, 'state.json'), /state.json: images\[0\]\.firstSeen: expected a string/);
});

t.test('journal records are checked before replay', async (t) => {
  t.equal(recordProblem(container('c', 'i')), undefined);
  t.equal(recordProblem(calls('c', 'i', [obs('read', 0)])), undefined);
  t.match(recordProblem({ k: 'calls', at: 'x', image: 'i', container: 'c', runtime: 'r', phase: 'workload', calls: [{ arch: 'nope', nr: 0, count: 1 }] }), /bad observation/);
  t.match(recordProblem({ k: 'future', at: 'x', image: 'i' }), /unknown record kind/);
  t.match(recordProblem(null), /not an object/);
});

t.test('argument values merge across containers, bounded', async (t) => {
  const table = new CallTable();
  const withArgs = (values: string[][], overflowed = false): Observation => ({ ...obs('socket', 41), args: { names: ['domain'], values, overflowed } });
  table.add([withArgs([['0x1'], ['0x2']])]);
  table.add([withArgs([['0x2'], ['0xa']])]);
  t.same(table.observations()[0].args, { names: ['domain'], values: [['0x1'], ['0x2'], ['0xa']], overflowed: false });
  const many = Array.from({ length: MAX_ARG_TUPLES + 10 }, (_, i) => [`0x${(i + 100).toString(16)}`]);
  table.add([withArgs(many)]);
  const a = table.observations()[0].args!;
  t.equal(a.values.length, MAX_ARG_TUPLES);
  t.equal(a.overflowed, true, 'overflow is said, not hidden');
});

t.test('an image\'s Recording: workload calls, runtime calls marked, uncovered ones at count 0', async (t) => {
  const rec = imageRecording(sampleState(), 'nginx:1')!;
  t.same(rec.identity, { image: 'nginx:1' });
  t.same(rec.arches, ['x86_64']);
  const by = Object.fromEntries(rec.observations.map((o) => [o.syscall, o]));
  t.equal(by.read.count, 7);
  t.equal(by.execve.runtimeOnly, true);
  t.equal(by.prctl.runtimeOnly, true);
  t.equal(by.write.count, 0);
  t.equal(by.write.nr, 1);
  t.notOk(by.read.runtimeOnly);
  t.equal(imageRecording(sampleState(), 'nope'), undefined);
});

t.test('a call of both the workload and its runtime keeps the argument values of both (or none when the runtime\'s are unknown)', async (t) => {
  const prctl = (option: string, phase?: 'runtime') => calls('c1', 'app:1', [{ ...obs('prctl', 157), args: { names: ['option'], values: [[option]], overflowed: false } }], phase ? { phase } : {});
  const s = new AgentState();
  s.apply(container('c1', 'app:1'));
  s.apply(prctl('0xf'));
  s.apply(prctl('0x18', 'runtime'));
  const joined = imageRecording(s, 'app:1')!.observations.find((o) => o.syscall === 'prctl')!;
  t.same(joined.args?.values, [['0xf'], ['0x18']], 'PR_SET_NAME of the workload and PR_CAPBSET_DROP of runc');
  t.notOk(joined.runtimeOnly);
  const s2 = new AgentState();
  s2.apply(container('c1', 'app:1'));
  s2.apply(prctl('0xf'));
  s2.apply(calls('c1', 'app:1', [obs('prctl', 157)], { phase: 'runtime' }));
  t.equal(imageRecording(s2, 'app:1')!.observations.find((o) => o.syscall === 'prctl')!.args, undefined, 'runtime values unknown: no values, so no condition');
});

t.test('the workload\'s and the runtime\'s argument values join under the same bound: past it, overflowed and no condition', async (t) => {
  const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => [`0x${(from + i).toString(16)}`]);
  const prctl = (vals: string[][], phase?: 'runtime') =>
    calls('c1', 'app:1', [{ ...obs('prctl', 157), args: { names: ['option'], values: vals, overflowed: false } }], phase ? { phase } : {});
  const s = new AgentState();
  s.apply(container('c1', 'app:1'));
  // Each side alone stays within the bound; together they pass it.
  s.apply(prctl(values(0x1000, MAX_ARG_TUPLES - 6)));
  s.apply(prctl(values(0x2000, 10), 'runtime'));
  const rec = imageRecording(s, 'app:1')!;
  const joined = rec.observations.find((o) => o.syscall === 'prctl')!;
  t.equal(joined.args?.values.length, MAX_ARG_TUPLES, 'no more tuples than a CallTable keeps');
  t.equal(joined.args?.overflowed, true, 'the values dropped are said');
  const doc = JSON.parse(imageProfile(rec, profileOptionsFromQuery(new URLSearchParams('args=safe&baseline=none')), undefined).text) as {
    syscalls: { names: string[]; args?: unknown[] }[];
  };
  t.same(doc.syscalls.filter((r) => r.names.includes('prctl')).map((r) => r.args ?? []), [[]], 'prctl allowed without a condition, as for an overflowed CallTable');
});

t.test('metrics text: help, type, sorted and escaped labels', async (t) => {
  const text = renderMetrics([
    { name: 'm_total', help: 'a\\b', type: 'counter', samples: [{ value: 3 }] },
    { name: 'g', help: 'per image', type: 'gauge', samples: [{ labels: { image: 'z"q\n' }, value: 1 }, { labels: { image: 'a' }, value: 2.5 }] },
  ]);
  t.equal(text, '# HELP m_total a\\\\b\n# TYPE m_total counter\nm_total 3\n# HELP g per image\n# TYPE g gauge\ng{image="a"} 2.5\ng{image="z\\"q\\n"} 1\n');
  t.equal(dropReason('3 file descriptors were sent, expected one'), 'several-fds');
  t.equal(dropReason('client sent no end of message within 5000 ms'), 'timeout');
  t.equal(dropReason('message larger than 1048576 bytes'), 'too-large');
  t.equal(dropReason('cannot serve the listener: Too many open files'), 'session-start', 'not "overload" for its "too many"');
  t.equal(dropReason('the state message does not start with a JSON object'), 'not-json');
  t.equal(dropReason('the agent is shutting down'), 'shutdown');
});

t.test('recording profile for runc: NOTIFY on every known name but write and the Go runtime\'s own, ALLOW (or LOG) default', async (t) => {
  const r = recordingProfile({ runtime: 'runc', socketPath: '/run/x/notify.sock', arches: ['x86_64', 'x86', 'x32'] });
  t.equal(r.profile.defaultAction.kind, 'allow');
  t.equal(r.profile.rules.length, 1);
  const names = r.profile.rules[0].names;
  t.equal(r.profile.rules[0].action.kind, 'notify');
  t.notOk(names.includes('write'), 'runc refuses NOTIFY on write');
  for (const n of ['futex', 'nanosleep', 'rt_sigreturn', 'sched_yield']) t.notOk(names.includes(n), `${n}: runc's init may need it before the agent has the listener`);
  for (const n of ['read', 'execve', 'openat', 'socketcall', 'clone3', 'exit_group']) t.ok(names.includes(n), `notifies on ${n}`);
  t.same(names, [...names].sort());
  t.same(r.uncovered, ['futex', 'nanosleep', 'rt_sigreturn', 'sched_yield', 'write']);
  t.equal(r.profile.listenerPath, '/run/x/notify.sock');
  t.same(decodeMetadata(r.profile.listenerMetadata), { runtime: 'runc', uncovered: ['futex', 'nanosleep', 'rt_sigreturn', 'sched_yield', 'write'] });
  const text = serializeOci(r.profile);
  t.match(text, /"defaultAction": "SCMP_ACT_ALLOW"/);
  t.match(text, /"SCMP_ACT_NOTIFY"/);
  t.equal(serializeOci(recordingProfile({ runtime: 'runc', socketPath: '/run/x/notify.sock', arches: ['x86_64', 'x86', 'x32'] }).profile), text, 'byte-identical twice');
  t.equal(recordingProfile({ runtime: 'runc', socketPath: '/s', uncovered: 'log', arches: ['x86_64'] }).profile.defaultAction.kind, 'log');
});

t.test('recording profile for crun: NOTIFY is the default, nothing uncovered', async (t) => {
  const r = recordingProfile({ runtime: 'crun', socketPath: '/s', image: 'app:1', arches: ['x86_64'] });
  t.equal(r.profile.defaultAction.kind, 'notify');
  t.same(r.profile.rules, []);
  t.same(r.uncovered, []);
  t.same(decodeMetadata(r.profile.listenerMetadata), { runtime: 'crun', uncovered: [], image: 'app:1' });
  t.throws(() => recordingProfile({ runtime: 'crun', socketPath: '/s', arches: ['vax'] }), new UsageError('unknown architecture "vax" (use libseccomp names such as x86_64, aarch64, x86)'), 'a typed user error, not a RangeError');
});

t.test('profile options from the API query', async (t) => {
  const q = (s: string) => profileOptionsFromQuery(new URLSearchParams(s));
  t.same(q(''), { format: 'oci', args: 'safe', spoVersion: 'v1', baseline: 'default', arches: [], allowBeyondDefault: false });
  t.equal(q('args=strict').args, 'strict');
  t.throws(() => q('args=loose'), new UsageError('args must be one of off, safe, strict, got "loose"'));
  t.same(q('format=spo&name=web&caps=chown,CAP_KILL&arch=amd64&baseline=none').caps, ['CAP_CHOWN', 'CAP_KILL']);
  t.same(q('arch=amd64').arches, ['x86_64']);
  t.throws(() => q('format=xml'), UsageError);
  t.throws(() => q('format=pod'), /needs a name/);
  t.throws(() => q('baseline=/etc/shadow'), /never a path/);
  t.throws(() => q('baseline=../x.json'), /never a path/);
  t.equal(q('baseline=moby.json').baseline, 'moby.json');
  t.throws(() => q('caps=CAP_NOPE'), /unknown capabilities/);
  t.throws(() => q('format=spo&name=Bad_Name'), /not a valid Kubernetes object name/);
  t.equal(k8sNameForImage('docker.io/library/nginx:1.27'), 'nginx-1.27');
  t.equal(k8sNameForImage('registry:5000/team/App@sha256:abc'), 'app');
});

t.test('an image profile carries argument conditions from the recorded values unless args=off', async (t) => {
  const rec = recordingOfNames(['read', 'write', 'exit_group', 'socket'], { image: 'app:1' });
  const socket = rec.observations.find((o) => o.syscall === 'socket')!;
  socket.args = { names: ['domain', 'type'], values: [['0x1', '0x1']], overflowed: false };
  const rulesFor = (args: string) => {
    const text = imageProfile(rec, profileOptionsFromQuery(new URLSearchParams(`args=${args}&baseline=none`)), undefined).text;
    return (JSON.parse(text) as { syscalls: { names: string[]; args?: { index: number; value: number }[] }[] }).syscalls.filter((r) => r.names.includes('socket'));
  };
  const safe = rulesFor('safe');
  t.equal(safe.length, 1);
  t.same(safe[0].args?.find((a) => a.index === 0)?.value, 1, 'socket is pinned to AF_UNIX, as recorded');
  const off = rulesFor('off');
  t.same(off.map((r) => r.args ?? []), [[]], 'names only');
});

t.test('podman\'s containers/storage record names image and container', async (t) => {
  const root = tempDir('storage', t);
  const id = 'f31b2d8c01ec';
  mkdirSync(join(root, 'vfs-containers', id, 'userdata'), { recursive: true });
  const meta = JSON.stringify({ 'image-name': 'localhost/agentbox:1', 'image-id': 'bab1', name: 'peek', 'created-at': 1 });
  writeFileSync(join(root, 'vfs-containers', 'containers.json'), JSON.stringify([{ id: 'other', metadata: '{}' }, { id, names: ['peek'], image: 'bab1', metadata: meta }]));
  const bundle = join(root, 'vfs-containers', id, 'userdata');
  t.same(await readContainersStorage(bundle, id), { image: 'localhost/agentbox:1', name: 'peek' });
  t.equal(await readContainersStorage(bundle, 'other-id'), undefined, 'the bundle must be that container\'s');
  t.equal(await readContainersStorage('/etc', id), undefined);
  writeFileSync(join(root, 'vfs-containers', 'containers.json'), '[{"id": "f31b2d8c01ec", "metadata": "not json"}]');
  t.equal(await readContainersStorage(bundle, id), undefined, 'a bad record is no answer, not an error');
});

t.test('coverage across runs: calls seen in one container only, counted once per container, kept through a snapshot', async (t) => {
  const s = new AgentState();
  for (const id of ['r1', 'r2', 'r3']) s.apply(container(id, 'pg:15'));
  s.apply(calls('r1', 'pg:15', [obs('read', 0), obs('pwrite64', 18)]));
  s.apply(calls('r1', 'pg:15', [obs('read', 0, 9), obs('pwrite64', 18)]));
  s.apply(calls('r2', 'pg:15', [obs('read', 0), obs('pwrite64', 18), obs('pwritev', 296)]));
  s.apply({ k: 'end', at: '2026-01-01T00:00:05.000Z', container: 'r1', image: 'pg:15', notifications: 4, lost: 0 });
  s.apply(calls('r3', 'pg:15', [obs('read', 0)]));
  const d = showImage(s, 'pg:15', new Map())!;
  t.same(d.runs, { count: 3, onlyOnce: ['x86_64/pwritev'], complete: true }, 'a second batch of one container counts once');
  t.match(formatShow(d), /runs: +3 containers made workload calls; 1 syscalls seen in one run only: x86_64\/pwritev/);

  const snap = s.toSnapshot(1);
  const back = AgentState.fromSnapshot(JSON.parse(JSON.stringify(snap)), 'state.json').state;
  back.apply(calls('r3', 'pg:15', [obs('read', 0), obs('pwritev', 296)]));
  t.same(showImage(back, 'pg:15', new Map())!.runs, { count: 3, onlyOnce: [], complete: true }, 'a live container goes on counting after a restart');

  const old = JSON.parse(JSON.stringify(snap)) as { images: Record<string, unknown>[] };
  delete old.images[0].runs;
  const fromOld = AgentState.fromSnapshot(old, 'state.json').state;
  fromOld.apply(container('r4', 'pg:15'));
  fromOld.apply(calls('r4', 'pg:15', [obs('read', 0)]));
  fromOld.apply(container('r5', 'pg:15'));
  fromOld.apply(calls('r5', 'pg:15', [obs('read', 0), obs('fsync', 74)]));
  const dOld = showImage(fromOld, 'pg:15', new Map())!;
  t.same(dOld.runs, { count: 2, onlyOnce: ['x86_64/fsync'], complete: false });
  t.match(formatShow(dOld), /2 containers made workload calls \(since this agent version; earlier runs were not counted\)/);

  const single = new AgentState();
  single.apply(container('only', 'redis:7'));
  single.apply(calls('only', 'redis:7', [obs('read', 0)]));
  t.match(formatShow(showImage(single, 'redis:7', new Map())!), /runs: +1 container made workload calls: the profile rests on a single run/);
});
