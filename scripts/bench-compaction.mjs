#!/usr/bin/env node
// Benchmark of the agent's compaction (not a test: it prints figures, asserts
// no time): the longest the event loop is held while a large state is
// compacted, the way it was done before (the whole snapshot serialized at
// once, then written) against the store's sliced compaction, same state,
// same process, as a ratio. Needs no root. Called from bench-agent.mjs's agent
// section; also runnable alone: `node scripts/bench-compaction.mjs [--repeat N] [--images N]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { RecordingStore, SNAPSHOT_FILE } from '../dist/agent/store.js';
import { writeFileAtomic } from '../dist/util/atomic-write.js';

const AT = '2026-01-02T03:04:05.000Z';

function median(list) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `job` while a 1 ms timer notes the longest wait between its ticks. */
async function maxGapDuring(job) {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  await job();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { maxGap: Math.max(maxGap, performance.now() - last), ms };
}

export async function benchCompaction({ repeat = 3, images = 4000, callsPerImage = 40, say = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sr-compact-bench-'));
  const store = await RecordingStore.open(dir, pino({ level: 'silent' }));
  try {
    for (let i = 0; i < images; i++) {
      const image = `bench.local/image-${i}:1`;
      const container = `c-${i}`;
      store.record({ k: 'container', at: AT, container, image, source: 'cri-annotations', namespace: `ns-${i % 3}`, name: 'box', runtime: 'runc', uncovered: [] });
      store.record({
        k: 'calls',
        at: AT,
        container,
        image,
        namespace: `ns-${i % 3}`,
        name: 'box',
        runtime: 'runc',
        phase: 'workload',
        calls: Array.from({ length: callsPerImage }, (_, nr) => ({
          arch: 'x86_64',
          syscall: `call_${nr}`,
          nr,
          count: 1 + (i % 5),
          ...(nr % 4 === 0 ? { args: { names: ['a0'], values: [[String(i % 3)], [String(nr)]], overflowed: false } } : {}),
        })),
      });
    }
    await store.compact();
    const before = [];
    const after = [];
    let bytes = 0;
    for (let i = 0; i < repeat; i++) {
      // Before: the snapshot built and stringified in one piece, then written (what compaction did).
      before.push(
        await maxGapDuring(async () => {
          const text = `${JSON.stringify(store.state.toSnapshot(1))}\n`;
          bytes = Buffer.byteLength(text);
          await writeFileAtomic(join(dir, `${SNAPSHOT_FILE}.whole`), text, { mode: 0o600, follow: false });
        }),
      );
      after.push(await maxGapDuring(() => store.compact()));
    }
    const b = { gap: median(before.map((r) => r.maxGap)), ms: median(before.map((r) => r.ms)) };
    const a = { gap: median(after.map((r) => r.maxGap)), ms: median(after.map((r) => r.ms)) };
    say(`  compaction of ${images} images (${(bytes / 1e6).toFixed(1)} MB snapshot), median of ${repeat}:`);
    say(`    longest event-loop hold: at once ${b.gap.toFixed(0)} ms, sliced ${a.gap.toFixed(0)} ms, ratio ${(a.gap / b.gap).toFixed(3)}`);
    say(`    compaction wall time: at once ${b.ms.toFixed(0)} ms, sliced ${a.ms.toFixed(0)} ms, ratio ${(a.ms / b.ms).toFixed(2)}x`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opt = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  await benchCompaction({ repeat: opt('--repeat', 3), images: opt('--images', 4000) });
}
