// Test-only hooks of the notify source, off unless their environment variable
// is set (docs/agent.md, "Testing hooks"). SECCOMP_RECORDER_TEST_BLOCK_MS=N
// blocks the agent's event loop N ms on every runtime connection it is told
// of, standing in for any stall (a large parse, a slow API handler): a test
// then shows containers start and finish while JS is not running.

const MAX_BLOCK_MS = 60_000;

/** The configured block, 0 when the hook is off. */
export function testBlockMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.SECCOMP_RECORDER_TEST_BLOCK_MS;
  if (!text) return 0;
  const ms = Number(text);
  return Number.isInteger(ms) && ms > 0 ? Math.min(ms, MAX_BLOCK_MS) : 0;
}

/** Blocks this thread (and so the event loop) for `ms`: a real stall, not a timer. */
export function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
