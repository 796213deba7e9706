#!/usr/bin/env node
// `npm test`: runs tap (all of test/), passes its output through, and ends
// with one plain line `N passed, N failed, N skipped` for CI logs.
// Exit status is tap's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const tap = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
const child = spawn(tap, process.argv.slice(2), { stdio: ['inherit', 'pipe', 'inherit'] });
let totals;
createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const m = /^# \{ total: (\d+)(.*)\}$/.exec(line);
  if (m) {
    const count = (key) => Number(new RegExp(`${key}: (\\d+)`).exec(m[2])?.[1] ?? 0);
    totals = { passed: count('pass'), failed: count('fail'), skipped: count('skip') + count('todo') };
  }
});
child.on('close', (code, signal) => {
  if (totals) process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  else process.stdout.write('tap printed no totals\n');
  process.exitCode = code ?? (signal ? 1 : 0);
});
