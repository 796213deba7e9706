// The notify loop's blocking RECV (native/recv_probe.c, notify_session.c):
// used where the kernel wakes a blocked RECV once the filter's last user is
// gone (probed), with poll + RECV kept (and forced by SECCOMP_RECORDER_POLL_RECV=1);
// both record the same calls, and a stop ends a loop blocked in RECV at once.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import pino from 'pino';
import { launch } from '../src/record/launch.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { CLI } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const skip = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';
const logger = pino({ level: 'silent' });

async function recordOnce(pollRecv: boolean) {
  if (pollRecv) process.env.SECCOMP_RECORDER_POLL_RECV = '1';
  else delete process.env.SECCOMP_RECORDER_POLL_RECV;
  try {
    return await launch({ command: ['/bin/sh', '-c', 'for i in 1 2 3 4 5; do /bin/true; done; cat /proc/self/status > /dev/null'], listener: true, logger });
  } finally {
    delete process.env.SECCOMP_RECORDER_POLL_RECV;
  }
}

const calls = (r: Awaited<ReturnType<typeof recordOnce>>) => r.entries.map((e) => `${e.arch}/${e.nr}`).sort();

t.test('blocking RECV where the kernel allows it, poll + RECV on request: the same calls, ended by hang-up', { skip }, async (t) => {
  const blocking = await recordOnce(false);
  const polled = await recordOnce(true);
  t.equal(polled.session?.blockingRecv, 0, 'SECCOMP_RECORDER_POLL_RECV=1 keeps poll + RECV');
  t.comment(`this kernel: blocking RECV ${blocking.session?.blockingRecv ? 'used (RECV wakes when the filter is released)' : 'not used (the probe saw RECV stay blocked)'}`);
  for (const r of [blocking, polled]) {
    t.equal(r.exitCode, 0);
    t.equal(r.session?.reason, 'hangup', 'the loop ended when the last task left the filter');
  }
  t.same(calls(blocking), calls(polled), 'the same calls recorded');
  t.ok(blocking.session!.notifications > 20);
});

t.test('a stop ends a loop waiting in RECV for a silent descendant, at once', { skip }, async (t) => {
  // The command exits; its child sleeps (no syscalls) holding the filter: the loop waits.
  const pidFile = join(tempDir('notify-recv', t), 'sleeper.pid');
  const script = `sleep 60 >/dev/null 2>&1 & echo $! > '${pidFile}'; exit 0`;
  const child = spawn(process.execPath, [CLI, 'record', '-o', '/dev/null', '--source', 'notify', '--', '/bin/sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      /* gone already */
    }
  });
  let stderr = '';
  const waiting = new Promise<void>((resolve) =>
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('still recording its descendants')) resolve();
    }),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await waiting;
  await new Promise((r) => setTimeout(r, 300)); // the loop is in RECV by now
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const ms = Date.now() - t0;
  t.equal(code, 0, 'record exited 0');
  t.ok(ms < 10_000, `ended ${ms} ms after the stop (the sleeper had 60 s left)`);
  t.match(stderr, /seccomp-recorder: /, 'the summary was written');
});
