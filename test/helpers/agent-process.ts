// Runs the real `seccomp-recorder agent` (the built CLI) in the background for
// a test: private sockets and state dir, its JSON log lines collected, and
// stop (SIGTERM), kill -9 and restart at hand.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { apiJson, apiRequest } from '../../src/agent/client.js';
import { CLI, REPO } from './cli.js';
import { tempDir } from './tmp.js';
import type { TestEnd } from './tmp.js';

export interface AgentProcess {
  dir: string;
  socket: string;
  apiSocket: string;
  stateDir: string;
  child: ChildProcess;
  /** Log lines so far (parsed JSON). */
  logs: Record<string, unknown>[];
  stderr(): string;
  waitForLog(test: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  json<T>(method: string, path: string): Promise<T>;
  raw(method: string, path: string): ReturnType<typeof apiRequest>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface AgentStartOptions {
  /** Reuse the sockets and state of an earlier agent (restart). */
  like?: AgentProcess;
  /** A directory of the test's own (its `state` subdirectory is the state dir); a fresh one when absent. */
  dir?: string;
  /** The test whose end removes the fresh directory (else the test process's exit does). */
  t?: TestEnd;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startAgent(opts: AgentStartOptions = {}): Promise<AgentProcess> {
  const dir = opts.like?.dir ?? opts.dir ?? tempDir('agent', opts.t);
  const socket = join(dir, 'run', 'notify.sock');
  const apiSocket = join(dir, 'run', 'api.sock');
  const stateDir = join(dir, 'state');
  const child = spawn(
    process.execPath,
    // notify unless a test picks its source: `auto` would be bpf for root here.
    [CLI, 'agent', '--state-dir', stateDir, '--socket', socket, '--api-socket', apiSocket, '--log-level', 'debug', '--log-format', 'json', ...(opts.args?.includes('--source') ? [] : ['--source', 'notify']), ...(opts.args ?? [])],
    { cwd: REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  const waiters: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      try {
        logs.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        logs.push({ msg: l, unparsed: true });
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters.splice(0)) w();
    }),
  );
  let done = false;
  void exited.then(() => (done = true));

  const waitForLog = (test: (l: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent log line not seen within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      const check = () => {
        const hit = logs.find(test);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`agent exited; stderr:\n${stderr}`));
        } else waiters.push(check);
      };
      check();
    });

  const agent: AgentProcess = {
    dir,
    socket,
    apiSocket,
    stateDir,
    child,
    logs,
    stderr: () => stderr,
    waitForLog,
    json: <T>(method: string, path: string) => apiJson<T>(apiSocket, method, path),
    raw: (method, path) => apiRequest(apiSocket, method, path),
    async stop() {
      if (!done) child.kill('SIGTERM');
      return (await exited).code;
    },
    async kill9() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
  await waitForLog((l) => l.msg === 'agent ready');
  return agent;
}

/** Polls until `test` holds (for state that changes with the agent's batch interval). */
export async function eventually<T>(get: () => Promise<T>, test: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (test(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
