// Edges of the native core (issue 15): a session drained after it was
// destroyed, a listener given to start() that never reaches a session, and
// the launcher with a filter program larger than one kernel filter can be.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { SessionInfo } from '../src/record/native.js';
import { LAUNCHER_PATH, nativeAddon, nativeBuildStatus } from '../src/record/native.js';
import { sharedTempDir } from './helpers/tmp.js';

const skip = nativeBuildStatus().ok ? false : 'the native part is not built (npm run build)';

const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

t.test('drain() after destroy() is a clear error, not a read of freed memory', { skip }, async (t) => {
  const addon = nativeAddon();
  // A session that never attaches: it waits for a descriptor this process does not have, then ends.
  let resolveEnd!: (info: SessionInfo) => void;
  const ended = new Promise<SessionInfo>((resolve) => (resolveEnd = resolve));
  const handle = addon.start({ pid: process.pid, targetFd: 60000, attachTimeoutMs: 50 }, (info) => resolveEnd(info));
  t.equal((await ended).reason, 'attach-timeout');
  addon.destroy(handle);
  addon.destroy(handle); // idempotent
  t.throws(() => addon.drain(handle, true), { code: 'ERR_SESSION_DESTROYED', message: /destroyed/ });
  t.doesNotThrow(() => addon.stop(handle), 'stop() after destroy() does nothing');
});

t.test('a listener handed to start() is closed when start() refuses it', { skip }, async (t) => {
  const addon = nativeAddon();
  const fd = openSync('/dev/null', 'r');
  t.throws(() => addon.start({ listenerFd: fd, watches: new Int32Array([1, 2, 3]) }, () => {}), { code: 'ERR_INVALID_ARG' });
  t.notOk(isOpen(fd), 'the descriptor given was closed, not left to leak');
  if (isOpen(fd)) closeSync(fd);
});

t.test('launcher: a program of more than 4096 instructions is refused by name (65,536 used to wrap to 0)', { skip }, async (t) => {
  const dir = sharedTempDir('launcher', t);
  // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}: BPF_RET|BPF_K (0x06), SECCOMP_RET_ALLOW.
  const program = (n: number) => {
    const b = Buffer.alloc(8 * n);
    for (let i = 0; i < n; i++) {
      b.writeUInt16LE(0x06, 8 * i);
      b.writeUInt32LE(0x7fff0000, 8 * i + 4);
    }
    return b;
  };
  const run = (n: number) => {
    const file = join(dir, `p${n}.bpf`);
    writeFileSync(file, program(n));
    const r = spawnSync(LAUNCHER_PATH, ['--status-fd', '3', '--no-new-privs', 'always', '--bpf', file, '--', '/bin/true'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const lines = String(r.output[3] ?? '').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string; errno: number });
    return { code: r.status, error: lines.find((l) => l.level === 'error') };
  };
  for (const n of [65536, 4097]) {
    const r = run(n);
    t.equal(r.code, 125, `${n} instructions: a setup failure`);
    t.match(r.error, { msg: /more instructions than the kernel takes in one filter \(4096\)/, errno: 7 }, `${n} instructions: named (E2BIG)`);
  }
  const ok = run(4096);
  t.equal(ok.code, 0, `4096 instructions, the most one filter may have, load and run: ${JSON.stringify(ok.error)}`);
});
