// The real agent under disk faults, recording real runc containers: its state
// directory on a small tmpfs filled to ENOSPC (it keeps recording, says
// degraded in /healthz, counts and logs the failure, loses nothing it
// acknowledged, and persists again once the disk is cleared, without a
// restart), and kill -9 while it compacts a large state (every container
// recorded and every reset answered before the kill is there after the
// restart; the snapshot is never corrupt). No container fails on the way.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { parseJournal } from '../src/agent/journal.js';
import { JOURNAL_FILE, RecordingStore, SNAPSHOT_FILE } from '../src/agent/store.js';
import type { ImageDetail } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { removeTempDir, tempDir } from './helpers/tmp.js';
import type { TestEnd } from './helpers/tmp.js';

/** A tmpfs of `size` at a fresh directory's `state` (unmounted and removed when `t` ends), or why it cannot be had. */
function mountTmpfs(size: string, t?: TestEnd): { dir: string } | { skip: string } {
  const dir = tempDir('faults-disk', t);
  mkdirSync(join(dir, 'state'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', join(dir, 'state')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { skip: `cannot mount a tmpfs (root needed): ${r.error?.message ?? r.stderr.trim()}` };
  return { dir };
}

const probe = process.getuid?.() === 0 ? mountTmpfs('64k') : { skip: 'not root: cannot mount a tmpfs' };
if ('dir' in probe) removeTempDir(probe.dir);
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
  const mounted = mountTmpfs('1m', t);
  if ('skip' in mounted) throw new Error(mounted.skip);
  const stateDir = join(mounted.dir, 'state');
  const agent = await startAgent({ dir: mounted.dir, args: ['--batch-interval', '50ms'] });
  t.teardown(() => agent.kill9());
  const profile = await runcProfile(agent);
  const image = 'test.local/disk:1';
  const run = async (n: number) => {
    const r = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: profile, annotations: criAnnotations(image, 'box', 'disk') });
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

/** A state of `images` images of `calls` calls each, written through the store itself. */
async function seedState(stateDir: string, images: number, calls: number): Promise<string[]> {
  const store = await RecordingStore.open(stateDir, pino({ level: 'silent' }));
  const names: string[] = [];
  for (let i = 0; i < images; i++) {
    const image = `seed.local/image-${i}:1`;
    names.push(image);
    store.record({
      k: 'calls',
      at: new Date().toISOString(),
      container: `seed-${i}`,
      image,
      runtime: 'runc',
      phase: 'workload',
      calls: Array.from({ length: calls }, (_, nr) => ({ arch: 'x86_64', syscall: `call_${nr}`, nr, count: 1 + (i % 7) })),
    });
  }
  await store.close();
  return names;
}

/** Signs the kill landed inside a compaction: a temp file of the atomic writer, or a journal older than the snapshot. */
function midCompaction(stateDir: string): string | undefined {
  const temp = readdirSync(stateDir).find((f) => f.endsWith('.tmp'));
  if (temp) return `temp file ${temp}`;
  const snapshot = JSON.parse(readFileSync(join(stateDir, SNAPSHOT_FILE), 'utf8')) as { generation: number };
  const journal = parseJournal(readFileSync(join(stateDir, JOURNAL_FILE))).header?.generation;
  return journal !== undefined && journal < snapshot.generation ? `journal generation ${journal} < snapshot ${snapshot.generation}` : undefined;
}

t.test('kill -9 during compaction: every container recorded and every reset answered before it survives', { skip, timeout: 400_000 }, async (t) => {
  const dir = tempDir('faults-compact', t);
  const stateDir = join(dir, 'state');
  const seeded = await seedState(stateDir, 800, 20);
  t.comment(`seeded snapshot: ${readFileSync(join(stateDir, SNAPSHOT_FILE)).length} bytes`);
  // Every flush that writes compacts: a reset (durable before its answer) is a write, then a whole-state compaction.
  const args = ['--compact-bytes', '1', '--batch-interval', '20ms'];
  let agent = await startAgent({ dir, args });
  const profile = await runcProfile(agent);
  const kept = new Map<string, ReturnType<typeof held>>();
  const reset = new Set<string>();
  /** Resets the kill cut off before their answer: either outcome is right. */
  const unanswered = new Set<string>();
  const hits: string[] = [];
  let next = 0;
  for (let round = 1; round <= 6; round++) {
    const image = `test.local/compact-${round}:1`;
    const r = await runAnnotated({ t, runtime: 'runc', args: WORKLOAD, seccomp: profile, annotations: criAnnotations(image, 'box', 'compact') });
    t.equal(r.code, 0, `round ${round}: the container is unharmed: ${r.stderr}`) || t.comment(agent.stderr().slice(-3000));
    await settled(agent);
    kept.set(image, held(await show(agent, image)));

    if (round % 2) {
      // Resets back to back, each a write plus a compaction; kill -9 at a random moment among them.
      const killAt = Date.now() + 100 + Math.floor(Math.random() * 400);
      let stop = false;
      const resets = (async () => {
        while (!stop && next < seeded.length) {
          const image = seeded[next++];
          const res = await agent.raw('DELETE', `/v1/recordings/${encodeURIComponent(image)}`).catch(() => undefined);
          if (res?.status === 200) reset.add(image);
          else unanswered.add(image);
        }
      })();
      while (Date.now() < killAt) await new Promise((r) => setTimeout(r, 5));
      await agent.kill9();
      stop = true;
      await resets;
    } else {
      // One reset, and kill -9 the moment the compaction it causes has a temp file open (polled without yielding).
      const image = seeded[next++];
      const answer = agent.raw('DELETE', `/v1/recordings/${encodeURIComponent(image)}`).catch(() => undefined);
      const end = Date.now() + 10_000;
      while (Date.now() < end && !readdirSync(stateDir).some((f) => f.endsWith('.tmp')));
      agent.child.kill('SIGKILL');
      await agent.kill9();
      const res = await answer;
      if (res?.status === 200) reset.add(image);
      else unanswered.add(image);
    }
    const hit = midCompaction(stateDir);
    if (hit) hits.push(`round ${round}: ${hit}`);

    agent = await startAgent({ like: agent, args });
    t.notOk(agent.logs.some((l) => String(l.msg).startsWith('unreadable state snapshot')), `round ${round}: the snapshot is intact`);
    t.same(readdirSync(stateDir).filter((f) => f.endsWith('.tmp')), [], `round ${round}: no temp file is left behind`);
    for (const [image, want] of kept) t.same(held(await show(agent, image)), want, `round ${round}: ${image} as recorded before the kill`);
    const list = await agent.json<{ images: { image: string }[] }>('GET', '/v1/recordings');
    const present = new Set(list.images.map((i) => i.image));
    t.same([...reset].filter((i) => present.has(i)), [], `round ${round}: all ${reset.size} resets answered before the kill stay reset`);
    const lost = seeded.slice(next).concat(seeded.slice(0, next).filter((i) => !reset.has(i) && !unanswered.has(i))).filter((i) => !present.has(i));
    t.same(lost, [], `round ${round}: no other image is lost (${reset.size} reset)`);
  }
  t.comment(hits.join('; '));
  t.ok(hits.length >= 2, `kills landed inside a compaction in ${hits.length} of 6 rounds`);
  t.equal(await agent.stop(), 0);
});
