#!/usr/bin/env node
// Parse throughput of `import-audit`: records/s and MB/s on a generated auditd
// log, and the ratio to `grep -c type=SECCOMP` on the same file in the same
// run (grep is the floor: it only looks for a string). Not a test: it prints
// figures; nothing here asserts a time.
//
//   node scripts/bench-audit.mjs [--size-mb N] [--repeat N] [--gzip] [--rss-size-mb N]
//
// Before and after in one run: `--legacy-parser` (every line decoded and parsed
// as a string, the reader before native/audit_scan.c) against the default.
// Each row: wall time and, through GNU time, CPU time (user + system), which a
// shared machine's load moves less; rates from both.
// With --rss-size-mb, the max RSS of an import of a log that large (the
// generated one repeated) against the generated one: memory should stay flat.
//
// The log is built from the real lines captured on this machine
// (test/fixtures/audit/auditd-raw.txt): mostly SECCOMP records with rising serials,
// varied pids and syscall numbers, plus the other record types auditd writes.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { argOption, median, timeCommand } from './lib/bench-util.mjs';
import { gzipSync } from 'node:zlib';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist/cli/main.js');
const args = process.argv.slice(2);
const opt = (name, def) => argOption(args, name, def);
const SIZE_MB = Number(opt('size-mb', 1024));
const REPEAT = Number(opt('repeat', 3));
const GZIP = args.includes('--gzip');
/** Also measure max RSS on a log this large (0: not). */
const RSS_MB = Number(opt('rss-size-mb', 0));
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

const GNU_TIME = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { encoding: 'utf8' }).status === 0;
/** Wall ms, and CPU ms (user + system, through GNU time when there is one): on a shared machine CPU time moves less with the load. */
const timeIt = (argv, env) => {
  const cpuFile = join(work, 'cpu');
  const wrapped = GNU_TIME ? ['/usr/bin/time', '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
  const r = timeCommand(wrapped, { env, captureStdout: true, okStatus: (s) => s === 0 || (argv[0] === 'grep' && s === 1) });
  const cpu = GNU_TIME ? readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').reduce((a, x) => a + Number(x) * 1000, 0) : NaN;
  return { ...r, cpu };
};

const log = join(work, 'audit.log');
console.log(`import-audit benchmark: node ${process.version}; median of ${REPEAT} runs; generating ${SIZE_MB} MB of auditd log...`);
const records = generate(log);
const bytes = statSync(log).size;
const mb = bytes / 1024 / 1024;
console.log(`  log: ${mb.toFixed(0)} MB, ${records.toLocaleString('en-US')} SECCOMP records (+ other record types)`);

const out = join(work, 'rec.json');
const importArgv = (file, extra = []) => [process.execPath, CLI, 'import-audit', file, '--image', 'bench', '-q', '-o', out, ...extra];
// Node's own start-up (an empty script): what the tool cannot make cheaper. Loading the tool's modules is the command's cost.
const nodeStart = median(Array.from({ length: REPEAT }, () => timeIt([process.execPath, '-e', '0']).ms));

/** Runs each argv REPEAT times, interleaved so page-cache warmth favours none; medians in ms. */
function race(argvs) {
  const runs = argvs.map(() => []);
  for (let i = 0; i < REPEAT; i++) argvs.forEach((a, k) => runs[k].push(timeIt(a.argv, a.env)));
  return runs.map((r) => ({ ms: median(r.map((x) => x.ms)), cpu: median(r.map((x) => x.cpu)), stdout: r[0].stdout }));
}

function check(label, count) {
  if (count !== records) throw new Error(`counts disagree: generated ${records}, ${label} ${count}`);
}

const row = (label, run, floor, sizeMb, startMs = 0) => {
  const { ms, cpu } = run;
  const net = ms - startMs;
  const rate = (x) => `${Math.round(records / (x / 1000)).toLocaleString('en-US').padStart(11)} rec/s ${(sizeMb / (x / 1000)).toFixed(0).padStart(5)} MB/s`;
  const cpuText = Number.isFinite(cpu) && cpu > 0 ? `   cpu ${cpu.toFixed(0).padStart(6)} ms: ${rate(cpu)}` : '';
  return `  ${label.padEnd(38)} ${ms.toFixed(0).padStart(7)} ms ${rate(ms)}  ${floor ? `${(ms / floor.ms).toFixed(2).padStart(6)}x floor` : '            '}${cpuText}${startMs ? `   without node's start: ${rate(net)}` : ''}`;
};

function section(file, label, floorArgv, floorEnv) {
  // Rates are of log text (uncompressed), whatever the file's size on disk.
  const sizeMb = mb;
  const fileMb = statSync(file).size / 1024 / 1024;
  const [floor, before, after] = race([
    { argv: floorArgv, env: floorEnv },
    { argv: importArgv(file, ['--legacy-parser']) },
    { argv: importArgv(file) },
  ]);
  check('the floor', Number(floor.stdout.trim()));
  // Both parsers wrote the same file name: the last run (after) is checked here; the tests compare the two.
  check('import-audit', JSON.parse(readFileSync(out, 'utf8')).stats.notifications);
  console.log(`\n  ${label} (${fileMb.toFixed(0)} MB on disk; rates in MB of log text)`);
  console.log(row(floorArgv.join(' ').includes('zcat') ? 'zcat | grep -c type=SECCOMP' : 'grep -c type=SECCOMP', floor, undefined, sizeMb));
  console.log(row('import-audit --legacy-parser (before)', before, floor, sizeMb, nodeStart));
  console.log(row('import-audit (after)', after, floor, sizeMb, nodeStart));
  console.log(
    `  after is ${(before.ms / after.ms).toFixed(2)}x faster than before (cpu ${(before.cpu / after.cpu).toFixed(2)}x); ${(after.ms / floor.ms).toFixed(2)}x the floor ` +
      `(node's own start-up, an empty script: ${nodeStart.toFixed(0)} ms, included; load average ${loadavg()[0].toFixed(2)})`,
  );
}

section(log, 'plain log, against grep -c', ['grep', '-c', 'type=SECCOMP', log], { LC_ALL: 'C' });

if (GZIP) {
  const gz = join(work, 'audit.log.1.gz');
  const w = openSync(gz, 'w');
  writeSync(w, gzipSync(readFileSync(log), { level: 6 }));
  closeSync(w);
  section(gz, "gzip'd log, against zcat | grep -c", ['sh', '-c', `zcat '${gz}' | grep -c type=SECCOMP`], { LC_ALL: 'C' });
}

/** Max RSS of one import (KiB), through GNU time; undefined without it. */
function maxRss(file) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...importArgv(file)], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return Number(r.stderr.trim().split('\n').pop());
}

if (RSS_MB > 0) {
  const big = join(work, 'big.log');
  // The generated log repeated: serials restart at each copy (read as a new boot), records as many as asked.
  const copies = Math.max(1, Math.round(RSS_MB / mb));
  const fd = openSync(big, 'w');
  const piece = readFileSync(log);
  for (let i = 0; i < copies; i++) writeSync(fd, piece);
  closeSync(fd);
  const small = maxRss(log);
  const t0 = process.hrtime.bigint();
  const large = maxRss(big);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const bigMb = statSync(big).size / 1024 / 1024;
  if (small === undefined || large === undefined) console.log('\n  max RSS: /usr/bin/time (GNU time) is not available here');
  else
    console.log(
      `\n  max RSS: ${(small / 1024).toFixed(0)} MB on the ${mb.toFixed(0)} MB log, ${(large / 1024).toFixed(0)} MB on a ${bigMb.toFixed(0)} MB log ` +
        `(${(large / small).toFixed(2)}x for ${(bigMb / mb).toFixed(1)}x the bytes; ${(bigMb / (ms / 1000)).toFixed(0)} MB/s)`,
    );
}
rmSync(work, { recursive: true, force: true });
