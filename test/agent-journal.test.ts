// The agent's durable state: journal lines with checksums, a torn or corrupt
// tail truncated with a warning, atomic compaction with generations (an
// interrupted one never double-counts), versioned files, one agent per dir.
import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { encodeLine, JOURNAL_KIND, parseJournal } from '../src/agent/journal.js';
import type { JournalRecord } from '../src/agent/records.js';
import { JOURNAL_FILE, RecordingStore, SNAPSHOT_FILE } from '../src/agent/store.js';
import { tempDir } from './helpers/tmp.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const tmp = () => tempDir('journal');
const calls = (image: string, syscall: string, nr: number, count = 1): JournalRecord => ({
  k: 'calls',
  at: new Date().toISOString(),
  container: 'c1',
  image,
  runtime: 'runc',
  phase: 'workload',
  calls: [{ arch: 'x86_64', syscall, nr, count }],
});
const counts = (s: RecordingStore, image: string) => Object.fromEntries((s.state.images.get(image)?.calls.observations() ?? []).map((o) => [o.syscall, o.count]));

t.test('parseJournal: good lines, then the first torn or corrupt line ends it', async (t) => {
  const header = encodeLine({ kind: JOURNAL_KIND, version: 1, generation: 3 });
  const a = encodeLine({ n: 1 });
  const b = encodeLine({ n: 2 });
  const good = Buffer.from(header + a + b);
  t.same(parseJournal(good), { header: { kind: JOURNAL_KIND, version: 1, generation: 3 }, records: [{ n: 1 }, { n: 2 }], validBytes: good.length, totalBytes: good.length });

  const torn = Buffer.from(header + a + b.slice(0, 7));
  const p = parseJournal(torn);
  t.same(p.records, [{ n: 1 }]);
  t.equal(p.validBytes, header.length + a.length);
  t.equal(p.problem, 'incomplete last line');
  t.equal(p.badLine, 3);

  const flipped = Buffer.from(header + a.replace('"n":1', '"n":7') + b);
  t.equal(parseJournal(flipped).problem, 'checksum mismatch');
  t.same(parseJournal(flipped).records, [], 'nothing after a corrupt line is trusted');
  t.equal(parseJournal(Buffer.from(a)).problem, 'no journal header');
  t.equal(parseJournal(Buffer.from('garbage\n')).problem, 'not a journal line');
  t.same(parseJournal(Buffer.alloc(0)).records, []);
});

t.test('records flushed survive a reopen; the reopen compacts', async (t) => {
  const dir = tmp();
  const { log } = capture();
  const s1 = await RecordingStore.open(dir, log);
  s1.record(calls('img:1', 'read', 0, 2));
  s1.record(calls('img:1', 'openat', 257));
  t.equal(s1.lag().pending, 2);
  await s1.flush();
  t.same(s1.lag(), { pending: 0, seconds: 0 });
  // No close(): as after kill -9, only what flush made durable counts.
  s1.record(calls('img:1', 'never', 999));
  await s1.abandon();
  const s2 = await RecordingStore.open(dir, log);
  t.same(counts(s2, 'img:1'), { openat: 1, read: 2 }, 'flushed records back; the unflushed one is not');
  const snapshot = JSON.parse(readFileSync(join(dir, SNAPSHOT_FILE), 'utf8')) as { version: number; generation: number };
  t.equal(snapshot.version, 1);
  t.ok(snapshot.generation >= 2);
  t.equal(parseJournal(readFileSync(join(dir, JOURNAL_FILE))).header?.generation, snapshot.generation, 'fresh journal follows the snapshot');
  await s2.close();
  const s3 = await RecordingStore.open(dir, log);
  t.pass('lock released on close: the directory opens again');
  await s3.close();
});

t.test('a torn tail is truncated with a warning and the rest is kept', async (t) => {
  const dir = tmp();
  const { log, lines } = capture();
  const s1 = await RecordingStore.open(dir, log);
  s1.record(calls('img:1', 'read', 0));
  await s1.flush();
  s1.record(calls('img:1', 'write', 1));
  await s1.flush();
  const journal = join(dir, JOURNAL_FILE);
  const size = readFileSync(journal).length;
  truncateSync(journal, size - 5); // the second record torn, as by a crash mid-write
  appendFileSync(journal, '\u0000\u0000');
  await s1.abandon();
  const s2 = await RecordingStore.open(dir, log);
  t.same(counts(s2, 'img:1'), { read: 1 });
  const warn = lines.find((l) => l.msg === 'journal tail is corrupt or torn; truncating it');
  t.ok(warn, 'one warning');
  t.equal(warn?.level, 40);
  t.equal(warn?.line, 3);
  t.equal(warn?.reason, 'incomplete last line');
  s2.record(calls('img:1', 'close', 3));
  await s2.close();
  const s3 = await RecordingStore.open(dir, log);
  t.same(counts(s3, 'img:1'), { close: 1, read: 1 }, 'appends after the truncation are readable');
  await s3.close();
});

t.test('an interrupted compaction (new snapshot, old journal) does not replay the old journal', async (t) => {
  const dir = tmp();
  const { log, lines } = capture();
  const s1 = await RecordingStore.open(dir, log);
  s1.record(calls('img:1', 'read', 0, 5));
  await s1.flush();
  const oldJournal = readFileSync(join(dir, JOURNAL_FILE));
  await s1.compact(); // snapshot G+1 holds read x5
  await s1.close();
  writeFileSync(join(dir, JOURNAL_FILE), oldJournal); // as if the crash came before the fresh journal's rename
  const s2 = await RecordingStore.open(dir, log);
  t.same(counts(s2, 'img:1'), { read: 5 }, 'counted once');
  t.ok(lines.some((l) => String(l.msg).startsWith('journal predates the snapshot')));
  await s2.close();
});

t.test('versioned files: a newer state or journal version refuses to start; a corrupt snapshot is moved aside', async (t) => {
  const { log, lines } = capture();
  const a = tmp();
  writeFileSync(join(a, SNAPSHOT_FILE), JSON.stringify({ kind: 'seccomp-recorder/agent-state', version: 9, generation: 1, images: [], runtimes: [] }));
  await t.rejects(RecordingStore.open(a, log), /written by a newer agent \(state version 9\)/);

  const b = tmp();
  writeFileSync(join(b, JOURNAL_FILE), encodeLine({ kind: JOURNAL_KIND, version: 2, generation: 0 }));
  await t.rejects(RecordingStore.open(b, log), /journal version 2 is not one this agent reads/);

  const c = tmp();
  const s = await RecordingStore.open(c, log);
  s.record(calls('img:1', 'read', 0));
  await s.flush();
  await s.close();
  const s1 = await RecordingStore.open(c, log);
  s1.record(calls('img:1', 'openat', 257));
  await s1.flush(); // in the journal only
  writeFileSync(join(c, SNAPSHOT_FILE), '{ "kind": "seccomp-recorder/agent-sta');
  await s1.abandon();
  const s2 = await RecordingStore.open(c, log);
  t.same(counts(s2, 'img:1'), { openat: 1 }, 'the journal is still replayed');
  t.ok(readdirSync(c).some((f) => f.startsWith(`${SNAPSHOT_FILE}.corrupt-`)), 'the damaged file is kept for a human');
  t.ok(lines.some((l) => l.level === 50 && String(l.msg).startsWith('unreadable state snapshot moved aside')));
  await s2.close();
});

t.test('one agent per state directory', async (t) => {
  const dir = tmp();
  const { log } = capture();
  const s1 = await RecordingStore.open(dir, log);
  // flock locks belong to the open file, so a second open in this process is refused like another agent.
  await t.rejects(RecordingStore.open(dir, log), new RegExp(`another agent \\(pid ${process.pid}\\) is using ${dir}`));
  await s1.close();
  writeFileSync(join(dir, 'agent.pid'), `${process.ppid}\n`); // a live process that holds no lock (a reused pid)
  const s = await RecordingStore.open(dir, log);
  t.equal(readFileSync(join(dir, 'agent.pid'), 'utf8').trim(), String(process.pid));
  await s.close();
});

t.test('compaction once the journal passes its size limit', async (t) => {
  const dir = tmp();
  const { log } = capture();
  const s = await RecordingStore.open(dir, log, { compactBytes: 2000 });
  for (let i = 0; i < 40; i++) {
    s.record(calls(`img:${i}`, 'read', 0));
    await s.flush();
  }
  t.ok(s.journalBytes < 2000 + 400, `journal stays small (${s.journalBytes} bytes)`);
  await s.close();
  const again = await RecordingStore.open(dir, log);
  t.equal(again.state.images.size, 40);
  await again.close();
});

t.test('a temp file an interrupted write left behind is removed at open; other files stay', async (t) => {
  const dir = tmp();
  const { log } = capture();
  const leftover = `.${SNAPSHOT_FILE}.0123456789abcdef.tmp`;
  writeFileSync(join(dir, leftover), 'half a snapshot');
  writeFileSync(join(dir, 'notes.tmp'), 'not ours');
  const s = await RecordingStore.open(dir, log);
  const files = readdirSync(dir);
  t.notOk(files.includes(leftover), 'our temp file is gone');
  t.ok(files.includes('notes.tmp'), 'a file not of ours stays');
  await s.close();
});
