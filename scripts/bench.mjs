#!/usr/bin/env node
// `npm run bench`: wall-time ratios of recording against a plain run and
// against strace -f, measured in this one process, same machine, same moment.
// Not a test: it prints figures; nothing here asserts a time.
//
//   node scripts/bench.mjs [--repeat N] [--heavy-count N] [--audit-size-mb N] [--audit-rss-size-mb N] [--exec-count N] [--exec-repeat N] [--notify-calls N] [--only heavy|realistic|exec|notify-loop|node-cost|agent|bpf-short|audit|args]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argOption, median, timeCommand } from './lib/bench-util.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist/cli/main.js');
const args = process.argv.slice(2);
const opt = (name, def) => argOption(args, name, def);
const REPEAT = Number(opt('repeat', 3));
const HEAVY_COUNT = Number(opt('heavy-count', 500000));
const ONLY = opt('only', '');
const work = mkdtempSync(join(tmpdir(), 'sr-bench-'));

const timeIt = (argv) => timeCommand(argv).ms;

function measure(argv, env) {
  const runs = [];
  for (let i = 0; i < REPEAT; i++) runs.push(timeCommand(argv, { env }).ms);
  return median(runs);
}

function hasStrace() {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

function sh(cmd) {
  return ['sh', '-c', cmd];
}

const cases = [
  {
    key: 'heavy',
    label: `syscall-heavy: dd bs=1 count=${HEAVY_COUNT} (≈${(2 * HEAVY_COUNT).toLocaleString('en-US')} syscalls)`,
    cmd: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${HEAVY_COUNT}`],
  },
  {
    key: 'realistic',
    label: 'realistic: tar -czf - node_modules > /dev/null',
    cmd: sh(`cd ${REPO} && tar -czf - node_modules > /dev/null`),
  },
];

const strace = hasStrace();
const BPF_REASON = process.getuid?.() === 0 ? 'bpf source failed to record here' : 'bpf source needs root';
const BPF_OK = process.getuid?.() === 0;
const rows = [];
console.log(`seccomp-recorder benchmark: median of ${REPEAT} runs each; node ${process.version}; ${process.arch}`);
for (const c of cases) {
  if (ONLY && c.key !== ONLY) continue;
  const rec = join(work, `${c.key}.rec.json`);
  const recordArgv = (extra = []) => [process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--save-recording', rec, '--source', 'notify', ...extra, '--', ...c.cmd];
  const bpfArgv = [process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--source', 'bpf', '--', ...c.cmd];
  const plain = measure(c.cmd);
  const bpfOk = BPF_OK && spawnSync(bpfArgv[0], bpfArgv.slice(1), { stdio: 'ignore' }).status === 0;
  const bpfRecorded = bpfOk ? measure(bpfArgv) : NaN;
  const recorded = measure(recordArgv());
  const notifications = JSON.parse(readFileSync(rec, 'utf8')).stats.notifications;
  const recordedNoSync = measure(recordArgv(['--no-sync-wakeup']));
  // The notify loop before blocking RECV: poll, then RECV, for every notification.
  const recordedPoll = measure(recordArgv(), { SECCOMP_RECORDER_POLL_RECV: '1' });
  const nodeStart = measure([process.execPath, CLI, '--version']);
  const straced = strace ? measure(['strace', '-f', '-qq', '-o', '/dev/null', ...c.cmd]) : NaN;
  rows.push({ c, plain, recorded, recordedNoSync, straced, notifications, nodeStart });
  const r = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(`\n${c.label}`);
  console.log(`  plain                 ${plain.toFixed(0).padStart(8)} ms`);
  console.log(`  record --source bpf   ${Number.isFinite(bpfRecorded) ? bpfRecorded.toFixed(0).padStart(8) : '     n/a'} ms   bpf/plain ${r(bpfRecorded, plain)}   (/plain minus node start-up ${r(bpfRecorded - nodeStart, plain)})${bpfOk ? '' : `   ${BPF_REASON}`}`);
  console.log(`  record --source notify${recorded.toFixed(0).padStart(7)} ms   recorded/plain ${r(recorded, plain)}   (${notifications.toLocaleString('en-US')} notifications, ${Math.round(notifications / ((recorded - nodeStart) / 1000)).toLocaleString('en-US')}/s)`);
  console.log(`  record, poll + RECV   ${recordedPoll.toFixed(0).padStart(8)} ms   /plain ${r(recordedPoll, plain)}   blocking RECV (above) takes ${r(recorded - nodeStart, recordedPoll - nodeStart)} of its time without node start-up${Number.isFinite(notifications) ? `, ${(((recordedPoll - recorded) * 1000) / notifications).toFixed(2)} µs less a notification` : ''}`);
  console.log(`  record, no sync wake  ${recordedNoSync.toFixed(0).padStart(8)} ms   /plain ${r(recordedNoSync, plain)}   sync wake-up saves ${r(recordedNoSync, recorded)}`);
  console.log(`  strace -f             ${Number.isFinite(straced) ? straced.toFixed(0).padStart(8) : '     n/a'} ms   strace/plain ${r(straced, plain)}`);
  console.log(`  recorded/strace       ${r(recorded, straced)}   (node start-up alone: ${nodeStart.toFixed(0)} ms, included in record)`);

  // Incremental recording: a profile covering the workload, then the same minus its rarest syscall.
  const knownFile = join(work, `${c.key}.known.json`);
  timeIt([process.execPath, CLI, 'record', '-q', '-o', knownFile, '--', ...c.cmd]);
  const recording = JSON.parse(readFileSync(rec, 'utf8'));
  const rarest = recording.observations
    .filter((o) => o.syscall && o.syscall !== 'execve' && o.arch === recording.arches[0])
    .sort((a, b) => a.count - b.count || a.syscall.localeCompare(b.syscall))[0].syscall;
  const knownProfile = JSON.parse(readFileSync(knownFile, 'utf8'));
  knownProfile.syscalls[0].names = knownProfile.syscalls[0].names.filter((n) => n !== rarest);
  const lessFile = join(work, `${c.key}.less.json`);
  writeFileSync(lessFile, JSON.stringify(knownProfile));
  const knownRun = measure([process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--known', knownFile, '--', ...c.cmd]);
  const knownHot = measure([process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--known', knownFile, '--known-counts', rec, '--', ...c.cmd]);
  // The filter alone: the known profile enforced by `run` (no listener, no supervisor loop).
  const filterOnly = measure([process.execPath, CLI, 'run', '-q', '--profile', knownFile, '--', ...c.cmd]);
  const lessRun = measure([process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--known', lessFile, '--', ...c.cmd]);
  const report = spawnSync(process.execPath, [CLI, 'record', '-o', '/dev/null', '--known', lessFile, '--', ...c.cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const reported = /new syscalls? beyond [^:]*: (.*)/.exec(report.stderr)?.[1] ?? 'nothing';
  const perCall = (ms) => (((ms - nodeStart - plain) * 1000) / notifications).toFixed(3);
  console.log(`  record --known (before: libseccomp's order) ${knownRun.toFixed(0).padStart(6)} ms   /plain ${r(knownRun, plain)}   (/plain minus node start-up ${r(knownRun - nodeStart, plain)})`);
  console.log(`  record --known --known-counts (after)       ${knownHot.toFixed(0).padStart(6)} ms   /plain ${r(knownHot, plain)}   (/plain minus node start-up ${r(knownHot - nodeStart, plain)})`);
  console.log(`  the filter alone (run --profile known)      ${filterOnly.toFixed(0).padStart(6)} ms   /plain minus node start-up ${r(filterOnly - nodeStart, plain)}   ≈ ${perCall(filterOnly)} µs a call over ${notifications.toLocaleString('en-US')} calls`);
  console.log(`  record --known (minus ${rarest})`.padEnd(46) + ` ${lessRun.toFixed(0).padStart(6)} ms   /plain ${r(lessRun, plain)}   reported new: ${reported}`);
}
if (!ONLY || ONLY === 'exec') {
  // execve is always notified, even under --known: what that costs a workload that execs often.
  // One fork+exec is ~1 ms and varies with the machine's load, so the variants run interleaved,
  // at least 5 times each, and the spread is printed with the median.
  const EXECS = Number(opt('exec-count', 10000));
  const EXEC_REPEAT = Math.max(REPEAT, Number(opt('exec-repeat', 5)));
  const loop = sh(`i=0; while [ $i -lt ${EXECS} ]; do /bin/true; i=$((i+1)); done`);
  const known = join(work, 'exec.known.json');
  const execRec = join(work, 'exec.rec.json');
  timeIt([process.execPath, CLI, 'record', '-q', '-o', known, '--save-recording', execRec, '--', ...loop]);
  const variants = [
    ['plain', loop],
    ['node start-up', [process.execPath, CLI, '--version']],
    ['record (notify)', [process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--source', 'notify', '--', ...loop]],
    ['record --known', [process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--known', known, '--known-counts', execRec, '--', ...loop]],
  ];
  // How many round trips the hand-over costs under --known: the notifications of one run.
  const knownRec = join(work, 'exec.known-run.rec.json');
  timeIt([process.execPath, CLI, 'record', '-q', '-o', '/dev/null', '--known', known, '--known-counts', execRec, '--save-recording', knownRec, '--', ...loop]);
  const knownNotifications = JSON.parse(readFileSync(knownRec, 'utf8')).stats.notifications;
  const times = new Map(variants.map(([label]) => [label, []]));
  for (let i = 0; i < EXEC_REPEAT; i++) for (const [label, argv] of variants) times.get(label).push(timeIt(argv));
  const med = (label) => median(times.get(label));
  const spread = (label) => `${Math.min(...times.get(label)).toFixed(0)}-${Math.max(...times.get(label)).toFixed(0)}`;
  const plain = med('plain');
  const nodeStart = med('node start-up');
  const loads = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\nexec hand-over: sh loop running /bin/true ${EXECS.toLocaleString('en-US')} times; median of ${EXEC_REPEAT} (spread min-max), variants interleaved; load average ${loads}`);
  console.log(`  plain                 ${plain.toFixed(0).padStart(8)} ms (${spread('plain')})   ${((plain * 1000) / EXECS).toFixed(0)} µs an iteration`);
  for (const label of ['record (notify)', 'record --known']) {
    const ms = med(label);
    const net = ms - nodeStart;
    console.log(`  ${label.padEnd(21)} ${ms.toFixed(0).padStart(8)} ms (${spread(label)})   /plain ${(ms / plain).toFixed(2)}x, minus node start-up (${nodeStart.toFixed(0)} ms) ${(net / plain).toFixed(2)}x   ≈ ${(((net - plain) * 1000) / EXECS).toFixed(0)} µs more an iteration`);
  }
  console.log(`  record --known: ${knownNotifications.toLocaleString('en-US')} notifications for ${EXECS.toLocaleString('en-US')} execs (the hand-over: execve is always notified), one round trip each against ${((plain * 1000) / EXECS).toFixed(0)} µs an iteration`);
}
if (!ONLY || ONLY === 'notify-loop') {
  // Where a round trip goes: the loop of native/notify_session.c rebuilt with timers (scripts/lib/bench-notify.c).
  const bin = join(work, 'bench-notify');
  const built = spawnSync('gcc', ['-O2', '-o', bin, join(REPO, 'scripts/lib/bench-notify.c'), join(REPO, 'native/observations.c'), '-lpthread'], { encoding: 'utf8' });
  if (built.status !== 0) console.log(`\nnotify round trip: skipped (gcc failed: ${built.stderr.split('\n')[0]})`);
  else {
    const N = Number(opt('notify-calls', 200000));
    const runs = { poll: [], block: [] };
    for (let i = 0; i < REPEAT; i++)
      for (const mode of ['poll', 'block']) runs[mode].push(JSON.parse(spawnSync(bin, [mode, String(N)], { encoding: 'utf8' }).stdout));
    const pick = (mode) => {
      const list = runs[mode].sort((a, b) => a.roundTripNs - b.roundTripNs);
      return list[Math.floor(list.length / 2)];
    };
    const us = (ns) => (ns / 1000).toFixed(2).padStart(6);
    console.log(`\nnotify round trip (getppid x ${N.toLocaleString('en-US')}, a thread of one process; median of ${REPEAT}; µs a call; sync wake-up ${pick('block').syncWakeup ? 'on' : 'unavailable'})`);
    console.log('  loop                  round trip  plain call  supervisor: poll  table update  SEND (incl. the switch back)  rest: RECV, filter, wake-ups');
    for (const mode of ['poll', 'block']) {
      const x = pick(mode);
      const rest = x.roundTripNs - x.plainNs - x.pollNs - x.updateNs - x.sendNs;
      console.log(`  ${(mode === 'poll' ? 'poll + RECV (before)' : 'blocking RECV (after)').padEnd(21)} ${us(x.roundTripNs)}      ${us(x.plainNs)}        ${us(x.pollNs)}        ${us(x.updateNs)}        ${us(x.sendNs)}                     ${us(rest)}`);
    }
    console.log(`  blocking/poll round trip ${(pick('block').roundTripNs / pick('poll').roundTripNs).toFixed(2)}x`);
  }
}
if (!ONLY || ONLY === 'node-cost') {
  if (BPF_OK) {
    const { benchNodeCost } = await import('./bench-bpf-node.mjs');
    console.log('');
    await benchNodeCost({ repeat: REPEAT, cases: cases.map((c) => ({ label: c.label, cmd: c.cmd })) });
  } else console.log('\nnode cost of the bpf source skipped: it attaches programs and needs root');
}
if (!strace) console.log('\nstrace is not installed: strace ratios are n/a (apt-get install strace)');
if (!ONLY || ONLY === 'agent') {
  if (process.getuid?.() === 0) {
    const { benchAgent } = await import('./bench-agent.mjs');
    console.log('');
    await benchAgent({ repeat: REPEAT });
  } else console.log('\nagent benchmark skipped: it runs containers and needs root');
}
if (!ONLY || ONLY === 'bpf-short') {
  const { shortContainersSkipReason, shortContainers } = await import('./bpf-short-containers.mjs');
  const why = shortContainersSkipReason('runc');
  console.log('');
  if (why) console.log(`bpf short containers skipped: ${why}`);
  else {
    console.log('bpf agent, short containers: runc containers of `busybox true`, each its own image, one after another');
    await shortContainers({ count: 50, runtime: 'runc' });
  }
}
if (!ONLY || ONLY === 'args') {
  const { benchArgs } = await import('./bench-args.mjs');
  console.log('');
  await benchArgs();
}
if (!ONLY || ONLY === 'audit') {
  console.log('');
  const auditArgs = ['--size-mb', opt('audit-size-mb', '256'), '--repeat', String(REPEAT), '--gzip', '--rss-size-mb', opt('audit-rss-size-mb', '2048')];
  spawnSync(process.execPath, [join(REPO, 'scripts/bench-audit.mjs'), ...auditArgs], { stdio: 'inherit' });
}
rmSync(work, { recursive: true, force: true });
