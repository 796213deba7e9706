// `seccomp-recorder merge IN... [-o FILE]` and `merge --check PROFILE IN...`
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { MergeResult } from '../profile/merge.js';
import { checkSuperset, inputAsProfile, loadInputFile, mergeInputs } from '../profile/merge.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { argsOption, reportError, withCommonOptions, writeStdout } from './common.js';
import type { OutputChoice } from '../profile/render.js';
import { renderProfile } from '../profile/render.js';
import { checkOutputChoice, coverageAnnotation } from './generate.js';
import type { ArgLevel } from '../profile/arg-rules.js';

interface MergeCliOptions extends CommonOptions {
  check?: boolean;
  args: ArgLevel;
  format: string;
  spoVersion: string;
  name?: string;
  namespace?: string;
  output?: string;
  quiet?: boolean;
}

function formatCoverage(r: MergeResult, destination: string): string {
  const lines = [`seccomp-recorder: merged ${r.inputs} inputs: ${Object.keys(r.coverage).length} syscalls allowed → ${destination}`];
  const partial = Object.entries(r.coverage).filter(([, n]) => n < r.inputs);
  if (partial.length) {
    lines.push(`  x-coverage (inputs containing each syscall, of ${r.inputs}; the rest are in all):`);
    const byCount = new Map<number, string[]>();
    for (const [name, n] of partial) byCount.set(n, [...(byCount.get(n) ?? []), name]);
    for (const n of [...byCount.keys()].sort((a, b) => a - b)) lines.push(`    ${n}/${r.inputs}: ${byCount.get(n)!.join(', ')}`);
  } else lines.push('  every syscall is in every input');
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

async function runCheck(files: string[], opts: MergeCliOptions): Promise<number> {
  if (files.length < 2) throw new UsageError('merge --check needs the profile to check and at least one recording or profile it must cover');
  const [baseFile, ...rest] = files;
  const base = inputAsProfile(loadInputFile(baseFile));
  const lines: string[] = [];
  let ok = true;
  for (const f of rest) {
    const cand = loadInputFile(f);
    const r = checkSuperset(base, cand);
    if (r.ok) {
      lines.push(`ok: ${baseFile} covers ${cand.file}`);
      continue;
    }
    ok = false;
    lines.push(`${baseFile} lacks what ${cand.file} needs:`);
    if (r.missingArches.length) lines.push(`  architectures: ${r.missingArches.join(', ')}`);
    for (const m of r.missing) lines.push(`  ${m.syscall}: ${m.why}`);
  }
  if (!opts.quiet || !ok) await writeStdout(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

async function runMerge(files: string[], opts: MergeCliOptions): Promise<number> {
  try {
    if (opts.check) return await runCheck(files, opts);
    const output: OutputChoice = { format: opts.format, spoVersion: opts.spoVersion, name: opts.name, namespace: opts.namespace };
    if (output.format === 'pod') throw new UsageError('merge writes a profile: use --format oci or spo (generate --format pod makes the Pod snippet)');
    checkOutputChoice(output);
    const result = mergeInputs(files.map(loadInputFile), { args: opts.args });
    const text = renderProfile(result.profile, output, output.format === 'spo' ? coverageAnnotation(result.coverage, result.inputs) : {});
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) process.stderr.write(formatCoverage(result, opts.output ?? 'stdout'));
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function mergeCommandSpec(): Command {
  const cmd = new Command('merge')
    .summary('union of recordings and profiles, with coverage; or check one profile covers others')
    .description(
      'Merges recordings and allow-list profiles (OCI JSON or SPO YAML) into one profile that allows what any ' +
        'input allowed. The report on stderr (and, with --format spo, the x-coverage annotation) says how many ' +
        'inputs contained each syscall. With --check, the first file is the profile in use and the others are ' +
        'newer recordings or profiles: exit 1 naming what it lacks, 0 when it covers them all.',
    )
    .argument('<inputs...>', 'recordings and/or profiles')
    .option('--check', 'exit 1 unless the first profile allows everything the others need')
    .addOption(argsOption("argument conditions from the recordings' unioned values, as generate --args (profiles keep their own)"))
    .addOption(new Option('--format <format>', 'output format').choices(['oci', 'spo']).default('oci'))
    .addOption(new Option('--spo-version <version>', 'SeccompProfile API version for --format spo').choices(['v1', 'v1beta1']).default('v1'))
    .option('--name <name>', 'metadata.name for --format spo')
    .option('--namespace <namespace>', 'metadata.namespace for --format spo')
    .option('-o, --output <file>', 'write here (atomically) instead of stdout')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (files: string[], opts: MergeCliOptions) => {
      process.exitCode = await runMerge(files, opts);
    });
  return withCommonOptions(cmd);
}
