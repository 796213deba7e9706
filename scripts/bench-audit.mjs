#!/usr/bin/env node
// Parse throughput of `import-audit`: records/s and MB/s on a generated auditd
// log, and the ratio to `grep -c type=SECCOMP` on the same file in the same
// run (grep is the floor: it only looks for a string). Not a test: it prints
// figures; nothing here asserts a time.
//
//   node scripts/bench-audit.mjs [--size-mb N] [--repeat N] [--gzip]
//
// The log is built from the real lines captured on this machine
// (test/fixtures/audit/auditd-raw.txt): mostly SECCOMP records with rising serials,
// varied pids and syscall numbers, plus the other record types auditd writes.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argOption, median, timeCommand } from './lib/bench-util.mjs';
import { gzipSync } from 'node:zlib';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist/cli/main.js');
const args = process.argv.slice(2);
const opt = (name, def) => argOption(args, name, def);
const SIZE_MB = Number(opt('size-mb', 1024));
const REPEAT = Number(opt('repeat', 3));
const GZIP = args.includes('--gzip');
const work = mkdtempSync(join(tmpdir(), 'sr-bench-audit-'));

/** Writes ~SIZE_MB of log; returns the number of SECCOMP records in it. */
function generate(path) {
  const corpus = readFileSync(join(REPO, 'test/fixtures/audit/auditd-raw.txt'), 'utf8').split('\n').filter(Boolean);
  const seccomp = corpus.filter((l) => l.startsWith('type=SECCOMP') && l.endsWith('code=0x7ffc0000'));
  const other = corpus.filter((l) => !l.startsWith('type=SECCOMP') && !l.startsWith('type=DAEMON'));
  const stamp = /msg=audit\(\d+\.\d+:\d+\)/;
  const fd = openSync(path, 'w');
  const target = SIZE_MB * 1024 * 1024;
  let written = 0;
  let serial = 1000;
  let records = 0;
  let t = 1795734018000;
  let i = 0;
  while (written < target) {
    const lines = [];
    for (let k = 0; k < 20000; k++, i++) {
      serial++;
      t += 1;
      const at = `msg=audit(${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}:${serial})`;
      if (i % 8 === 7) {
        // a SYSCALL/PROCTITLE pair shares one serial
        for (const l of other.slice(0, 2)) lines.push(l.replace(stamp, at));
        continue;
      }
      const base = seccomp[i % seccomp.length];
      lines.push(base.replace(stamp, at).replace(/ pid=\d+/, ` pid=${1000 + (i % 5000)}`).replace(/ syscall=\d+/, ` syscall=${i % 335}`));
      records++;
    }
    const buf = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
    writeSync(fd, buf);
    written += buf.length;
  }
  closeSync(fd);
  return records;
}

const timeIt = (argv, env) => timeCommand(argv, { env, captureStdout: true, okStatus: (s) => s === 0 || (argv[0] === 'grep' && s === 1) });

const log = join(work, 'audit.log');
console.log(`import-audit benchmark: node ${process.version}; median of ${REPEAT} runs; generating ${SIZE_MB} MB of auditd log...`);
const records = generate(log);
const bytes = statSync(log).size;
const mb = bytes / 1024 / 1024;
console.log(`  log: ${mb.toFixed(0)} MB, ${records.toLocaleString('en-US')} SECCOMP records (+ other record types)`);

const out = join(work, 'rec.json');
const importRuns = [];
const grepRuns = [];
for (let i = 0; i < REPEAT; i++) {
  // Alternate, so page-cache warmth favours neither.
  grepRuns.push(timeIt(['grep', '-c', 'type=SECCOMP', log], { LC_ALL: 'C' }));
  importRuns.push(timeIt([process.execPath, CLI, 'import-audit', log, '--image', 'bench', '-q', '-o', out]));
}
const grepCount = Number(grepRuns[0].stdout.trim());
const rec = JSON.parse(readFileSync(out, 'utf8'));
if (rec.stats.notifications !== records || grepCount !== records)
  throw new Error(`counts disagree: generated ${records}, import-audit ${rec.stats.notifications}, grep ${grepCount}`);
const imp = median(importRuns.map((r) => r.ms));
const grp = median(grepRuns.map((r) => r.ms));
const nodeStart = median(Array.from({ length: REPEAT }, () => timeIt([process.execPath, CLI, '--version']).ms));
const line = (label, ms) =>
  `  ${label.padEnd(26)} ${ms.toFixed(0).padStart(7)} ms  ${Math.round(records / (ms / 1000)).toLocaleString('en-US').padStart(12)} records/s  ${(mb / (ms / 1000)).toFixed(0).padStart(6)} MB/s`;
console.log(line('import-audit', imp));
console.log(line('grep -c type=SECCOMP', grp));
console.log(`  import-audit / grep        ${(imp / grp).toFixed(2)}x   (node start-up alone: ${nodeStart.toFixed(0)} ms, included)`);

if (GZIP) {
  const gz = join(work, 'audit.log.1.gz');
  const w = openSync(gz, 'w');
  writeSync(w, gzipSync(readFileSync(log), { level: 6 }));
  closeSync(w);
  const zRuns = Array.from({ length: REPEAT }, () => timeIt([process.execPath, CLI, 'import-audit', gz, '--image', 'bench', '-q', '-o', out]).ms);
  const zgrep = Array.from({ length: REPEAT }, () => timeIt(['sh', '-c', `zcat '${gz}' | grep -c type=SECCOMP`], { LC_ALL: 'C' }).ms);
  console.log(line('import-audit (gzip)', median(zRuns)));
  console.log(line('zcat | grep -c', median(zgrep)));
}
rmSync(work, { recursive: true, force: true });
