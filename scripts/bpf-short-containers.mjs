#!/usr/bin/env node
// How many short-lived containers `agent --source bpf` records: N runc
// containers of `busybox true` (a few ms of workload, each its own image from
// CRI annotations), run one after another under one agent with its default
// timing; a container counts as recorded when its recording (under its image,
// else under its container id) holds the workload's execve and exit_group. Prints the fraction (not a test: asserts
// nothing). `node scripts/bpf-short-containers.mjs [--count N] [--runtime runc|crun] [--agent-log FILE]`
// (root, runc and a busybox-static; run `npm run build` first).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argOption } from './lib/bench-util.mjs';
import { findStaticBusybox, hasCommand, runContainer, writeBundle } from './lib/oci-bundle.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function api(socketPath, path) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startAgent(dir, extraArgs, logFile) {
  const apiSocket = join(dir, 'run', 'api.sock');
  const level = logFile ? ['--log-level', 'debug', '--log-format', 'json'] : ['--log-level', 'warn'];
  const argv = [CLI, 'agent', '--source', 'bpf', '--state-dir', join(dir, 'state'), '--socket', join(dir, 'run', 'notify.sock'), '--api-socket', apiSocket, ...level, ...extraArgs];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', logFile ? openSync(logFile, 'w') : 'inherit'] });
  for (let i = 0; i < 100; i++) {
    try {
      await api(apiSocket, '/healthz');
      return { child, apiSocket };
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  throw new Error('the agent did not start');
}

/** The workload calls recorded for an image, or undefined when it has no recording. */
async function workloadCalls(apiSocket, image) {
  const r = await api(apiSocket, `/v1/recordings/${encodeURIComponent(image)}`);
  if (r.status !== 200) return undefined;
  return new Set(JSON.parse(r.body).calls.map((o) => o.syscall));
}

/**
 * Runs `count` short containers under one bpf agent; returns how many were recorded.
 * `agentArgs` are passed to the agent (its defaults otherwise).
 */
export async function shortContainers({ count = 50, runtime = 'runc', agentArgs = [], agentLog, log = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sr-bpf-short-'));
  const bundle = join(dir, 'bundle');
  const agent = await startAgent(dir, agentArgs, agentLog);
  const images = [];
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  try {
    for (let i = 0; i < count; i++) {
      const image = `registry.example/short-${tag}-${i}:1`;
      const config = writeBundle(runtime, bundle, { args: ['true'] });
      config.annotations = { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.image-name': image, 'io.kubernetes.cri.container-name': 'short' };
      writeFileSync(join(bundle, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      const id = `sr-short-${tag}-${i}`;
      const run = await runContainer(runtime, bundle, id);
      if (run.code !== 0) throw new Error(`${runtime} run failed (${run.code}): ${run.stderr}`);
      images.push([image, id]);
    }
    // Past a batch interval and the agent's grace period: whatever it will attribute, it has.
    await sleep(5000);
    const complete = (calls) => !!calls && calls.has('execve') && calls.has('exit_group');
    let byImage = 0;
    let byId = 0;
    const missed = [];
    for (const [image, id] of images) {
      const calls = await workloadCalls(agent.apiSocket, image);
      if (complete(calls)) byImage++;
      else if (complete(await workloadCalls(agent.apiSocket, id))) byId++;
      else missed.push(`${id} (${calls ? `workload: ${[...calls].join(' ') || 'none'}` : 'no recording'})`);
    }
    const recorded = byImage + byId;
    const pct = (n) => `${((100 * n) / count).toFixed(0)}%`;
    log(`  ${runtime}: ${recorded} of ${count} short containers (busybox true) recorded (${pct(recorded)}): ${byImage} under their annotated image, ${byId} under their container id (runtime state gone before it was read)`);
    for (const m of missed) log(`    missed ${m}`);
    return { recorded, byImage, byId, count };
  } finally {
    agent.child.kill('SIGTERM');
    await new Promise((r) => agent.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why the measurement cannot run here, or '' when it can. */
export function shortContainersSkipReason(runtime) {
  return process.getuid?.() !== 0 ? 'needs root' : !hasCommand(runtime) ? `${runtime} is not installed` : !findStaticBusybox() ? 'no static busybox' : '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const runtime = argOption(args, 'runtime', 'runc');
  const why = shortContainersSkipReason(runtime);
  if (why) {
    console.log(`skipped: ${why}`);
  } else {
    console.log(`bpf agent, short containers: each a ${runtime} container of \`busybox true\`, its own image, one after another`);
    await shortContainers({ count: Number(argOption(args, 'count', 50)), runtime, agentLog: argOption(args, 'agent-log', undefined) });
  }
}
