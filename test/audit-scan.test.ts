// The native scanner behind import-audit (native/audit_scan.c via
// src/record/audit/scan.ts) against the string parser (parse.ts), which
// defines what a line means: the same records, counts, malformed reasons and
// loss on every captured line, on thousands of mutated lines, at any chunking,
// with CRLF and over-long lines, and through importAudit with and without it.
// Bulk mode (records counted in C, scan.ts ScanTally) against the same parser:
// the same counts, time span, records handed over (with their line numbers),
// stats and loss, on the corpus and on generated logs whose serials repeat,
// skip, go back and restart, with mutated lines, many arches and chunkings.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { importAudit } from '../src/record/audit/import.js';
import { LineSplitter } from '../src/record/audit/lines.js';
import { LossTracker } from '../src/record/audit/loss.js';
import type { SeccompRecord } from '../src/record/audit/parse.js';
import type { ScanTally } from '../src/record/audit/scan.js';
import { nativeAuditScan, ScanningSplitter } from '../src/record/audit/scan.js';
import { AuditLineHandler } from '../src/record/audit/stream.js';
import { tempDir } from './helpers/tmp.js';

const FIX = fileURLToPath(new URL('./fixtures/audit/', import.meta.url));
const FILES = ['auditd-raw.txt', 'auditd-enriched.txt', 'kmsg.txt', 'dmesg.txt', 'malformed.txt'];
const scan = nativeAuditScan();
const skip = scan ? false : 'the native part is not built (npm run build)';

interface Outcome {
  records: SeccompRecord[];
  stats: AuditLineHandler['stats'];
  loss: ReturnType<LossTracker['summary']>;
  lineNos: number[];
  split: { lines: number; oversized: number; bytes: number };
}

/** Feeds bytes through one reader in chunks of `chunk` bytes; what the handler saw. */
function read(bytes: Buffer, native: boolean, chunk = bytes.length || 1, maxLineBytes = 64 * 1024): Outcome {
  const loss = new LossTracker();
  const records: SeccompRecord[] = [];
  const lineNos: number[] = [];
  const handler: AuditLineHandler = new AuditLineHandler(loss, (r) => {
    records.push({ ...r });
    lineNos.push(handler.lineNo);
  });
  const oversized = () => handler.lineNo++;
  const splitter = native ? new ScanningSplitter(scan!, handler, maxLineBytes, oversized) : new LineSplitter((l) => handler.line(l), maxLineBytes, oversized);
  for (let i = 0; i < bytes.length; i += chunk) splitter.push(bytes.subarray(i, i + chunk));
  splitter.end();
  loss.finish();
  return { records, stats: handler.stats, loss: loss.summary(), lineNos, split: { ...splitter.stats } };
}

t.test('every captured line: the scanner and the string parser agree', { skip }, async (t) => {
  for (const name of FILES) {
    const bytes = readFileSync(join(FIX, name));
    const want = read(bytes, false);
    const got = read(bytes, true);
    t.same(got, want, name);
    if (name.startsWith('auditd')) t.ok(want.records.length > 100, `${name}: records to compare`);
  }
});

t.test('any chunking, CRLF endings and over-long lines give the same outcome', { skip }, async (t) => {
  const raw = readFileSync(join(FIX, 'auditd-raw.txt'), 'latin1');
  const crlf = Buffer.from(raw.split('\n').join('\r\n'), 'latin1');
  const mixed = Buffer.from(`${raw.slice(0, 5000)}${'Z'.repeat(3000)}\n${raw.slice(5000)}no newline at the end`, 'latin1');
  for (const [label, bytes] of [['crlf', crlf], ['mixed', mixed]] as const) {
    const want = read(bytes, false, bytes.length, 2048);
    for (const chunk of [1, 7, 333, 4096, bytes.length]) t.same(read(bytes, true, chunk, 2048), want, `${label}, chunks of ${chunk}`);
    t.ok(want.split.oversized >= (label === 'mixed' ? 1 : 0));
  }
});

/** A small deterministic PRNG (mulberry32), so a failure names a reproducible case. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('mutated lines: the scanner never reads a line differently from the string parser', { skip }, async (t) => {
  const sources = ['auditd-raw.txt', 'auditd-enriched.txt', 'malformed.txt'].flatMap((n) =>
    readFileSync(join(FIX, n), 'latin1').split('\n').filter((l) => l.startsWith('type=')),
  );
  const interesting = ' "=-09afAFx\x1d):.\r\n\x00\xffpidcommexe';
  const random = prng(16);
  const pick = (n: number) => Math.floor(random() * n);
  let differing = 0;
  const cases = 6000;
  for (let k = 0; k < cases; k++) {
    let line = sources[pick(sources.length)];
    for (let m = 1 + pick(3); m > 0; m--) {
      const at = pick(line.length + 1);
      const op = pick(4);
      if (op === 0) line = line.slice(0, at) + interesting[pick(interesting.length)] + line.slice(at + 1);
      else if (op === 1) line = line.slice(0, at) + interesting[pick(interesting.length)] + line.slice(at);
      else if (op === 2) line = line.slice(0, at) + line.slice(at + 1 + pick(8));
      else line = line.slice(0, at) + line.slice(pick(line.length), pick(line.length)) + line.slice(at);
    }
    const bytes = Buffer.from(`${line}\n`, 'latin1');
    const want = read(bytes, false);
    const got = read(bytes, true);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      differing++;
      if (differing <= 3) t.same(got, want, `mutated line ${k}: ${JSON.stringify(line)}`);
    }
  }
  t.equal(differing, 0, `${cases} mutated lines read alike`);
});

t.test('boundary values: each side of every limit is read alike', { skip }, async (t) => {
  const body = (f: Record<string, string>) => {
    const v = { auid: '4294967295', uid: '0', gid: '0', ses: '4294967295', subj: '', pid: '4242', comm: '"x"', exe: '"/usr/bin/x"', sig: '0', arch: 'c000003e', syscall: '1', compat: '0', ip: '0x7fb8937f2c47', code: '0x7ffc0000', ...f };
    return `auid=${v.auid} uid=${v.uid} gid=${v.gid} ses=${v.ses} ${v.subj ? `subj=${v.subj} ` : ''}pid=${v.pid} comm=${v.comm} exe=${v.exe} sig=${v.sig} arch=${v.arch} syscall=${v.syscall} compat=${v.compat} ip=${v.ip} code=${v.code}`;
  };
  const rec = (f: Record<string, string> = {}, stamp = '1795734018.290:7', tail = '') => `type=SECCOMP msg=audit(${stamp}): ${body(f)}${tail}`;
  const lines = [
    rec(),
    ...['1', '4194304', '4194305', '0', '9999999', '10000000', '-1', ''].map((pid) => rec({ pid })),
    ...['4294967295', '4294967296', '-2147483648', '-2147483649', '99999999999', '-', ''].map((syscall) => rec({ syscall })),
    ...['4294967295', '99999999999', '-1', '', 'x'].map((uid) => rec({ uid })),
    ...['999', '1000', '-1', ''].map((sig) => rec({ sig })),
    ...['ffffffff', 'FFFFFFFF', '1ffffffff', '', '0x3e', '"c000003e"'].map((arch) => rec({ arch })),
    ...['0xffffffff', '0x1ffffffff', '0x', '7ffc0000', '0x7FFC0000'].map((code) => rec({ code })),
    ...['0x', '0xg', 'ff', '0x1 '].map((ip) => rec({ ip })),
    ...['""', '', '(null)', '?', '6120622263', '612062226', '"a\x1db"', 'a=b', '"a"b'].map((comm) => rec({ comm: comm.replace('\x1d', '') })),
    ...['unconfined', '"sys tem"', 'a=b', 'system_u:system_r:kernel_t:s0'].map((subj) => rec({ subj })),
    ...['999999999999.290:7', '9999999999999.290:7', '1.29:7', '1.2900:7', '1.290:9999999999', '1.290:99999999999', '1.290:0', '.290:7', '1.290:'].map((st) => rec({}, st)),
    rec({}, undefined, ' '),
    rec({}, undefined, '  '),
    rec({}, undefined, 'ARCH=x86_64 SYSCALL=write'),
    rec({}, undefined, ' ARCH=x86_64'),
    rec({}, undefined, ' extra=1'),
    `type=SECCOMP msg=audit(1795734018.290:7):${body({})}`,
    `type=${'A'.repeat(32)} msg=audit(1795734018.290:8): x=1`,
    `type=${'A'.repeat(33)} msg=audit(1795734018.290:9): x=1`,
    'type= msg=audit(1795734018.290:10): x=1',
    'type=DAEMON_START msg=audit(1795734018.290:11): op=start',
    'type=1326 msg=audit(1795734018.290:12): ' + body({}),
    'type=UNKNOWN[1326] msg=audit(1795734018.290:13): ' + body({}),
    'type=SYSCALL msg=audit(1795734018.290:14) x=1',
    'type=SYSCALL',
    'type=SECCOMP',
  ];
  for (const line of lines) {
    const bytes = Buffer.from(`${line}\n`, 'latin1');
    t.same(read(bytes, true), read(bytes, false), JSON.stringify(line).slice(0, 160));
  }
});

t.test('importAudit gives the same recording and report with and without the scanner', { skip }, async (t) => {
  const dir = tempDir('audit-scan', t);
  const files = FILES.map((n) => join(FIX, n));
  const joined = join(dir, 'all.log');
  writeFileSync(joined, Buffer.concat(files.map((f) => readFileSync(f))));
  for (const set of [files, [joined]]) {
    const fast = await importAudit({ files: set, image: 'i' });
    const legacy = await importAudit({ files: set, image: 'i', legacyParser: true });
    t.same(fast.recording, legacy.recording, `recording from ${set.length} file(s)`);
    t.same(fast.report, legacy.report, `report from ${set.length} file(s)`);
    t.ok(fast.report.logged > 100);
  }
});

/** What an import makes of the bytes: log records counted per (arch, nr), their time span, every other record with its line number, stats and loss. */
interface Tallied {
  counts: Record<string, number>;
  first: number;
  last: number;
  handedOver: { record: SeccompRecord; lineNo: number }[];
  stats: AuditLineHandler['stats'];
  loss: ReturnType<LossTracker['summary']>;
  split: { lines: number; oversized: number; bytes: number };
}

/** Reads bytes with the string parser (bulk false) or the scanner in bulk mode; log records are tallied either way. */
function tallied(bytes: Buffer, bulk: boolean, chunk = bytes.length || 1, maxLineBytes = 64 * 1024): Tallied {
  const loss = new LossTracker();
  const out: Tallied = { counts: {}, first: Infinity, last: -Infinity, handedOver: [], stats: undefined!, loss: undefined!, split: undefined! };
  const add = (arch: number, nr: number, n: number) => (out.counts[`${arch}/${nr}`] = (out.counts[`${arch}/${nr}`] ?? 0) + n);
  const handler: AuditLineHandler = new AuditLineHandler(loss, (r) => {
    if (r.action === 'log') {
      add(r.auditArch, r.nr, 1);
      out.first = Math.min(out.first, r.time);
      out.last = Math.max(out.last, r.time);
    } else out.handedOver.push({ record: { ...r }, lineNo: handler.lineNo });
  });
  const sink: ScanTally = {
    loss,
    add,
    span: (a, b) => {
      out.first = Math.min(out.first, a);
      out.last = Math.max(out.last, b);
    },
  };
  const oversized = () => handler.lineNo++;
  const splitter = bulk ? new ScanningSplitter(scan!, handler, maxLineBytes, oversized, sink) : new LineSplitter((l) => handler.line(l), maxLineBytes, oversized);
  for (let i = 0; i < bytes.length; i += chunk) splitter.push(bytes.subarray(i, i + chunk));
  splitter.end();
  loss.finish();
  return { ...out, stats: handler.stats, loss: loss.summary(), split: { ...splitter.stats } };
}

t.test('bulk mode: every captured file gives the same tally, records, stats and loss', { skip }, async (t) => {
  for (const name of FILES) {
    const bytes = readFileSync(join(FIX, name));
    const want = tallied(bytes, false);
    t.same(tallied(bytes, true), want, name);
    for (const chunk of [1, 97, 4096]) t.same(tallied(bytes, true, chunk, 2048), tallied(bytes, false, chunk, 2048), `${name}, chunks of ${chunk}`);
  }
});

/** A generated auditd log: corpus lines under rewritten stamps, serials that continue, repeat, skip, go back or restart, and mutated lines. */
function generatedLog(seed: number, lines: number): Buffer {
  const corpus = ['auditd-raw.txt', 'auditd-enriched.txt', 'malformed.txt', 'kmsg.txt'].flatMap((n) => readFileSync(join(FIX, n), 'latin1').split('\n'));
  const seccomp = corpus.filter((l) => l.startsWith('type=SECCOMP msg=audit('));
  const others = corpus.filter((l) => !l.startsWith('type=SECCOMP msg=audit('));
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const arches = ['c000003e', '40000003', 'c00000b7', '80000016', 'c00000f3', '4000003e'];
  const codes = ['0x7ffc0000', '0x7ffc0000', '0x7ffc0000', '0x50001', '0x80000000', '0x7fc00000'];
  const out: string[] = [];
  let serial = 1 + pick(1000);
  let time = 1795734018000;
  for (let k = 0; k < lines; k++) {
    const r = random();
    if (r < 0.02) serial += 2 + pick(3000); // a gap, maybe past the reorder window
    else if (r < 0.03) serial -= 1 + pick(2000); // a late record
    else if (r < 0.035) serial = 1 + pick(100); // a restart
    else if (r < 0.3) serial += 0; // a record sharing its event's serial
    else serial++;
    time += pick(3) === 0 ? pick(2500) : 1;
    const stamp = `msg=audit(${Math.floor(time / 1000)}.${String(time % 1000).padStart(3, '0')}:${random() < 0.01 ? 0 : serial})`;
    let line: string;
    if (random() < 0.8) {
      line = seccomp[pick(seccomp.length)]
        .replace(/msg=audit\([^)]*\)/, stamp)
        .replace(/ arch=[0-9a-f]+/, ` arch=${random() < 0.8 ? 'c000003e' : arches[pick(arches.length)]}`)
        .replace(/ syscall=\d+/, ` syscall=${random() < 0.95 ? pick(450) : random() < 0.5 ? 1024 + pick(1000) : 0x40000000 + pick(500)}`)
        .replace(/ code=0x[0-9a-f]+/, ` code=${random() < 0.9 ? '0x7ffc0000' : codes[pick(codes.length)]}`);
    } else {
      line = others[pick(others.length)].replace(/msg=audit\([^)]*\)/, stamp);
    }
    if (random() < 0.03) {
      const at = pick(line.length + 1);
      line = line.slice(0, at) + ' "=-09x\x1d):.\r'[pick(13)] + line.slice(at + 1);
    }
    if (random() < 0.005) line = 'Z'.repeat(3000);
    out.push(line);
  }
  return Buffer.from(`${out.join(random() < 0.5 ? '\n' : '\r\n')}\n`, 'latin1');
}

t.test('bulk mode: generated logs with gaps, repeats, restarts, denials, many arches and mutations read alike', { skip }, async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const bytes = generatedLog(seed, 3000);
    const want = tallied(bytes, false, bytes.length, 2048);
    t.ok(want.loss.serialGaps > 0 && want.handedOver.length > 0, `seed ${seed}: gaps and denials to compare`);
    for (const chunk of [bytes.length, 65536, 1000, 61]) {
      const got = tallied(bytes, true, chunk, 2048);
      if (JSON.stringify(got) !== JSON.stringify(want)) t.same(got, want, `seed ${seed}, chunks of ${chunk}`);
      else t.pass(`seed ${seed}, chunks of ${chunk}`);
    }
  }
});

t.test('bulk mode: a log read in one piece is counted in C, not record by record', { skip }, async (t) => {
  // The generated log of continuous serials: nearly every record should be counted in bulk.
  const lines: string[] = [];
  const base = readFileSync(join(FIX, 'auditd-raw.txt'), 'latin1').split('\n').filter((l) => l.startsWith('type=SECCOMP') && l.endsWith('code=0x7ffc0000'));
  // (an x32 number, 0x40000000 and up, is outside the scanner's table and always handed over)
  const x32 = base.filter((l) => / syscall=\d{10}/.test(l)).length;
  t.equal(x32, 1, 'the corpus has one x32 record');
  for (let i = 0; i < 20000; i++) lines.push(base[i % base.length].replace(/msg=audit\([^)]*\)/, `msg=audit(1795734018.${String(i % 1000).padStart(3, '0')}:${100 + i})`));
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
  let handed = 0;
  const loss = new LossTracker();
  const handler = new AuditLineHandler(loss, () => handed++);
  let counted = 0;
  const splitter = new ScanningSplitter(scan!, handler, undefined, undefined, { loss, add: (_a, _n, c) => (counted += c), span: () => {} });
  splitter.push(bytes);
  splitter.end();
  t.equal(counted + handed, 20000);
  const x32Records = lines.filter((l) => / syscall=\d{10}/.test(l)).length;
  // ...and a chunk's first line, which the splitter reads alone (it may finish a line of the previous chunk).
  t.equal(handed, x32Records + 1, `only the ${x32Records} x32 records and the first line are handed to JS one by one`);
  t.equal(handler.stats.seccomp, 20000);
});

t.test('importAudit: generated logs give the same recording and report with the bulk scanner, the per-record scanner (--pid) and the string parser', { skip }, async (t) => {
  const dir = tempDir('audit-bulk', t);
  const files = [1, 2, 3].map((seed) => {
    const f = join(dir, `audit.log.${seed}`);
    writeFileSync(f, generatedLog(seed + 100, 4000));
    return f;
  });
  const fast = await importAudit({ files, image: 'i' });
  const legacy = await importAudit({ files, image: 'i', legacyParser: true });
  t.same(fast.recording, legacy.recording, 'recording');
  t.same(fast.report, legacy.report, 'report');
  t.ok(fast.report.logged > 1000 && fast.report.deniedRecords > 0 && fast.report.loss.incomplete);
  const pids = new Set(fast.recording.observations.length ? [1, 4242, 8213, 8215, 8216] : []);
  const fastPid = await importAudit({ files, image: 'i', filter: { pids } });
  const legacyPid = await importAudit({ files, image: 'i', filter: { pids }, legacyParser: true });
  t.same(fastPid.report, legacyPid.report, 'report with --pid (the per-record path)');
});
