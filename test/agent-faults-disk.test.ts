// The real agent under disk faults, recording real runc containers: its state
// directory on a small tmpfs filled to ENOSPC (it keeps recording, says
// degraded in /healthz, counts and logs the failure, loses nothing it
// acknowledged, and persists again once the disk is cleared, without a
// restart). No container fails on the way.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ImageDetail } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';

/** A tmpfs of `size` at a fresh directory's `state`, or why it cannot be had. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sr-faults-disk-'));
  mkdirSync(join(dir, 'state'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', join(dir, 'state')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { skip: `cannot mount a tmpfs (root needed): ${r.error?.message ?? r.stderr.trim()}` };
  return { dir };
}

const probe = process.getuid?.() === 0 ? mountTmpfs('64k') : { skip: 'not root: cannot mount a tmpfs' };
if ('dir' in probe) spawnSync('umount', [join(probe.dir, 'state')]);
const skip = !nativeBuildStatus().ok ? 'the native part is not built (npm run build)' : containerSkipReason('runc') || ('skip' in probe ? probe.skip : false);

const WORKLOAD = ['/bin/sh', '-c', 'echo hello; ls / > /dev/null; cat /proc/self/status > /dev/null'];

async function runcProfile(agent: AgentProcess): Promise<unknown> {
  const r = await runCli(['recording-profile', '--runtime', 'runc', '--socket', agent.socket, '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const show = (agent: AgentProcess, image: string) => agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent(image)}`);
const health = (agent: AgentProcess) => agent.json<{ status: string; journalError?: string }>('GET', '/healthz');
async function metric(agent: AgentProcess, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec((await agent.raw('GET', '/metrics')).body);
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}
/** What an image holds that must survive: its containers and its calls with their counts. */
const held = (d: ImageDetail) => ({ containers: d.containers, calls: Object.fromEntries(d.calls.map((o) => [`${o.arch}/${o.syscall ?? o.nr}`, o.count])) });

/** Durable: no record waits for the journal, no container is live. */
const settled = async (agent: AgentProcess) =>
  eventually(
    async () => ({ pending: await metric(agent, 'seccomp_recorder_journal_pending_records'), live: await metric(agent, 'seccomp_recorder_live_containers') }),
    (v) => v.pending === 0 && v.live === 0,
    20_000,
  );

/** Fills the file system holding `dir` with one file until it says ENOSPC. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return bytes;
}

t.test('ENOSPC on the state directory, then the disk cleared while running', { skip, timeout: 240_000 }, async (t) => {
  const mounted = mountTmpfs('1m');
  if ('skip' in mounted) throw new Error(mounted.skip);
  const stateDir = join(mounted.dir, 'state');
  t.teardown(() => void spawnSync('umount', ['-l', stateDir]));
  const agent = await startAgent({ dir: mounted.dir, args: ['--batch-interval', '50ms'] });
  t.teardown(() => agent.kill9());
  const profile = await runcProfile(agent);
  const image = 'test.local/disk:1';
  const run = async (n: number) => {
    const r = await runAnnotated({ runtime: 'runc', args: WORKLOAD, seccomp: profile, annotations: criAnnotations(image, 'box', 'disk') });
    t.equal(r.code, 0, `container ${n} is unharmed: ${r.stderr}`);
    t.equal(r.stdout, 'hello\n');
  };

  await run(1);
  await settled(agent);
  const filler = join(stateDir, 'filler');
  t.ok(fill(filler) > 0, 'the state directory is full');

  // The journal's last page still has room: record until a write fails.
  let containers = 1;
  while ((await metric(agent, 'seccomp_recorder_journal_write_errors_total')) === 0 && containers < 20) {
    await run(++containers);
    await eventually(() => show(agent, image), (d) => d.containers === containers && d.liveContainers === 0, 20_000);
  }
  t.ok((await metric(agent, 'seccomp_recorder_journal_write_errors_total')) >= 1, `journal writes fail after ${containers} containers`);
  const h = await health(agent);
  t.equal(h.status, 'degraded', '/healthz says degraded');
  t.match(h.journalError, /ENOSPC|no space/i, 'and why');
  t.ok(agent.logs.some((l) => l.msg === 'journal write failed; keeping the records for the next batch'), 'the failure is logged');
  t.ok((await metric(agent, 'seccomp_recorder_journal_pending_records')) > 0, 'records wait for the disk');
  await run(++containers);
  const recorded = held(await eventually(() => show(agent, image), (d) => d.containers === containers && d.liveContainers === 0, 20_000));
  t.equal(recorded.containers, containers, 'recording goes on while the disk is full');

  // (b) Cleared while running: the kept records are written, without a restart.
  unlinkSync(filler);
  await eventually(() => health(agent), (v) => v.status === 'ok', 20_000);
  await settled(agent);
  t.ok(agent.logs.some((l) => l.msg === 'journal writes resumed; the records kept meanwhile are durable'), 'the recovery is logged');
  await run(++containers);
  await settled(agent);
  const before = held(await show(agent, image));
  t.equal(before.containers, containers);

  // Everything acknowledged is on disk: kill -9 and read it back.
  await agent.kill9();
  const again = await startAgent({ like: agent, args: ['--batch-interval', '50ms'] });
  t.teardown(() => again.kill9());
  t.same(held(await show(again, image)), before, 'after kill -9 and a restart: every container and call count recorded before');
  t.equal(await again.stop(), 0);
});
