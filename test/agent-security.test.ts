// The agent's security boundaries: what a container's runtime message, an
// API request or a socket path can make the agent do as root (issue 15).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import pino from 'pino';
import { startApiServer } from '../src/agent/api.js';
import type { AgentApi } from '../src/agent/api.js';
import { PodmanInspector } from '../src/agent/lookups.js';
import { UsageError } from '../src/errors.js';
import { listenOciSocket } from '../src/record/notify/oci-listener.js';
import { parseStateMessage } from '../src/record/notify/state-message.js';

const quiet = pino({ level: 'silent' });

t.test('a container id must look like one: no leading "-", no option smuggled to podman', async (t) => {
  for (const id of ['--version', '-h', '--format={{.}}', '.hidden', '+x']) {
    const r = parseStateMessage(JSON.stringify({ fds: ['seccompFd'], state: { id } }));
    t.notOk(r.ok, `refused: ${id}`);
    if (!r.ok) t.match(r.problem, /state\.id/);
  }
  for (const id of ['abc123', 'a1b2c3d4e5f6'.repeat(5), 'my_container.1-x+y']) t.ok(parseStateMessage(JSON.stringify({ fds: ['seccompFd'], state: { id } })).ok, `accepted: ${id}`);
});

t.test('podman inspect never takes the container id as an option', async (t) => {
  let podman: string;
  try {
    podman = execFileSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).trim();
  } catch {
    t.skip('podman is not installed: nothing to run `podman inspect` with');
    return;
  }
  const inspector = new PodmanInspector(quiet, { binary: podman, timeoutMs: 10_000 });
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
  const work = mkdtempSync(join(tmpdir(), 'sr-sockdir-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
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
  const listeners: Array<(p: string) => Promise<unknown>> = [
    async (p) => listenOciSocket(p, () => {}).close(),
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
  t.throws(() => listenOciSocket('/tmp/sr-security-x.sock', () => {}), { constructor: UsageError, message: /writable by everyone/ });
  t.equal(modeOf('/tmp'), before, '/tmp keeps its mode');
});
