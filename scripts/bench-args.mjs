#!/usr/bin/env node
// `npm run bench -- --only args`: what argument conditions buy, for the
// workloads the tests replay. Records each once, generates --args off, safe
// and strict, and prints per workload: names allowed, (syscall, value)
// combinations allowed, and how many of the argument risks (packet/raw
// sockets, AF_ALG, AF_VSOCK, AF_NETLINK, user/mount namespaces, TIOCSTI,
// TIOCLINUX, PR_SET_MM) each profile closes, against names-only and against
// RuntimeDefault (the node's containers-common default and moby's). Counts,
// not times; nothing here asserts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist/cli/main.js');
const NODE_DEFAULT = '/usr/share/containers/seccomp.json';
const MOBY = join(REPO, 'test/fixtures/runtime-defaults/moby-default.json');

const { parseOciProfile } = await import(join(REPO, 'dist/profile/oci.js'));
const { argRisks, ARG_RISKS } = await import(join(REPO, 'dist/profile/arg-report.js'));
const { loadBaseline, resolveBaseline, DOCKER_DEFAULT_CAPS, isAllowingAction } = await import(join(REPO, 'dist/profile/baseline.js'));
const { ARG_POLICIES } = await import(join(REPO, 'dist/profile/arg-rules.js'));

function cli(argv) {
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8' });
  if (r.status !== 0 && argv[0] !== 'record') throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r;
}

/** Names with an allowing rule, and (syscall, value) combinations: one per conditional allow of a watched syscall. */
function counts(profile) {
  const names = new Set();
  let combos = 0;
  for (const r of profile.rules) {
    if (!isAllowingAction(r.action.kind)) continue;
    for (const n of r.names) {
      names.add(n);
      if (r.args.length && ARG_POLICIES[n]) combos++;
    }
  }
  const unconditionalWatched = [...names].filter((n) => ARG_POLICIES[n] && profile.rules.some((r) => r.names.includes(n) && isAllowingAction(r.action.kind) && !r.args.length));
  return { names: names.size, combos, anyValue: unconditionalWatched.length };
}

const closedBy = (profile) => argRisks(profile, profile.architectures.length ? profile.architectures : ['x86_64']).filter((r) => r.status !== 'open').length;

export async function benchArgs() {
  const work = mkdtempSync(join(tmpdir(), 'sr-bench-args-'));
  const bin = (name) => {
    const out = join(work, name);
    execFileSync('gcc', ['-O1', '-pthread', '-o', out, join(REPO, 'test/fixtures', `${name}.c`)]);
    return out;
  };
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  const workloads = [
    { label: 'C fixture (syscalls)', cmd: [bin('syscalls')] },
    { label: 'C fixture (argcalls)', cmd: [bin('argcalls')] },
    { label: 'shell pipeline', cmd: ['/bin/sh', '-c', 'printf "b\\na\\n" | sort | head -1'] },
    { label: 'ls -la', cmd: ['ls', '-la', REPO] },
  ];
  if (python) workloads.push({ label: 'python TCP+unix+pty', cmd: [python, join(REPO, 'test/fixtures/netpty.py')] });
  const baselines = [];
  const target = { arches: ['x86_64'], caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.1' };
  if (existsSync(NODE_DEFAULT)) baselines.push({ label: 'containers-common', file: NODE_DEFAULT, resolved: resolveBaseline(loadBaseline(NODE_DEFAULT), target) });
  baselines.push({ label: 'moby', file: MOBY, resolved: resolveBaseline(loadBaseline(MOBY), target) });

  console.log(`argument conditions: ${ARG_RISKS.length} argument risks checked (packet/raw sockets, AF_ALG, AF_VSOCK, AF_NETLINK, user/mount namespaces via clone and unshare, TIOCSTI, TIOCLINUX, PR_SET_MM)`);
  for (const b of baselines) console.log(`  RuntimeDefault ${b.label} itself closes ${closedBy(b.resolved)} of ${ARG_RISKS.length}`);
  console.log('');
  const head = ['workload', 'baseline', 'names', 'combos safe', 'combos strict', 'any-value off/safe/strict', 'risks closed off/safe/strict (default)'];
  console.log(head.join(' | '));
  for (const w of workloads) {
    const rec = join(work, 'rec.json');
    cli(['record', '-q', '--save-recording', rec, '-o', '/dev/null', '--', ...w.cmd]);
    for (const b of baselines) {
      const gen = (level) => parseOciProfile(cli(['generate', rec, '--baseline', b.file, '--kernel', '6.1', '--args', level, '-q']).stdout, level);
      const off = gen('off');
      const safe = gen('safe');
      const strict = gen('strict');
      const [co, cs, ct] = [counts(off), counts(safe), counts(strict)];
      const row = [
        w.label,
        b.label,
        `${co.names}/${cs.names}/${ct.names}`,
        String(cs.combos),
        String(ct.combos),
        `${co.anyValue}/${cs.anyValue}/${ct.anyValue}`,
        `${closedBy(off)}/${closedBy(safe)}/${closedBy(strict)} (${closedBy(b.resolved)})`,
      ];
      console.log(row.join(' | '));
    }
  }
  console.log('\nnames: allowed names off/safe/strict (clone3 leaves the allow list when clone is restricted); combos: conditional allow rules of watched syscalls;');
  console.log('any-value: watched syscalls still allowed for any value; risks closed: of the list above, denied by conditions or not allowed at all.');
  rmSync(work, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) await benchArgs();
