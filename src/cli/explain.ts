// `seccomp-recorder explain PROFILE [--baseline FILE] [--recording REC]...`
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import type { BaselineTarget } from '../profile/baseline.js';
import { DOCKER_DEFAULT_CAPS, KNOWN_CAPS, loadBaseline, normalizeCap, resolveBaseline } from '../profile/baseline.js';
import { machineTarget, resolveForTarget } from '../profile/machine.js';
import { libseccompVersion } from '../seccomp/libseccomp.js';
import { explainProfile, formatExplanation } from '../profile/explain.js';
import { loadProfile } from '../profile/load.js';
import { loadInputFile } from '../profile/merge.js';
import type { Recording } from '../profile/recording.js';
import { nativeArchName } from '../seccomp/arch.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';
import { NODE_DEFAULT_BASELINE } from '../profile/render.js';
import { splitList } from './lists.js';

interface ExplainCliOptions extends CommonOptions {
  baseline?: string | false;
  caps?: string;
  kernel?: string;
  recording: string[];
  json?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

async function runExplain(file: string, opts: ExplainCliOptions): Promise<number> {
  try {
    const caps = opts.caps === undefined ? [...DOCKER_DEFAULT_CAPS] : splitList(opts.caps).map(normalizeCap);
    const unknownCaps = caps.filter((c) => !KNOWN_CAPS.has(c));
    if (unknownCaps.length) throw new UsageError(`--caps: unknown capabilities ${unknownCaps.join(', ')}`);
    const kernel = opts.kernel ?? release();
    if (!/^\d+\.\d+/.test(kernel)) throw new UsageError(`--kernel: not a kernel version: "${kernel}"`);
    const loaded = loadProfile(file);
    // A Docker-shaped profile is resolved as validate and diff resolve it, for the same caps and kernel as the baseline.
    const target: BaselineTarget = { arches: loaded.profile.architectures.length ? loaded.profile.architectures : machineTarget().arches, caps, kernel };
    const resolved = resolveForTarget(loaded.profile, target);
    const profile = resolved.profile;

    let baselineFile: string | undefined;
    if (typeof opts.baseline === 'string') baselineFile = opts.baseline;
    else if (opts.baseline === undefined && existsSync(NODE_DEFAULT_BASELINE)) baselineFile = NODE_DEFAULT_BASELINE;
    const arches = profile.architectures.length ? profile.architectures : [nativeArchName()];
    const baseline = baselineFile ? resolveBaseline(loadBaseline(baselineFile), { arches, caps, kernel }) : undefined;
    const capsLabel = opts.caps === undefined ? "Docker's default capabilities" : caps.join(',') || 'no capabilities';
    const baselineLabel = baselineFile
      ? `${baselineFile}, ${capsLabel}, kernel ${kernel}`
      : opts.baseline === false
        ? 'not compared (--no-baseline)'
        : `not compared: ${NODE_DEFAULT_BASELINE} is not installed and no --baseline was given`;

    const recordings: { file: string; recording: Recording }[] = opts.recording.map((f) => {
      const input = loadInputFile(f);
      if (input.kind !== 'recording') throw new InputError(input.file, ['--recording expects a saved recording (record --save-recording FILE), not a profile']);
      return { file: input.file, recording: input.recording };
    });
    const ex = explainProfile(profile, { baseline, recordings, libseccomp: libseccompVersion() });
    if (resolved.conditional) ex.notes.unshift(`Docker-shaped includes/excludes resolved for ${target.arches.join(', ')}, ${capsLabel}, kernel ${kernel}`, ...resolved.notes);
    await writeStdout(opts.json ? `${JSON.stringify({ file: loaded.file, baseline: baselineFile ?? null, ...ex }, null, 2)}\n` : formatExplanation(ex, { file: loaded.file, baselineLabel }));
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function explainCommandSpec(): Command {
  const cmd = new Command('explain')
    .summary('what a profile allows, how it compares with the runtime default, what is risky')
    .description(
      'Counts what PROFILE allows against the runtime default (resolved for the same arches, capabilities ' +
        'and kernel), lists the risky syscalls it keeps with one line why, and, given recordings, the ' +
        "syscalls only the container runtime's start-up made.",
    )
    .argument('<profile>', 'profile (OCI JSON or SPO YAML)')
    .option('--baseline <file>', `runtime default to compare with (default: ${NODE_DEFAULT_BASELINE} when installed)`)
    .option('--no-baseline', 'do not compare with a runtime default')
    .option('--caps <list>', "capabilities for resolving the baseline (default: Docker's default set)")
    .option('--kernel <version>', 'kernel for resolving the baseline (default: this one)')
    .option('--recording <file>', 'a recording the profile came from (repeatable): lists start-up-only syscalls', collect, [])
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: ExplainCliOptions) => {
      process.exitCode = await runExplain(file, opts);
    });
  return withCommonOptions(cmd);
}
