#!/usr/bin/env node
// Benchmark of the node agent (not a test: it prints figures, asserts no
// time). Plain JS so scripts/bench.mjs can import it without a TypeScript
// loader; also runnable alone: `node scripts/bench-agent.mjs [--repeat N] [--start-only]`.
//  - a container's start cost: `runc run` to its first instruction, with and
//    without the agent recording it, the profile before its architectures were
//    probed, its filter alone, and libseccomp's compile of it alone;
//  - notifications per second through the agent (a stand-in runtime making
//    getppid calls: each one a full notify round trip through the agent);
//  - the longest event-loop hold while a large state is compacted, at once
//    (as before) vs sliced (scripts/bench-compaction.mjs);
//  - a container workload's wall time recorded vs unrecorded, same run, for
//    runc (and crun when installed), under the notify agent (recording profile)
//    and under the bpf agent (no profile; plain runs with no agent attached).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCompaction } from './bench-compaction.mjs';
import { findStaticBusybox, hasCommand, runContainer, writeBundle } from './lib/oci-bundle.mjs';
import { archByOci, archesOfKernel } from '../dist/seccomp/arch.js';
import { loadBaseline, resolveBaseline } from '../dist/profile/baseline.js';
import { machineTarget } from '../dist/profile/machine.js';
import { serializeOci } from '../dist/profile/oci.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(REPO, 'dist/cli/main.js');
const CONTAINERS_DEFAULT = '/usr/share/containers/seccomp.json';

function median(list) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function api(socketPath, path) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startAgent(dir, source = 'notify') {
  const socket = join(dir, 'run', 'notify.sock');
  const apiSocket = join(dir, 'run', 'api.sock');
  const child = spawn(process.execPath, [CLI, 'agent', '--source', source, '--state-dir', join(dir, 'state'), '--socket', socket, '--api-socket', apiSocket, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      await api(apiSocket, '/healthz');
      return { child, socket, apiSocket };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('the agent did not start');
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, r };
}

function runClient(bin, socket, id, calls) {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, [socket, 'good', id, 'bench/rate:1', String(calls), '0'], { stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client exited ${code}`))));
  });
}

async function recordingProfile(runtime, socket, extra = []) {
  const out = execFileSync(process.execPath, [CLI, 'recording-profile', '--runtime', runtime, '--socket', socket, '-q', ...extra], { encoding: 'utf8' });
  return JSON.parse(out);
}

export async function benchAgent({ repeat = 3, calls = 200000, ddCount = 200000, startOnly = false } = {}) {
  const lines = [];
  const say = (l) => {
    lines.push(l);
    console.log(l);
  };
  if (process.getuid?.() !== 0) {
    say('agent benchmark skipped: needs root');
    return lines;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sr-agent-bench-'));
  const agent = await startAgent(dir);
  try {
    say(`\nnode agent: median of ${repeat} runs each`);
    if (startOnly) {
      await benchStartCost({ dir, agent, repeat, say });
      return lines;
    }
    await benchCompaction({ repeat, say });
    if (hasCommand('gcc')) {
      const bin = join(dir, 'agent-client');
      execFileSync('gcc', ['-O2', '-o', bin, join(REPO, 'test/fixtures/agent-client.c'), '-lseccomp']);
      const runs = [];
      for (let i = 0; i < repeat; i++) runs.push((await timed(() => runClient(bin, agent.socket, `rate-${i}`, calls))).ms);
      const ms = median(runs);
      say(`  notifications through the agent: ${calls + 3} in ${ms.toFixed(0)} ms = ${Math.round(((calls + 3) / ms) * 1000).toLocaleString('en-US')}/s (one process, each call a notify round trip)`);
    } else say('  notifications/s: skipped (gcc is not installed)');

    if (!findStaticBusybox()) {
      say('  container workloads: skipped (no static busybox)');
      return lines;
    }
    await benchStartCost({ dir, agent, repeat, say });
    const workloads = [
      { label: `dd bs=1 count=${ddCount}`, args: ['/bin/busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${ddCount}`] },
      { label: 'shell loop: 300 x cat /proc/self/status', args: ['/bin/sh', '-c', 'i=0; while [ $i -lt 300 ]; do cat /proc/self/status > /dev/null; i=$((i+1)); done'] },
    ];
    for (const runtime of ['runc', 'crun']) {
      if (!hasCommand(runtime)) continue;
      const profile = await recordingProfile(runtime, agent.socket);
      for (const w of workloads) {
        const plain = [];
        const recorded = [];
        for (let i = 0; i < repeat; i++) {
          for (const [list, seccomp] of [[plain, undefined], [recorded, profile]]) {
            const b = join(dir, `b-${runtime}`);
            writeBundle(runtime, b, { args: w.args, seccomp });
            const { ms, r } = await timed(() => runContainer(runtime, b, `sr-bench-${process.pid}-${runtime}-${i}-${list.length}-${seccomp ? 'r' : 'p'}`, { timeoutMs: 300000 }));
            if (r.code !== 0) throw new Error(`${runtime} ${w.label} failed: ${r.stderr}`);
            list.push(ms);
          }
        }
        const p = median(plain);
        const r = median(recorded);
        say(`  ${runtime}${runtime === 'runc' ? ' (write not notified)' : ' (NOTIFY default: every call)'}, ${w.label}: unrecorded ${p.toFixed(0)} ms, recorded ${r.toFixed(0)} ms, ratio ${(r / p).toFixed(2)}x`);
      }
    }
    await benchBpfAgent({ dir, repeat, workloads, say });
    const metrics = await api(agent.apiSocket, '/metrics');
    const n = /^seccomp_recorder_notifications_total (\d+)$/m.exec(metrics)?.[1];
    say(`  agent total: ${Number(n).toLocaleString('en-US')} notifications answered, ${/^seccomp_recorder_lost_notifications_total (\d+)$/m.exec(metrics)?.[1]} lost`);
    return lines;
  } finally {
    await stopAgent(agent);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a recorded container pays at start: from just before `runc run` to the
 * container's first instruction (a static program printing CLOCK_MONOTONIC,
 * the clock process.hrtime reads), and the whole `runc run` of that program,
 * without a profile and with the recording profile served by the notify agent.
 * For runc also the profile before the architectures were probed (every ABI of
 * the kernel: `--arch` with the usual list), and the same filter with LOG for
 * NOTIFY and no listener: what runc's init pays to compile and load it, with
 * no agent in the way; and, for scale, podman's and CRI-O's default profile
 * (containers-common, when installed) resolved for this machine. Variants run interleaved; medians, with the spread.
 */
async function benchStartCost({ dir, agent, repeat, say }) {
  if (!hasCommand('gcc')) return say('  start cost: skipped (gcc is not installed)');
  const stamp = join(dir, 'start-stamp');
  try {
    execFileSync('gcc', ['-O2', '-static', '-o', stamp, join(REPO, 'scripts/lib/start-stamp.c')], { stdio: 'pipe' });
  } catch (err) {
    return say(`  start cost: skipped (cannot link a static program: ${String(err.stderr ?? err).split('\n')[0]})`);
  }
  const runs = Math.max(repeat, 15);
  say(`  start cost (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}): \`RUNTIME run\` to the container's first instruction, median of ${runs} (spread min-max), variants interleaved`);
  for (const runtime of ['runc', 'crun']) {
    if (!hasCommand(runtime)) continue;
    const profile = await recordingProfile(runtime, agent.socket);
    const variants = [['plain', 'no seccomp profile', undefined], ['agent', `recording profile (${profile.architectures.map((a) => a.replace('SCMP_ARCH_', '').toLowerCase()).join(', ')}), agent`, profile]];
    if (runtime === 'runc') {
      const every = archesOfKernel();
      if (every.length !== profile.architectures.length)
        variants.push(['before', `before: every ABI (${every.join(', ')}), agent`, await recordingProfile(runtime, agent.socket, ['--arch', every.join(',')])]);
      const { listenerPath, listenerMetadata, ...rest } = profile;
      variants.push(['filter', 'its filter alone (LOG for NOTIFY, no listener)', { ...rest, syscalls: rest.syscalls.map((r) => ({ ...r, action: 'SCMP_ACT_LOG' })) }]);
      // For scale: what every runc container under podman's and CRI-O's default profile pays (no agent).
      if (existsSync(CONTAINERS_DEFAULT)) {
        const common = resolveBaseline(loadBaseline(CONTAINERS_DEFAULT), machineTarget());
        variants.push(['common', `containers-common default (${common.architectures.join(', ')}), no agent`, JSON.parse(serializeOci(common))]);
      }
    }
    const results = {};
    for (const [tag, , seccomp] of variants) {
      const b = join(dir, `start-${runtime}-${tag}`);
      writeBundle(runtime, b, { args: ['/bin/start-stamp'], seccomp });
      copyFileSync(stamp, join(b, 'rootfs', 'bin', 'start-stamp'));
      chmodSync(join(b, 'rootfs', 'bin', 'start-stamp'), 0o755);
      results[tag] = { first: [], total: [] };
    }
    for (let i = 0; i < runs; i++) {
      for (const [tag] of variants) {
        const b = join(dir, `start-${runtime}-${tag}`);
        const t0 = process.hrtime.bigint();
        const r = await runContainer(runtime, b, `sr-bench-start-${process.pid}-${runtime}-${tag}-${i}`, { timeoutMs: 60000 });
        const total = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.code !== 0) throw new Error(`${runtime} start-stamp (${tag}) failed (${r.code ?? r.signal}${r.timedOut ? ', timed out' : ''}): ${r.stderr}${r.stdout}`);
        results[tag].first.push(Number(BigInt(r.stdout.trim()) - t0) / 1e6);
        results[tag].total.push(total);
      }
    }
    const f = (tag, k = 'first') => median(results[tag][k]);
    const spread = (tag) => `${Math.min(...results[tag].first).toFixed(0)}-${Math.max(...results[tag].first).toFixed(0)}`;
    for (const [tag, label] of variants) {
      const added = tag === 'plain' ? '' : ` ${(f(tag) / f('plain')).toFixed(2)}x plain, +${(f(tag) - f('plain')).toFixed(1)} ms;`;
      say(`  ${runtime} ${label.padEnd(52)} ${f(tag).toFixed(1).padStart(6)} ms (${spread(tag)});${added} whole run ${f(tag, 'total').toFixed(1)} ms`);
    }
    if (results.before) say(`  ${runtime} start added by recording, after/before: ${((f('agent') - f('plain')) / (f('before') - f('plain'))).toFixed(2)}x`);
    if (runtime === 'runc') benchFilterCompile({ dir, say, variants: variants.filter(([tag]) => tag === 'agent' || tag === 'before') });
  }
}

/**
 * The part of runc's start that the profile's shape decides, alone and less
 * noisy than a container start: libseccomp building and exporting the NOTIFY
 * rule's filter for the profile's architectures (scripts/lib/filter-compile.c).
 */
function benchFilterCompile({ dir, say, variants }) {
  const bin = join(dir, 'filter-compile');
  try {
    execFileSync('gcc', ['-O2', '-o', bin, join(REPO, 'scripts/lib/filter-compile.c'), '-lseccomp'], { stdio: 'pipe' });
  } catch (err) {
    return say(`  runc filter compile: skipped (gcc or libseccomp headers missing: ${String(err.stderr ?? err).split('\n')[0]})`);
  }
  const ms = {};
  for (const [tag, label, profile] of variants) {
    const arches = profile.architectures.map((a) => archByOci(a)?.name ?? a).join(',');
    const r = JSON.parse(execFileSync(bin, ['31', arches, ...profile.syscalls.flatMap((rule) => rule.names)], { encoding: 'utf8' }));
    ms[tag] = r.medianMs;
    say(`  runc filter compile (libseccomp, as runc's init), ${label.replace(/, agent$/, '')}: ${r.instructions} instructions, ${r.medianMs.toFixed(1)} ms (${r.minMs.toFixed(1)}-${r.maxMs.toFixed(1)}), median of 31`);
  }
  if (ms.before) say(`  runc filter compile after/before: ${(ms.agent / ms.before).toFixed(2)}x`);
}

async function stopAgent(agent) {
  agent.child.kill('SIGTERM');
  await new Promise((r) => agent.child.on('exit', r));
}

/** The same workloads with no profile: plain (no agent attached) against a running bpf agent. */
async function benchBpfAgent({ dir, repeat, workloads, say }) {
  const probe = spawn(process.execPath, [CLI, 'doctor', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  probe.stdout.setEncoding('utf8').on('data', (d) => (text += d));
  await new Promise((r) => probe.on('exit', r));
  const check = JSON.parse(text).checks.find((c) => c.name === 'bpf source');
  if (!check?.ok) return say(`  bpf agent: skipped (${check?.detail ?? 'no doctor line'})`);
  for (const runtime of ['runc']) {
    for (const w of workloads) {
      const plain = [];
      const recorded = [];
      for (let i = 0; i < repeat; i++) {
        const b = join(dir, `bpf-${runtime}`);
        writeBundle(runtime, b, { args: w.args });
        const once = async (tag) => {
          const { ms, r } = await timed(() => runContainer(runtime, b, `sr-bench-bpf-${process.pid}-${i}-${tag}`, { timeoutMs: 300000 }));
          if (r.code !== 0) throw new Error(`${runtime} ${w.label} failed: ${r.stderr}`);
          return ms;
        };
        plain.push(await once('p'));
        const agent = await startAgent(join(dir, `bpf-agent-${i}`), 'bpf');
        try {
          recorded.push(await once('r'));
        } finally {
          await stopAgent(agent);
        }
      }
      const p = median(plain);
      const r = median(recorded);
      say(`  ${runtime} under the bpf agent (no profile), ${w.label}: no agent ${p.toFixed(0)} ms, recorded ${r.toFixed(0)} ms, ratio ${(r / p).toFixed(2)}x`);
    }
  }
}

// Run alone, not when a test runner that globs test/ happens to load it.
if (process.argv[1] === fileURLToPath(import.meta.url) && !process.env.TAP) {
  const i = process.argv.indexOf('--repeat');
  await benchAgent({ repeat: i > 0 ? Number(process.argv[i + 1]) : 3, startOnly: process.argv.includes('--start-only') });
}
