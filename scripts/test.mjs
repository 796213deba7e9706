#!/usr/bin/env node
// `npm test`: runs tap (all of test/), passes its output through, and ends
// with the failures (each test's path and its diagnostics) and one plain line
// `N passed, N failed, N skipped`, so a CI log's tail says what broke.
// Before those, a warning line names the entries of os.tmpdir() with the
// project's prefixes (scripts/lib/temp-names.mjs) that are there after tap and
// were not before: what the run left behind.
// Exit status is tap's. A leak only warns, it does not fail the run: the temp
// dir is shared, and another process (a second test run, a benchmark, the CLI
// run by hand) makes entries with the same prefixes meanwhile, which this count
// cannot tell from the suite's own.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEMP_PREFIXES } from './lib/temp-names.mjs';

const DIAG_LINES = 30;
const MAX_FAILURES = 20;
const MAX_LEAKS_NAMED = 40;

/** The entries of the temp dir this project names (sorted). */
function projectTempEntries() {
  return readdirSync(tmpdir())
    .filter((name) => TEMP_PREFIXES.some((p) => name.startsWith(p)))
    .sort();
}
const tempBefore = new Set(projectTempEntries());

const tap = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
const child = spawn(tap, process.argv.slice(2), { stdio: ['inherit', 'pipe', 'inherit'] });
let totals;
/** names of the subtests open at each indentation */
const open = [];
/** failed points, each with its path and diagnostic lines */
const failures = [];
let diag; // the failure whose YAML block is being read
createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const m = /^# \{ total: (\d+)(.*)\}$/.exec(line);
  if (m) {
    const count = (key) => Number(new RegExp(`${key}: (\\d+)`).exec(m[2])?.[1] ?? 0);
    totals = { passed: count('pass'), failed: count('fail'), skipped: count('skip') + count('todo') };
  }
  const indent = /^ */.exec(line)[0].length;
  const body = line.slice(indent);
  if (diag) {
    if (indent >= diag.indent + 2 && body !== '...') {
      if (diag.lines.length < DIAG_LINES) diag.lines.push(line.slice(diag.indent));
      return;
    }
    diag = undefined;
  }
  const depth = indent / 4;
  const subtest = /^# Subtest: (.*)$/.exec(body);
  if (subtest) {
    open.length = depth;
    open[depth] = subtest[1];
    return;
  }
  const notOk = /^not ok \d+ - (.*?)(?: # time=[\d.]+m?s)?$/.exec(body);
  if (notOk) {
    const failure = { path: [...open.slice(0, depth), notOk[1]], indent, lines: [] };
    failures.push(failure);
    diag = failure;
  }
});
child.on('close', (code, signal) => {
  const tempAfter = projectTempEntries();
  const leaked = tempAfter.filter((name) => !tempBefore.has(name));
  const where = `${tmpdir()}/{${TEMP_PREFIXES.map((p) => `${p}*`).join(',')}}`;
  if (leaked.length > 0) {
    const named = leaked.slice(0, MAX_LEAKS_NAMED).join(' ');
    const more = leaked.length > MAX_LEAKS_NAMED ? ` ... and ${leaked.length - MAX_LEAKS_NAMED} more` : '';
    process.stdout.write(
      `\n# warning: ${leaked.length} temp ${leaked.length === 1 ? 'entry' : 'entries'} left by this run (or made meanwhile by another process) in ${where}: ${named}${more}\n`,
    );
  } else process.stdout.write(`\n# temp: nothing left in ${where} (${tempBefore.size} before, ${tempAfter.length} after)\n`);
  // a failed subtest fails its parents too: report the innermost ones
  const leaves = failures.filter(
    (f) => !failures.some((g) => g !== f && g.path.length > f.path.length && f.path.every((p, i) => g.path[i] === p)),
  );
  if (leaves.length > 0) {
    process.stdout.write(`\n# ${leaves.length} failed:\n`);
    for (const f of leaves.slice(0, MAX_FAILURES)) {
      process.stdout.write(`not ok - ${f.path.join(' > ')}\n`);
      for (const l of f.lines) process.stdout.write(`    ${l}\n`);
    }
    if (leaves.length > MAX_FAILURES) process.stdout.write(`# ... and ${leaves.length - MAX_FAILURES} more (above)\n`);
  }
  if (totals) process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  else process.stdout.write('tap printed no totals\n');
  process.exitCode = code ?? (signal ? 1 : 0);
});
