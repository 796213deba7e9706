// `seccomp-recorder import-audit` on the captured corpus: rotated and gzip'd
// files, selection by comm/pid, denials, malformed and over-long lines, loss,
// errors; the recording it writes feeds `generate`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { parseRecording } from '../src/profile/recording.js';
import type { Recording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const FIX = fileURLToPath(new URL('./fixtures/audit/', import.meta.url));
const dir = tempDir('audit-import');
const load = (p: string): Recording => parseRecording(readFileSync(p, 'utf8'), p);
const names = (r: Recording) => r.observations.map((o) => `${o.arch}/${o.syscall ?? `#${o.nr}`}`);

/** What the syscalls fixture is known to call (see test/fixtures/syscalls.c), by arch. */
const FIXTURE_CALLS = [
  'x86_64/flock',
  'x86_64/memfd_create',
  'x86_64/getrandom',
  'x86_64/sysinfo',
  'x86_64/prctl',
  'x86_64/personality',
  'x86_64/getitimer',
  'x86_64/vfork',
  'x86_64/umask',
  'x86_64/getrusage',
  'x86_64/setsid',
  'x86_64/execve',
  'x86_64/exit_group',
  'x86/getpid',
  'x32/getpid',
];

t.test('raw log: the fixture program, selected by comm, with its compat calls', async (t) => {
  const out = join(dir, 'fixture.json');
  const r = await runCli(['import-audit', join(FIX, 'auditd-raw.txt'), '--image', 'fixture:1', '--comm', 'syscalls', '-o', out]);
  t.equal(r.code, 0, r.stderr);
  const rec = load(out);
  t.same(rec.identity, { image: 'fixture:1' });
  t.same(rec.arches, ['x32', 'x86', 'x86_64']);
  for (const c of FIXTURE_CALLS) t.ok(names(rec).includes(c), c);
  t.equal(rec.stats.lost, 0);
  t.ok(rec.startedAt < rec.endedAt && rec.startedAt.startsWith('20'), 'times from the records');
  t.match(r.stderr, /SCMP_ACT_LOG records, \d+ distinct syscalls \(x32, x86, x86_64\) from 1 file/);
  t.match(r.stderr, /records of other processes left out/);
});

t.test('rotated and gzip\'d pieces, in glob order, give the same recording as the whole log', async (t) => {
  const all = readFileSync(join(FIX, 'auditd-raw.txt'), 'utf8').split('\n');
  const half = Math.floor(all.length / 2);
  writeFileSync(join(dir, 'audit.log.1'), gzipSync(`${all.slice(0, half).join('\n')}\n`));
  writeFileSync(join(dir, 'audit.log'), all.slice(half).join('\n'));
  const whole = await runCli(['import-audit', join(FIX, 'auditd-raw.txt'), '--image', 'x', '-o', join(dir, 'whole.json')]);
  const parts = await runCli(['import-audit', join(dir, 'audit.log'), join(dir, 'audit.log.1'), '--image', 'x', '-o', join(dir, 'parts.json')]);
  t.equal(whole.code, 0, whole.stderr);
  t.equal(parts.code, 0, parts.stderr);
  t.same(load(join(dir, 'parts.json')).observations, load(join(dir, 'whole.json')).observations);
  t.equal(load(join(dir, 'parts.json')).stats.lost, 0, 'no gap reported at the cut between files');
});

t.test('denials are reported, not recorded', async (t) => {
  const out = join(dir, 'uname.json');
  const r = await runCli(['import-audit', join(FIX, 'auditd-enriched.txt'), '--image', 'u', '--comm', 'uname', '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.notOk(names(load(out)).includes('x86_64/uname'), 'the killed call is not in the recording');
  t.match(r.stderr, /denied: 1 records of other seccomp actions[^\n]*\n\s+x86_64 uname kill_process x1 \(\/usr\/bin\/uname\)/);
});

t.test('kernel log captures (kmsg, dmesg) and stdout output', async (t) => {
  const r = await runCli(['import-audit', join(FIX, 'kmsg.txt'), join(FIX, 'dmesg.txt'), '--image', 'k', '--comm', 'syscalls', '-q']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', '-q: no summary');
  const rec = parseRecording(r.stdout, 'stdout');
  for (const c of FIXTURE_CALLS) t.ok(names(rec).includes(c), c);
});

t.test('selection by pid', async (t) => {
  const pid = /pid=(\d+) comm="uname"/.exec(readFileSync(join(FIX, 'auditd-raw.txt'), 'utf8'))![1];
  const out = join(dir, 'pid.json');
  const r = await runCli(['import-audit', join(FIX, 'auditd-raw.txt'), '--image', 'p', '--pid', `${pid},1`, '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.ok(names(load(out)).includes('x86_64/execve'));
  t.notOk(names(load(out)).includes('x86_64/flock'), "another process's call left out");
  const bad = await runCli(['import-audit', join(FIX, 'auditd-raw.txt'), '--image', 'p', '--pid', 'abc']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--pid: not a process id: "abc"/);
});

t.test('malformed lines: counted, named by file:line, the good ones kept; a cut stamp is a serial gap', async (t) => {
  const out = join(dir, 'mal.json');
  const report = join(dir, 'mal-report.json');
  const r = await runCli(['import-audit', join(FIX, 'malformed.txt'), '--image', 'm', '-o', out, '--report', report]);
  t.equal(r.code, 0, r.stderr);
  const rec = load(out);
  t.equal(rec.stats.notifications, 4);
  t.same(rec.observations.map((o) => o.syscall), ['lstat', 'mprotect', 'munmap', 'read'], 'x86_64 numbers 6, 10, 11, 0 of the four valid lines')
  t.match(r.stderr, /skipped: 12 unparseable lines \([^)]*malformed\.txt:1: not an audit record/);
  t.match(r.stderr, /INCOMPLETE: at least 1 audit records were lost/);
  t.equal(rec.stats.lost, 1);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  t.equal(rep.lines.malformed, 12);
  t.equal(rep.lines.malformedReasons['duplicate pid='], 1);
  t.equal(rep.loss.serialGaps, 1);
});

t.test('over-long lines are skipped and counted; --max-line-bytes reads them', async (t) => {
  const line = readFileSync(join(FIX, 'auditd-raw.txt'), 'utf8').split('\n').find((l) => l.startsWith('type=SECCOMP'))!;
  const longComm = line.replace(/comm=\S+/, `comm="${'A'.repeat(3 << 20)}"`);
  const file = join(dir, 'long.log');
  writeFileSync(file, `${line}\n${longComm}\n`);
  const r = await runCli(['import-audit', file, '--image', 'l', '-o', join(dir, 'long.json')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /1 over-long line \(raise --max-line-bytes/);
  t.equal(load(join(dir, 'long.json')).stats.notifications, 1);
  const wide = await runCli(['import-audit', file, '--image', 'l', '--max-line-bytes', '8m', '-o', join(dir, 'long2.json')]);
  t.equal(wide.code, 0, wide.stderr);
  t.equal(load(join(dir, 'long2.json')).stats.notifications, 2);
});

t.test('errors: no records, missing file, bad options; no output file left behind', async (t) => {
  const out = join(dir, 'none.json');
  const none = await runCli(['import-audit', join(FIX, 'capture.sh'), '--image', 'n', '-o', out]);
  t.equal(none.code, 2);
  t.match(none.stderr, /^error: .*capture\.sh: no type=SECCOMP records with a log action/);
  t.notOk(existsSync(out));
  const missing = await runCli(['import-audit', join(dir, 'nope.log'), '--image', 'n', '-o', out]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.log: cannot read: no such file/);
  t.notOk(existsSync(out));
  const noImage = await runCli(['import-audit', join(FIX, 'auditd-raw.txt')]);
  t.equal(noImage.code, 2);
  t.match(noImage.stderr, /--image/);
  t.notMatch(none.stderr + missing.stderr, /\n\s+at /, 'no stack trace');
});

t.test('the recording feeds generate', async (t) => {
  const rec = join(dir, 'fixture.json');
  const r = await runCli(['generate', rec, '--no-baseline', '-o', join(dir, 'profile.json')]);
  t.equal(r.code, 0, r.stderr);
  const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
  const allowed = new Set(profile.syscalls.flatMap((s: { names: string[] }) => s.names));
  for (const n of ['flock', 'memfd_create', 'getitimer', 'getpid']) t.ok(allowed.has(n), n);
});
