// `seccomp-recorder generate REC... [--baseline FILE] [--runtime runc|crun|none] [--format oci|spo|pod] [-o FILE]`
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { Command, Option } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { DOCKER_DEFAULT_CAPS, KNOWN_CAPS, loadBaseline, normalizeCap } from '../profile/baseline.js';
import type { GenerateReport, RecordingInput, RuntimeBaseSet } from '../profile/generate.js';
import { generateProfile } from '../profile/generate.js';
import type { ArgLevel } from '../profile/arg-rules.js';
import { formatArgReport } from '../profile/arg-report.js';
import { loadInputFile } from '../profile/merge.js';
import { serializeOci } from '../profile/oci.js';
import { checkProfileName } from '../profile/pod.js';
import type { RuntimeName } from '../profile/runtime-base.js';
import { chooseRuntimeBase } from '../profile/runtime-base.js';
import { isValidK8sName } from '../profile/spo.js';
import type { OutputChoice } from '../profile/render.js';
import { NODE_DEFAULT_BASELINE, renderProfile } from '../profile/render.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { parseArchList, splitList } from './lists.js';
import { formatEquivalents } from './summary.js';
import { argsOption, reportError, withCommonOptions, writeStdout } from './common.js';

interface GenerateCliOptions extends CommonOptions {
  baseline?: string | false;
  caps?: string;
  kernel?: string;
  arch?: string;
  runtime?: string;
  runtimeVersion?: string;
  allowBeyondDefault?: boolean;
  args: ArgLevel;
  exact?: boolean;
  unrecorded: 'deny' | 'log';
  format: string;
  spoVersion: string;
  name?: string;
  namespace?: string;
  saveProfile?: string;
  output?: string;
  quiet?: boolean;
}

function parseCaps(v: string | undefined): { caps: string[]; label: string } {
  if (v === undefined) return { caps: [...DOCKER_DEFAULT_CAPS], label: "Docker's default capabilities" };
  const caps = splitList(v).map(normalizeCap);
  const unknown = caps.filter((c) => !KNOWN_CAPS.has(c));
  if (unknown.length) throw new UsageError(`--caps: unknown capabilities ${unknown.join(', ')}`);
  return { caps, label: caps.length ? caps.join(',') : 'no capabilities' };
}

/** The installed runtime's version from `runc --version` / `crun --version`, if it runs. */
export function installedRuntimeVersion(runtime: RuntimeName): string | undefined {
  try {
    const out = execFileSync(runtime, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /version\s+v?(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export function runtimeBaseFor(runtime: string | undefined, version: string | undefined, warn: (m: string) => void): RuntimeBaseSet | undefined {
  if (runtime === undefined || runtime === 'none') return undefined;
  if (runtime !== 'runc' && runtime !== 'crun') throw new UsageError(`--runtime must be runc, crun or none, got "${runtime}"`);
  const want = version ?? installedRuntimeVersion(runtime);
  const choice = chooseRuntimeBase(runtime, want);
  if (choice.warning) warn(choice.warning);
  const { base } = choice;
  return { label: `${runtime} ${base.runtimeVersion}`, syscalls: base.syscalls };
}


/** Checks --format and the options it needs before any work is done. */
export function checkOutputChoice(o: OutputChoice): void {
  if (o.spoVersion !== 'v1' && o.spoVersion !== 'v1beta1') throw new UsageError(`--spo-version must be v1 or v1beta1, got "${o.spoVersion}"`);
  if (o.format === 'spo') {
    if (!o.name) throw new UsageError('--format spo needs --name (the SeccompProfile object name)');
    if (!isValidK8sName(o.name)) throw new UsageError(`--name "${o.name}" is not a valid Kubernetes object name (lower case letters, digits, "-" and ".")`);
  }
  if (o.format === 'pod') {
    if (!o.name) throw new UsageError('--format pod needs --name (the profile file name used with export)');
    checkProfileName(o.name);
  }
}


/** `x-coverage`: how many of the inputs contained each syscall (never inside the OCI JSON). */
export function coverageAnnotation(coverage: Record<string, number>, inputs: number): Record<string, string> {
  if (inputs < 2) return {};
  return { 'seccomp-recorder/x-coverage': JSON.stringify({ inputs, syscalls: coverage }) };
}

function list(names: string[], max = 40): string {
  return names.length > max ? `${names.slice(0, max).join(', ')}, … (${names.length - max} more)` : names.join(', ');
}

export function formatGenerateReport(r: GenerateReport, ctx: { inputs: number; baseline: string; runtime?: string; destination: string; canary?: boolean }): string {
  const lines: string[] = [];
  lines.push(`seccomp-recorder: ${r.allowed.length} syscalls allowed from ${ctx.inputs} recording(s), arch ${r.arches.join(', ')} → ${ctx.destination}`);
  if (ctx.canary)
    lines.push(
      '  canary (--unrecorded log): every other call runs and the kernel logs it (SCMP_ACT_LOG); recorded calls the baseline denies stay denied. ' +
        'Collect the misses with `import-audit` (or `agent --source audit`), then `merge` them in (docs/generate.md#canary-profiles)',
    );
  lines.push(`  baseline: ${ctx.baseline}`);
  for (const n of r.baselineNotes) lines.push(`  note: ${n}`);
  if (r.conditional.length) lines.push(`  kept the baseline's argument conditions for: ${list(r.conditional)}`);
  if (r.deniedByBaseline.length) {
    if (r.allowedBeyondDefault.length)
      lines.push(`  allowed beyond the runtime default (--allow-beyond-default): ${list(r.allowedBeyondDefault)}`);
    else
      lines.push(
        `  this workload would fail under RuntimeDefault too: ${list(r.deniedByBaseline)} ` +
          '(denied by the baseline, left out; --allow-beyond-default allows them)',
      );
  }
  for (const s of r.servedByRetry)
    lines.push(`  ${s.syscall}: answered as the baseline answers it; the C library then retries with ${s.via}, which is allowed (covered, not denied)`);
  if (r.deniedArgs.length)
    lines.push(`  recorded calls the baseline's conditions deny (they fail under RuntimeDefault too, and here): ${list(r.deniedArgs.map((d) => `${d.syscall}(${d.args})`), 10)}`);
  lines.push(...formatArgReport(r.args));
  if (ctx.runtime) lines.push(`  runtime base ${ctx.runtime}: added ${r.fromRuntimeBase.length} syscalls the workload did not make${r.fromRuntimeBase.length ? `: ${list(r.fromRuntimeBase)}` : ''}`);
  if (r.runtimeOnly.length) lines.push(`  seen only during the runtime's start-up: ${list(r.runtimeOnly)}`);
  if (r.equivalents.length) lines.push(`  ${formatEquivalents(r.equivalents)} (--exact leaves them out)`);
  const skipped = r.equivalentsSkipped.filter((e) => !r.allowed.includes(e.syscall));
  if (skipped.length) lines.push(`  equivalents not added: ${list(skipped.map((e) => `${e.syscall} (${e.why})`), 10)}`);
  if (!ctx.runtime && !r.runtimeOnly.length)
    lines.push('  note: no runtime base (--runtime runc|crun adds the calls a container runtime makes after installing the filter)');
  if (r.unnamed.length)
    lines.push(`  warning: ${r.unnamed.length} syscall number(s) libseccomp cannot name were left out: ${r.unnamed.map((u) => `${u.arch}#${u.nr}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function loadRecordings(files: string[]): RecordingInput[] {
  return files.map((f) => {
    const input = loadInputFile(f);
    if (input.kind !== 'recording')
      throw new InputError(input.file, ['this is a profile, not a recording; generate reads recordings (record --save-recording FILE); merge accepts profiles']);
    return { file: input.file, recording: input.recording };
  });
}

async function runGenerate(files: string[], opts: GenerateCliOptions): Promise<number> {
  try {
    const output: OutputChoice = { format: opts.format, spoVersion: opts.spoVersion, name: opts.name, namespace: opts.namespace };
    checkOutputChoice(output);
    if (opts.saveProfile && opts.format !== 'pod') throw new UsageError('--save-profile goes with --format pod (other formats write the profile itself)');
    const arches = parseArchList(opts.arch);
    const { caps, label: capsLabel } = parseCaps(opts.caps);
    const kernel = opts.kernel ?? release();
    if (!/^\d+\.\d+/.test(kernel)) throw new UsageError(`--kernel: not a kernel version: "${kernel}"`);
    const notes: string[] = [];
    const warn = (m: string) => notes.push(`warning: ${m}`);

    let baselineFile: string | undefined;
    if (typeof opts.baseline === 'string') baselineFile = opts.baseline;
    else if (opts.baseline === undefined && existsSync(NODE_DEFAULT_BASELINE)) baselineFile = NODE_DEFAULT_BASELINE;
    const baseline = baselineFile ? loadBaseline(baselineFile) : undefined;
    const baselineLabel = baselineFile
      ? `${baselineFile} (resolved for ${capsLabel}, kernel ${kernel})`
      : opts.baseline === false
        ? 'none (--no-baseline): recorded syscalls allowed as recorded'
        : `none: ${NODE_DEFAULT_BASELINE} is not installed and no --baseline was given, so the profile is not checked against a runtime default`;

    const recordings = loadRecordings(files);
    const runtimeBase = runtimeBaseFor(opts.runtime, opts.runtimeVersion, warn);
    const { profile, report } = generateProfile({
      recordings,
      baseline,
      caps,
      kernel,
      arches,
      runtimeBase,
      allowBeyondDefault: opts.allowBeyondDefault,
      args: opts.args,
      equivalents: !opts.exact,
      unrecorded: opts.unrecorded,
    });
    const text = renderProfile(profile, output, output.format === 'spo' ? coverageAnnotation(report.coverage, recordings.length) : {});
    if (opts.saveProfile) await writeFileAtomic(opts.saveProfile, serializeOci(profile));
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) {
      const destination = `${opts.output ?? 'stdout'}${opts.saveProfile ? ` (profile: ${opts.saveProfile})` : ''}`;
      process.stderr.write(formatGenerateReport(report, { inputs: recordings.length, baseline: baselineLabel, runtime: runtimeBase?.label, destination, canary: opts.unrecorded === 'log' }));
      for (const n of notes) process.stderr.write(`  ${n}\n`);
      if (opts.format === 'pod' && !opts.saveProfile)
        process.stderr.write('  note: --format pod wrote only the Pod snippet; add --save-profile FILE to keep the profile for export\n');
    }
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function generateCommandSpec(): Command {
  const cmd = new Command('generate')
    .summary('turn recordings into a deployable profile on the runtime default baseline')
    .description(
      'Builds one profile from saved recordings (record --save-recording). For each recorded syscall it keeps ' +
        "the baseline's own rules, argument conditions included, so the result is never looser than the runtime " +
        'default; recorded syscalls the default denies are left out and listed. Without --baseline the node\'s ' +
        `default (${NODE_DEFAULT_BASELINE}, from containers-common) is used when installed.`,
    )
    .argument('<recordings...>', 'saved recordings')
    .option('--baseline <file>', 'runtime default profile to build on (moby/containerd/containers-common or plain OCI)')
    .option('--no-baseline', 'do not build on a runtime default')
    .option('--caps <list>', "capabilities the container has, comma-separated (default: Docker's default set)")
    .option('--kernel <version>', 'kernel the baseline is resolved for (default: this one)')
    .option('--arch <list>', 'architectures the profile must cover, comma-separated (recorded ones are always included)')
    .addOption(new Option('--runtime <runtime>', 'add the start-up syscalls of this OCI runtime').choices(['runc', 'crun', 'none']))
    .option('--runtime-version <version>', 'runtime version for --runtime (default: the installed one)')
    .option('--allow-beyond-default', 'allow recorded syscalls even when the baseline denies them')
    .addOption(argsOption())
    .option('--exact', 'only what was recorded: do not add the equivalents of recorded calls (docs/equivalents.md)')
    .addOption(
      new Option('--unrecorded <action>', 'calls nobody recorded: deny (the baseline\'s denial), or log (a canary: SCMP_ACT_LOG, they run and are audited)')
        .choices(['deny', 'log'])
        .default('deny'),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['oci', 'spo', 'pod']).default('oci'))
    .addOption(new Option('--spo-version <version>', 'SeccompProfile API version for --format spo').choices(['v1', 'v1beta1']).default('v1'))
    .option('--name <name>', 'profile name (--format spo: object name; --format pod: file name used by export)')
    .option('--namespace <namespace>', 'metadata.namespace for --format spo')
    .option('--save-profile <file>', 'with --format pod: also write the OCI profile here')
    .option('-o, --output <file>', 'write here (atomically) instead of stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (files: string[], opts: GenerateCliOptions) => {
      process.exitCode = await runGenerate(files, opts);
    });
  return withCommonOptions(cmd);
}
