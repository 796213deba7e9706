// The agent's security boundaries: what a container's runtime message, an
// API request or a socket path can make the agent do as root (issue 15).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import pino from 'pino';
import { AgentState } from '../src/agent/aggregate.js';
import { startApiServer } from '../src/agent/api.js';
import type { AgentApi } from '../src/agent/api.js';
import { PodmanInspector } from '../src/agent/lookups.js';
import type { JournalRecord } from '../src/agent/records.js';
import { RecordingStore } from '../src/agent/store.js';
import { UsageError } from '../src/errors.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { listenOciSocket } from '../src/record/notify/oci-listener.js';
import { parseStateMessage } from '../src/record/notify/state-message.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir, tempDir } from './helpers/tmp.js';
import { asUser } from './helpers/as-user.js';

const quiet = pino({ level: 'silent' });
const native = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';
const at = '2026-01-01T00:00:00.000Z';
const APP = 'docker.io/library/app:1';

/** A real agent (notify source) whose state already holds APP, recorded in namespace `shop`. */
async function seededAgent(args: string[] = [], records: JournalRecord[] = [
  { k: 'container', at, container: 'a1', image: APP, source: 'cri-annotations', runtime: 'runc', uncovered: ['write'], namespace: 'shop', name: 'web' },
  { k: 'calls', at, container: 'a1', image: APP, runtime: 'runc', phase: 'workload', namespace: 'shop', name: 'web', calls: [{ arch: 'x86_64', syscall: 'read', nr: 0, count: 1 }] },
]): Promise<AgentProcess> {
  const dir = tempDir('agent-sec');
  chmodSync(dir, 0o711); // others may pass through (the sockets decide), as under /run
  mkdirSync(join(dir, 'state'));
  const store = await RecordingStore.open(join(dir, 'state'), quiet);
  for (const r of records) store.record(r);
  await store.close();
  return startAgent({ like: { dir } as AgentProcess, args });
}

t.test('a container id must look like one: no leading "-", no option smuggled to podman', async (t) => {
  for (const id of ['--version', '-h', '--format={{.}}', '.hidden', '+x']) {
    const r = parseStateMessage(JSON.stringify({ fds: ['seccompFd'], state: { id } }));
    t.notOk(r.ok, `refused: ${id}`);
    if (!r.ok) t.match(r.problem, /state\.id/);
  }
  for (const id of ['abc123', 'a1b2c3d4e5f6'.repeat(5), 'my_container.1-x+y']) t.ok(parseStateMessage(JSON.stringify({ fds: ['seccompFd'], state: { id } })).ok, `accepted: ${id}`);
});

const noPodman = hasCommand('podman') ? false : 'podman is not installed: nothing to run `podman inspect` with';

t.test('podman inspect never takes the container id as an option', { skip: noPodman }, async (t) => {
  const inspector = new PodmanInspector(quiet, { timeoutMs: 10_000 });
  // Before the fix `podman inspect ... --version` printed podman's version and it was taken for an image name.
  t.equal(await inspector.inspect('--version'), undefined, '"--version" names no container');
  t.equal(await inspector.inspect('-h'), undefined, '"-h" names no container');
});

const modeOf = (p: string) => statSync(p).mode & 0o7777;

const idleApi: AgentApi = {
  health: () => ({ status: 'ok' }),
  metrics: () => '',
  list: () => ({ images: [] }),
  show: () => undefined,
  recording: () => undefined,
  profile: () => undefined,
  reset: async () => false,
  similar: () => [],
};

t.test('a socket directory others can write is refused and never re-moded; a fresh one is made 0700', async (t) => {
  const work = tempDir('sockdir', t);
  // A /tmp of our own (1777), a group-writable one, and one owned by nobody.
  const sticky = join(work, 'tmp');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  const group = join(work, 'group');
  mkdirSync(group);
  chmodSync(group, 0o775);
  const foreign = join(work, 'foreign');
  mkdirSync(foreign, { mode: 0o755 });
  chownSync(foreign, 65534, 65534);
  const noHandlers = { connection: () => {}, end: () => {} };
  const listeners: Array<(p: string) => Promise<unknown>> = [
    async (p) => listenOciSocket(p, {}, noHandlers).close(),
    async (p) => (await startApiServer(p, idleApi, quiet)).close(),
  ];
  for (const [i, listen] of listeners.entries()) {
    const which = i === 0 ? 'runtime socket' : 'API socket';
    for (const [dir, mode, why] of [[sticky, 0o1777, /writable by everyone/], [group, 0o775, /writable by its group/], [foreign, 0o755, /owned by uid 65534/]] as const) {
      await t.rejects(listen(join(dir, 'x.sock')), { constructor: UsageError, message: why }, `${which} in ${dir} refused`);
      t.equal(modeOf(dir), mode, `${which}: ${dir} keeps its mode`);
      t.notOk(existsSync(join(dir, 'x.sock')), `${which}: no socket left in ${dir}`);
    }
    const fresh = join(work, `fresh${i}`, 'run');
    const old = process.umask(0o022);
    try {
      await listen(join(fresh, 'x.sock'));
    } finally {
      process.umask(old);
    }
    t.equal(modeOf(fresh), 0o700, `${which}: a directory the agent creates is 0700`);
    // A safe existing directory (root's, 0755 like /run) is used as it is.
    const runLike = join(work, `run${i}`);
    mkdirSync(runLike, { mode: 0o755 });
    chmodSync(runLike, 0o755);
    await listen(join(runLike, 'x.sock'));
    t.equal(modeOf(runLike), 0o755, `${which}: an existing safe directory keeps its mode`);
  }
  // And the real /tmp, as in the issue: refused, untouched.
  const before = modeOf('/tmp');
  t.throws(() => listenOciSocket('/tmp/sr-security-x.sock', {}, noHandlers), { constructor: UsageError, message: /writable by everyone/ });
  t.equal(modeOf('/tmp'), before, '/tmp keeps its mode');
});

t.test('the API builds only on baselines of --baseline-dir or the node default, never on a path it is sent', { skip: native }, async (t) => {
  const bdir = tempDir('baselines', t);
  copyFileSync(join(import.meta.dirname, 'fixtures', 'generate', 'moby-like.json'), join(bdir, 'moby.json'));
  writeFileSync(join(bdir, 'broken.json'), '{"defaultAction": "SCMP_ACT_NOPE"}');
  execFileSync('mkfifo', [join(bdir, 'fifo')]);
  symlinkSync('/etc/shadow', join(bdir, 'shadow'));
  const agent = await seededAgent(['--baseline-dir', bdir]);
  t.teardown(() => agent.kill9());
  const get = (baseline: string) => agent.raw('GET', `/v1/recordings/${encodeURIComponent(APP)}/profile?baseline=${encodeURIComponent(baseline)}`);

  for (const path of ['/etc/shadow', '/dev/zero', join(bdir, 'fifo'), join(bdir, 'moby.json'), '../../etc/shadow', 'moby.json/..']) {
    const started = Date.now();
    const r = await get(path);
    t.equal(r.status, 400, `${path}: 400`);
    t.match(r.body, /never a path/, `${path}: says paths are not accepted`);
    t.notMatch(r.body, /root:/, `${path}: nothing of /etc/shadow`);
    t.ok(Date.now() - started < 3000, `${path}: answered at once`);
  }
  for (const [name, why] of [['fifo', /not a regular file/], ['shadow', /symbolic link/], ['broken.json', /broken\.json/], ['nope.json', /not a file of the agent's --baseline-dir .*it has: broken\.json, fifo, moby\.json, shadow/]] as const) {
    const r = await get(name);
    t.equal(r.status, 400, `${name}: 400`);
    t.match(r.body, why, `${name}: says why`);
    t.notMatch(r.body, /root:/, `${name}: nothing of /etc/shadow`);
  }
  const good = await get('moby.json');
  t.equal(good.status, 200, good.body);
  t.notMatch(String(good.headers['x-seccomp-recorder-summary']), /no baseline/, 'built on moby.json');
  const none = await get('none');
  t.match(String(none.headers['x-seccomp-recorder-summary']), /no baseline/);
  t.equal((await agent.json<{ status: string }>('GET', '/healthz')).status, 'ok', 'the agent is still serving');

  // The CLI: a name goes through, a path is refused before asking the agent.
  const byName = await runCli(['recordings', 'profile', APP, '--baseline', 'moby.json', '-q', '--api-socket', agent.apiSocket]);
  t.equal(byName.code, 0, byName.stderr);
  const byPath = await runCli(['recordings', 'profile', APP, '--baseline', '/etc/shadow', '--api-socket', agent.apiSocket]);
  t.equal(byPath.code, 2);
  t.match(byPath.stderr, /^error: --baseline names one of the agent's baselines .*not a path/m);
});

t.test('without --baseline-dir only "default" and "none" exist; a bad --baseline-dir stops the start', { skip: native }, async (t) => {
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  const r = await agent.raw('GET', `/v1/recordings/${encodeURIComponent(APP)}/profile?baseline=moby.json`);
  t.equal(r.status, 400);
  t.match(r.body, /started without --baseline-dir/);
  const bad = await runCli(['agent', '--source', 'notify', '--baseline-dir', '/nonexistent-dir', '--state-dir', join(agent.dir, 's2'), '--socket', join(agent.dir, 'r2', 'n.sock'), '--api-socket', join(agent.dir, 'r2', 'a.sock')]);
  t.equal(bad.code, 2, bad.stderr);
  t.match(bad.stderr, /^error: --baseline-dir \/nonexistent-dir: cannot read it \(ENOENT\)/m);
});

const noSetpriv = hasCommand('setpriv') ? false : 'setpriv (util-linux) is missing: cannot run a client as another user';

/** An HTTP request on the API socket from a process running as uid:gid (setpriv), as "STATUS BODY". */
function requestAs(uid: number, socket: string, method: string, path: string): string {
  const script = `const r=require('http').request({socketPath:process.argv[1],method:process.argv[2],path:process.argv[3]},(res)=>{let b='';res.on('data',(d)=>b+=d);res.on('end',()=>{console.log(res.statusCode+' '+b.replace(/\\s+/g,' '));});});r.on('error',(e)=>console.log('ERR '+e.code));r.end();`;
  return execFileSync(asUser(uid)[0], [...asUser(uid).slice(1), process.execPath, '-e', script, socket, method, path], { encoding: 'utf8', timeout: 20_000 }).trim();
}

const metricValue = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);

t.test('the API: root has it all, the configured reader may GET metrics/list/show only, anyone else is refused', { skip: native || noSetpriv }, async (t) => {
  const agent = await seededAgent(['--api-reader-uid', '65534']);
  t.teardown(() => agent.kill9());
  t.equal(statSync(agent.apiSocket).mode & 0o777, 0o666, 'reachable: SO_PEERCRED decides');
  const reader = (method: string, path: string) => requestAs(65534, agent.apiSocket, method, path);
  t.match(reader('GET', '/metrics'), /^200 .*seccomp_recorder_live_containers/, 'reader: metrics');
  t.match(reader('GET', '/v1/recordings'), /^200 /, 'reader: list');
  t.match(reader('GET', `/v1/recordings/${encodeURIComponent(APP)}`), /^200 /, 'reader: show');
  t.match(reader('DELETE', `/v1/recordings/${encodeURIComponent(APP)}`), /^403 .*read-only API reader/, 'reader: no reset');
  t.match(reader('POST', '/metrics'), /^403 .*read-only API reader/, 'reader: no POST');
  t.match(reader('GET', `/v1/recordings/${encodeURIComponent(APP)}/recording`), /^403 /, 'reader: no recording');
  t.match(reader('GET', `/v1/recordings/${encodeURIComponent(APP)}/profile`), /^403 /, 'reader: no profile');
  const other = requestAs(65533, agent.apiSocket, 'GET', '/metrics');
  t.match(other, /^403 .*refused this client: uid 65533 .*neither root nor/, 'another uid is refused');
  t.notMatch(other, /seccomp_recorder_/, 'and learns nothing');
  t.ok((await agent.json<{ images: unknown[] }>('GET', '/v1/recordings')).images.length, 'the image is still there (no reset)');
  const metrics = (await agent.raw('GET', '/metrics')).body;
  t.equal(metricValue(metrics, /^seccomp_recorder_api_refused_total\{reason="peer-not-allowed"\} (\d+)$/m), 1, 'refused peer counted');
  t.equal(metricValue(metrics, /^seccomp_recorder_api_refused_total\{reason="read-only"\} (\d+)$/m), 4, 'refused reader requests counted');
});

t.test('the API without a reader: a non-root peer is refused even when the socket is opened up', { skip: native || noSetpriv }, async (t) => {
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  t.equal(statSync(agent.apiSocket).mode & 0o777, 0o600);
  t.match(requestAs(65534, agent.apiSocket, 'GET', '/metrics'), /^ERR EACCES/, 'file permissions first');
  chmodSync(join(agent.dir, 'run'), 0o711);
  chmodSync(agent.apiSocket, 0o666);
  t.match(requestAs(65534, agent.apiSocket, 'GET', '/metrics'), /^403 .*uid 65534/, 'then SO_PEERCRED');
});

const noGcc = hasCommand('gcc') ? false : 'gcc is missing: cannot build test/fixtures/agent-client.c';

t.test('the runtime socket serves root peers only; others are dropped as peer-not-root', { skip: native || noSetpriv || noGcc }, async (t) => {
  const bin = fixture('agent-client', ['-lseccomp']);
  const agent = await seededAgent();
  t.teardown(() => agent.kill9());
  // As if an admin had opened the socket up: the peer check must still hold.
  chmodSync(join(agent.dir, 'run'), 0o711);
  chmodSync(agent.socket, 0o666);
  const hold = join(sharedTempDir('agent-security', t), 'never');
  let code = 0;
  try {
    execFileSync(asUser()[0], [...asUser().slice(1), bin, agent.socket, 'good', 'nobody-1', 'evil/app:1', '1', hold], { stdio: 'pipe', timeout: 20_000 });
  } catch (err) {
    code = (err as { status: number }).status;
  }
  t.equal(code, 3, 'its listener was not served (its notified calls failed)');
  const line = await agent.waitForLog((l) => l.msg === 'runtime connection refused');
  t.match(String(line.reason), /peer is not root \(uid 65534/);
  const metrics = (await agent.raw('GET', '/metrics')).body;
  t.equal(metricValue(metrics, /^seccomp_recorder_dropped_connections_total\{reason="peer-not-root"\} (\d+)$/m), 1, 'counted');
  const list = await agent.json<{ images: { image: string }[] }>('GET', '/v1/recordings');
  t.notOk(list.images.some((i) => i.image === 'evil/app:1'), 'nothing recorded for it');
});

const callsRec = (container: string, namespace: string | undefined, names: [string, number][]): JournalRecord => ({
  k: 'calls', at, container, image: APP, runtime: 'runc', phase: 'workload', name: 'web',
  ...(namespace !== undefined ? { namespace } : {}),
  calls: names.map(([syscall, nr]) => ({ arch: 'x86_64', syscall, nr, count: 1 })),
});
const TENANTS: JournalRecord[] = [
  { k: 'container', at, container: 'a1', image: APP, source: 'cri-annotations', runtime: 'runc', uncovered: ['write'], namespace: 'shop', name: 'web' },
  callsRec('a1', 'shop', [['read', 0]]),
  { k: 'container', at, container: 'e1', image: APP, source: 'cri-annotations', runtime: 'runc', uncovered: ['write'], namespace: 'evil', name: 'web' },
  callsRec('e1', 'evil', [['ptrace', 101], ['mount', 165]]),
  // A record journaled before namespaces were kept apart: no namespace.
  callsRec('o1', undefined, [['uname', 63]]),
];

const profileNames = (text: string) => new Set((JSON.parse(text) as { syscalls: { names: string[] }[] }).syscalls.flatMap((r) => r.names));

t.test('one namespace cannot widen another\'s profile: --from-namespace picks whose calls count; show names them', { skip: native }, async (t) => {
  const agent = await seededAgent([], TENANTS);
  t.teardown(() => agent.kill9());
  const api = ['--api-socket', agent.apiSocket];
  const all = await runCli(['recordings', 'profile', APP, '--no-baseline', '-q', ...api]);
  t.equal(all.code, 0, all.stderr);
  t.ok(['read', 'ptrace', 'uname'].every((n) => profileNames(all.stdout).has(n)), 'unrestricted: every namespace\'s calls');

  const shop = await runCli(['recordings', 'profile', APP, '--no-baseline', '--from-namespace', 'shop', ...api]);
  t.equal(shop.code, 0, shop.stderr);
  const names = profileNames(shop.stdout);
  t.ok(names.has('read'), 'shop\'s own call');
  t.ok(names.has('write'), 'the unobserved write stays allowed');
  for (const n of ['ptrace', 'mount', 'uname']) t.notOk(names.has(n), `${n}: not from shop, not allowed`);
  t.match(shop.stderr, /from namespace shop only/);

  const two = profileNames((await runCli(['recordings', 'profile', APP, '--no-baseline', '-q', '--from-namespace', 'shop', '--from-namespace', '-', ...api])).stdout);
  t.ok(two.has('read') && two.has('uname') && !two.has('ptrace'), 'shop plus the records of no namespace');

  const rec = await runCli(['recordings', 'recording', APP, '--from-namespace', 'shop', ...api]);
  t.equal(rec.code, 0, rec.stderr);
  t.notMatch(rec.stdout, /ptrace/, 'the recording view is restricted the same way');

  const nope = await runCli(['recordings', 'profile', APP, '--from-namespace', 'nope', ...api]);
  t.equal(nope.code, 2, nope.stderr);
  t.match(nope.stderr, /^error: no calls of docker\.io\/library\/app:1 were recorded in namespace "nope"; recorded in: -, evil, shop/m);
  const bad = await agent.raw('GET', `/v1/recordings/${encodeURIComponent(APP)}/profile?fromNamespace=${encodeURIComponent('../x')}`);
  t.equal(bad.status, 400);
  t.match(bad.body, /not a Kubernetes namespace name/);

  const show = await runCli(['recordings', 'show', APP, ...api]);
  t.match(show.stdout, /^namespaces:\s+- \(none known\), evil, shop /m);
  const metrics = (await agent.raw('GET', '/metrics')).body;
  t.notMatch(metrics, /\b(namespace|image)="/, 'no namespace or image labels in metrics: bounded');
  t.match(metrics, /^seccomp_recorder_images 1$/m);
});

t.test('the namespaces survive a snapshot; a snapshot from before them loads as namespace ""', async (t) => {
  const s = new AgentState();
  for (const r of TENANTS) s.apply(r);
  const snap = s.toSnapshot(1);
  const back = AgentState.fromSnapshot(JSON.parse(JSON.stringify(snap)), 'state.json').state;
  t.same([...back.images.get(APP)!.byNamespace.keys()].sort(), ['', 'evil', 'shop']);
  t.same(back.images.get(APP)!.byNamespace.get('evil')!.labels(), ['x86_64/mount', 'x86_64/ptrace']);
  t.same(back.toSnapshot(1), snap, 'byte-identical round trip');
  const old = JSON.parse(JSON.stringify(snap)) as { images: Record<string, unknown>[] };
  delete old.images[0].namespaces;
  const legacy = AgentState.fromSnapshot(old, 'state.json').state.images.get(APP)!;
  t.same([...legacy.byNamespace.keys()], [''], 'all old calls: of no known namespace');
  t.equal(legacy.byNamespace.get('')!.size, 4);
});
