#!/usr/bin/env node
// Measures the syscalls runc and crun make after installing a container's
// seccomp filter and before the workload runs, with this project's own
// recorder (the OCI listenerPath receiver), and writes
// profiles/base/<runtime>-<version>.json with provenance.
//
//   node scripts/measure-runtime-base.mjs [--runtime runc|crun|all] [--runs N] [--out-dir DIR]
//
// Needs root, the native build (npm run build) and a static busybox
// (Debian: busybox-static). A minimal container (`/bin/true`) runs RUNS times
// with no_new_privs on and RUNS times with it off (runc installs the filter
// earlier without it, so more of its own calls are filtered); the base is the
// union. runc refuses NOTIFY on `write`; whether runc needs it is probed by
// denying `write` alone and seeing whether the container still starts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRootfs, findStaticBusybox, hasCommand, runContainer, runtimeVersion, writeBundle } from './lib/oci-bundle.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => import(join(REPO, 'dist', p));
const { listenOciSocket, runtimeBoundary } = await dist('record/notify/oci-listener.js');
const { nativeAddon } = await dist('record/native.js');
const { nameEntries } = await dist('record/observations.js');
const { archToken, syscallName, libseccompVersion } = await dist('seccomp/libseccomp.js');
const { archByName, archesOfKernel, nativeArchName, X32_SYSCALL_BIT } = await dist('seccomp/arch.js');
const { RUNTIME_BASE_KIND, RUNTIME_BASE_VERSION, serializeRuntimeBase } = await dist('profile/runtime-base.js');
const { TOOL } = await dist('version.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const RUNTIMES = opt('runtime', 'all') === 'all' ? ['runc', 'crun'] : [opt('runtime')];
const RUNS = Number(opt('runs', '20'));
const OUT_DIR = opt('out-dir', join(REPO, 'profiles', 'base'));
const SESSION_END_MS = 10000;

function fail(msg) {
  process.stderr.write(`measure-runtime-base: ${msg}\n`);
  process.exit(1);
}

/** Every syscall name libseccomp knows on these arches: the NOTIFY rule names them all. */
function allSyscallNames(arches) {
  const names = new Set();
  for (const a of arches) {
    const token = archToken(a);
    const base = a === 'x32' ? X32_SYSCALL_BIT : 0;
    for (let nr = 0; nr < 1100; nr++) {
      const n = syscallName(token, base + nr);
      if (n) names.add(n);
    }
  }
  return [...names].sort();
}

function recordingSeccomp(runtime, arches, socketPath) {
  const architectures = arches.map((a) => archByName(a).oci);
  if (runtime === 'runc') {
    // runc refuses NOTIFY as the default and on write: notify on everything else (write: see runtimeNeedsWrite).
    const names = allSyscallNames(arches).filter((n) => n !== 'write');
    return { defaultAction: 'SCMP_ACT_ALLOW', architectures, listenerPath: socketPath, syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }] };
  }
  return { defaultAction: 'SCMP_ACT_NOTIFY', architectures, listenerPath: socketPath };
}

/**
 * runc hides `write` from the listener, so whether runc init writes after
 * installing the filter is probed by knocking it out: the same container with
 * only `write` denied. If it no longer starts, runc needs `write` there (it
 * writes the exec fifo). /bin/true itself never writes.
 */
async function runtimeNeedsWrite(runtime, bundle, arches, noNewPrivileges, id) {
  const architectures = arches.map((a) => archByName(a).oci);
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures, syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  writeBundle(runtime, bundle, { args: ['/bin/true'], seccomp, noNewPrivileges });
  const run = await runContainer(runtime, bundle, id, { timeoutMs: 30000 });
  return { needed: run.code !== 0, detail: run.stderr.trim().split('\n').pop() ?? '' };
}

async function measureOnce(runtime, bundle, arches, noNewPrivileges, id) {
  const sockDir = mkdtempSync(join(tmpdir(), 'srb-sock-'));
  const socketPath = join(sockDir, 'listener.sock');
  const sessions = [];
  const refused = [];
  const ends = new Map();
  // Each listener is served by the native receiver the moment it arrives; we get its session.
  const listener = listenOciSocket(socketPath, { runtimeBoundary: runtimeBoundary(arches) }, {
    connection(c) {
      if (c.session === undefined) return refused.push(c.error ?? 'no listener fd');
      const ended = new Promise((resolve) => ends.set(c.session.id, resolve));
      sessions.push({ handle: c.session.handle, ended });
    },
    end(id, info) {
      ends.get(id)?.(info);
    },
  });
  try {
    writeBundle(runtime, bundle, { args: ['/bin/true'], seccomp: recordingSeccomp(runtime, arches, socketPath), noNewPrivileges });
    const run = await runContainer(runtime, bundle, id, { timeoutMs: 30000 });
    if (run.timedOut) throw new Error(`${runtime} did not finish in 30 s (killed): ${run.stderr.trim()}`);
    if (run.code !== 0) throw new Error(`${runtime} run exited ${run.code}: ${run.stderr.trim()}`);
    if (refused.length) throw new Error(`the runtime's connection was refused: ${refused.join('; ')}`);
    if (sessions.length !== 1) throw new Error(`expected one listener from ${runtime}, got ${sessions.length}`);
    const s = sessions[0];
    const info = await Promise.race([s.ended, new Promise((r) => setTimeout(() => r(undefined), SESSION_END_MS))]);
    if (!info) nativeAddon().stop(s.handle);
    const { entries } = nativeAddon().drain(s.handle, false);
    nativeAddon().destroy(s.handle);
    const runtimeEntries = entries.filter((e) => e.phase === 'runtime');
    const names = new Map();
    const add = (arch, name) => {
      if (!names.has(arch)) names.set(arch, new Set());
      names.get(arch).add(name);
    };
    for (const o of nameEntries(runtimeEntries).observations) if (o.syscall) add(o.arch, o.syscall);
    return { names, workload: entries.length - runtimeEntries.length };
  } finally {
    await listener.close();
    rmSync(sockDir, { recursive: true, force: true });
  }
}

const sortedMap = (m) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));

async function measureRuntime(runtime, arches, busybox) {
  const { version, text } = runtimeVersion(runtime);
  const work = mkdtempSync(join(tmpdir(), `srb-${runtime}-`));
  try {
    const bundle = join(work, 'bundle');
    mkdirSync(bundle);
    buildRootfs(bundle, busybox);
    const measurements = [];
    const union = new Map();
    for (const noNewPrivileges of [true, false]) {
      const merged = new Map();
      for (let i = 0; i < RUNS; i++) {
        const r = await measureOnce(runtime, bundle, arches, noNewPrivileges, `srb-${runtime}-${process.pid}-${noNewPrivileges ? 'nnp' : 'priv'}-${i}`);
        if (r.workload === 0) throw new Error('no workload calls were seen after the runtime boundary; the phase split failed');
        for (const [arch, set] of r.names) {
          for (const m of [merged, union]) {
            if (!m.has(arch)) m.set(arch, new Set());
            for (const n of set) m.get(arch).add(n);
          }
        }
      }
      if (runtime === 'runc') {
        const probe = await runtimeNeedsWrite(runtime, bundle, arches, noNewPrivileges, `srb-${runtime}-${process.pid}-write-${noNewPrivileges}`);
        process.stderr.write(`  runc with write denied, no_new_privs ${noNewPrivileges}: ${probe.needed ? `fails (${probe.detail}): write is needed` : 'starts: write not needed'}\n`);
        if (probe.needed) {
          const native = nativeArchName();
          for (const m of [merged, union]) {
            if (!m.has(native)) m.set(native, new Set());
            m.get(native).add('write');
          }
        }
      }
      measurements.push({ noNewPrivileges, runs: RUNS, syscalls: sortedMap(merged) });
      process.stderr.write(`  ${runtime} ${version}, no_new_privs ${noNewPrivileges}: ${[...merged.values()].reduce((n, s) => n + s.size, 0)} syscalls over ${RUNS} runs\n`);
    }
    const base = {
      kind: RUNTIME_BASE_KIND,
      version: RUNTIME_BASE_VERSION,
      runtime,
      runtimeVersion: version,
      provenance: {
        tool: `${TOOL.name} ${TOOL.version} (scripts/measure-runtime-base.mjs)`,
        runtimeVersionText: text,
        kernel: release(),
        arch: nativeArchName(),
        libseccomp: libseccompVersion(),
        date: new Date().toISOString().slice(0, 10),
        command: ['/bin/true'],
        method:
          runtime === 'runc'
            ? 'OCI listenerPath user-notify on every syscall but write (runc refuses NOTIFY there); write probed by denying it alone and seeing whether the container still starts'
            : 'OCI listenerPath user-notify as the default action',
      },
      measurements,
      syscalls: sortedMap(union),
    };
    mkdirSync(OUT_DIR, { recursive: true });
    const file = join(OUT_DIR, `${runtime}-${version}.json`);
    writeFileSync(file, serializeRuntimeBase(base));
    process.stderr.write(`measure-runtime-base: wrote ${file}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.getuid() !== 0) fail('must run as root (it starts containers with runc/crun)');
const busybox = findStaticBusybox();
if (!busybox) fail('no statically linked busybox (Debian: apt-get install busybox-static)');
const arches = archesOfKernel().filter((a) => archToken(a) !== undefined);
let measured = 0;
for (const runtime of RUNTIMES) {
  if (runtime !== 'runc' && runtime !== 'crun') fail(`unknown runtime ${runtime}; use runc, crun or all`);
  if (!hasCommand(runtime)) {
    process.stderr.write(`measure-runtime-base: ${runtime} is not installed; skipped\n`);
    continue;
  }
  try {
    await measureRuntime(runtime, arches, busybox);
    measured++;
  } catch (err) {
    fail(`${runtime}: ${err.message}`);
  }
}
if (!measured) fail('no runtime measured');
