// One agent per state directory, held by flock(2): two real agents started at
// the same moment on one directory end with exactly one running and the other
// refused with a message naming the directory and the holder's pid; a stale
// pid file whose pid now belongs to a live unrelated process does not block.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startAgent } from './helpers/agent-process.js';
import { CLI, REPO } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

interface Run {
  pid: number;
  stderr: () => string;
  ready: Promise<boolean>;
  exited: Promise<number | null>;
  kill: (sig: NodeJS.Signals) => void;
}

function spawnAgent(dir: string, name: string, stateDir: string): Run {
  const child = spawn(
    process.execPath,
    [CLI, 'agent', '--source', 'notify', '--state-dir', stateDir, '--socket', join(dir, name, 'notify.sock'), '--api-socket', join(dir, name, 'api.sock'), '--log-format', 'json'],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let onReady: (v: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((r) => (onReady = r));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.includes('"agent ready"')) onReady(true);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => (onReady(false), r(code))));
  return { pid: child.pid!, stderr: () => stderr, ready, exited, kill: (sig) => child.kill(sig) };
}

t.test('two agents started together on one state directory: exactly one runs', { timeout: 120_000 }, async (t) => {
  for (let round = 1; round <= 3; round++) {
    const dir = tempDir('lock', t);
    const stateDir = join(dir, 'state');
    const a = spawnAgent(dir, 'a', stateDir);
    const b = spawnAgent(dir, 'b', stateDir);
    const [readyA, readyB] = await Promise.all([a.ready, b.ready]);
    t.equal(Number(readyA) + Number(readyB), 1, `round ${round}: exactly one agent is ready`);
    if (readyA === readyB) {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      continue;
    }
    const [winner, loser] = readyA ? [a, b] : [b, a];
    const code = await loser.exited;
    t.not(code, 0, `round ${round}: the other exits non-zero`);
    t.match(loser.stderr(), `error: another agent (pid ${winner.pid}) is using ${stateDir}`, `round ${round}: the refusal names the directory and the holder's pid`);
    t.notMatch(loser.stderr(), /internal error|\n\s+at /, 'no stack trace');
    t.equal(readFileSync(join(stateDir, 'agent.pid'), 'utf8').trim(), String(winner.pid), 'the lock file names the holder');
    winner.kill('SIGTERM');
    t.equal(await winner.exited, 0, `round ${round}: the one that ran stops cleanly`);
  }
});

t.test('a stale pid file naming a live unrelated process does not block start-up', async (t) => {
  const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
  t.teardown(() => void sleeper.kill('SIGKILL'));
  const dir = tempDir('lock', t);
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  // As after kill -9 of an agent whose pid was then reused: the pid is alive, but holds no lock.
  writeFileSync(join(dir, 'state', 'agent.pid'), `${sleeper.pid}\n`);
  const agent = await startAgent({ dir });
  t.equal(readFileSync(join(agent.stateDir, 'agent.pid'), 'utf8').trim(), String(agent.child.pid), 'the new agent took the lock and wrote its pid');
  t.equal(await agent.stop(), 0);
});
