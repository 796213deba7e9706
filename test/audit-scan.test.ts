// The native scanner behind import-audit (native/audit_scan.c via
// src/record/audit/scan.ts) against the string parser (parse.ts), which
// defines what a line means: the same records, counts, malformed reasons and
// loss on every captured line, on thousands of mutated lines, at any chunking,
// with CRLF and over-long lines, and through importAudit with and without it.
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { importAudit } from '../src/record/audit/import.js';
import { LineSplitter } from '../src/record/audit/lines.js';
import { LossTracker } from '../src/record/audit/loss.js';
import type { SeccompRecord } from '../src/record/audit/parse.js';
import { nativeAuditScan, ScanningSplitter } from '../src/record/audit/scan.js';
import { AuditLineHandler } from '../src/record/audit/stream.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'sr-audit-scan-'));
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
