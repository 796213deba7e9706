// The stand-in OCI runtime of the agent tests (test/fixtures/agent-client.c),
// run against an agent's runtime socket in one of its modes.
import { spawn } from 'node:child_process';
import type { AgentProcess } from './agent-process.js';
import { fixture } from './fixtures.js';

export interface Client {
  exit: Promise<number | null>;
  running(): boolean;
  stderr(): string;
  kill(): void;
}

/** `hold`: milliseconds, or a file path the workload waits for (no timing involved); `gate`: the file mode `slow` waits for. */
export function client(agent: AgentProcess, mode: string, id: string, image: string, calls = 3, hold: number | string = 0, gate?: string): Client {
  const bin = fixture('agent-client', ['-lseccomp']);
  const child = spawn(bin, [agent.socket, mode, id, image, String(calls), String(hold), ...(gate ? [gate] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let done = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  return { exit, running: () => !done, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}
