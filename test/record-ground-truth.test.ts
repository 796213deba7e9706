// Ground truth: the set `record --source notify` sees for a run equals the set
// `strace -f` sees for the same program (the launcher's pre-exec calls must not
// appear). The bpf source's ground truth is in record-bpf.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseRecording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';

const skip = !hasCommand('strace') ? 'strace is not installed (apt-get install strace)' : !hasCommand('gcc') ? 'gcc is not installed' : false;

// restart_syscall appears only when a ptrace stop interrupts a sleep: strace's own artefact.
const TRACER_ARTEFACTS = new Set(['restart_syscall']);

function straceNames(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\d+\s+(?:<\.\.\. ([a-z0-9_]+) resumed>|([a-z0-9_]+)\()/.exec(line);
    const name = m?.[1] ?? m?.[2];
    if (name && !TRACER_ARTEFACTS.has(name)) out.add(name);
  }
  return out;
}

async function recordedNames(cmd: string[], dir: string): Promise<Set<string>> {
  const rec = join(dir, 'r.json');
  const r = await runCli(['record', '--source', 'notify', '-q', '-o', join(dir, 'p.json'), '--save-recording', rec, '--', ...cmd]);
  if (r.code !== 0) throw new Error(`record failed: ${r.stderr}`);
  const recording = parseRecording(readFileSync(rec, 'utf8'), rec);
  return new Set(recording.observations.filter((o) => o.arch === 'x86_64' || o.arch === 'aarch64').map((o) => o.syscall!));
}

for (const [label, cmd] of [
  ['the C fixture (threads, fork, vfork, exec, daemon)', () => [fixture('syscalls')]],
  ['ls -la /', () => ['ls', '-la', '/']],
  ['sh -c with a pipeline', () => ['sh', '-c', 'echo a | cat >/dev/null; true']],
] as const) {
  t.test(`recorded set equals strace -f for ${label}`, { skip }, async (t) => {
    const dir = sharedTempDir('record-ground-truth', t);
    const argv = cmd();
    const traced = join(dir, 'strace.txt');
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=all', '-o', traced, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    const expected = straceNames(traced);
    const got = await recordedNames([...argv], dir);
    t.same([...got].sort(), [...expected].sort(), 'same syscall names');
    t.ok(got.has('execve') && got.has('exit_group'), 'from the first execve to exit_group');
  });
}
