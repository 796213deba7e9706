// The agent's security boundaries: what a container's runtime message, an
// API request or a socket path can make the agent do as root (issue 15).
import { execFileSync } from 'node:child_process';
import t from 'tap';
import pino from 'pino';
import { PodmanInspector } from '../src/agent/lookups.js';
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
