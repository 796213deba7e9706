// import-audit's progress line: drawn on a terminal (a real pty, made by
// util-linux `script`), never with -q, never when stderr is a pipe.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CLI, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const FIX = fileURLToPath(new URL('./fixtures/audit/', import.meta.url));
const dir = tempDir('audit-progress');
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasScript ? false : 'needs `script` from util-linux (apt-get install bsdutils) to give the command a terminal';

// A few MB (several read chunks) of the captured log, and a second file, so the line has files to count.
const log = join(dir, 'audit.log');
writeFileSync(log, readFileSync(join(FIX, 'auditd-raw.txt'), 'latin1').repeat(80), 'latin1');
const log2 = join(dir, 'audit.log.1');
writeFileSync(log2, readFileSync(join(FIX, 'auditd-raw.txt')));

/** Runs the CLI with a pty as its terminal; what the terminal received. */
function onTerminal(args: string[]): { status: number | null; text: string } {
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'latin1', env: { ...process.env, TERM: 'xterm' }, timeout: 120_000 });
  return { status: r.status, text: r.stdout };
}

const PROGRESS = /\rimport-audit: [\d.]+ [KMG]?i?B of [\d.]+ [KMG]?i?B \(\d+%\), file [12] of 2, [\d,]+ records\/s, \d+:\d\d le/;

t.test('on a terminal: bytes, files, records/s and time left, then erased before the summary', { skip }, async (t) => {
  const r = onTerminal(['import-audit', log, log2, '--image', 'x', '-o', join(dir, 'a.json'), '--progress-after', '0']);
  t.equal(r.status, 0, r.text);
  t.match(r.text, PROGRESS, 'a progress line with bytes, files, records/s and time left');
  const erased = r.text.lastIndexOf('\r\x1b[K');
  const summary = r.text.indexOf('seccomp-recorder: ');
  t.ok(erased >= 0 && erased < summary, 'the line is erased before the summary is printed');
  t.notMatch(r.text.slice(summary), /records\/s/, 'no progress after the summary');
});

t.test('on a terminal with -q: nothing at all', { skip }, async (t) => {
  const r = onTerminal(['import-audit', log, log2, '--image', 'x', '-o', join(dir, 'b.json'), '--progress-after', '0', '-q']);
  t.equal(r.status, 0, r.text);
  t.equal(r.text, '');
});

t.test('on a terminal, a short import stays quiet until the delay', { skip }, async (t) => {
  const r = onTerminal(['import-audit', log2, '--image', 'x', '-o', join(dir, 'c.json'), '--progress-after', '600000']);
  t.equal(r.status, 0, r.text);
  t.notMatch(r.text, /records\/s/, 'no progress line');
  t.match(r.text, /seccomp-recorder: /, 'the summary');
});

t.test('stderr a pipe: the summary only, no progress line', async (t) => {
  const r = await runCli(['import-audit', log, log2, '--image', 'x', '-o', join(dir, 'd.json'), '--progress-after', '0']);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /records\/s|\r/);
  t.match(r.stderr, /^seccomp-recorder: [\d,]+ SCMP_ACT_LOG records/);
});
