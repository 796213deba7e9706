// `seccomp-recorder diff OLD NEW [--format text|markdown|json] [--fail-on widen|any|never]`
// Compares what two profiles mean, not their text. Exit 0 within policy,
// 1 when --fail-on is violated, 2 usage or input error.
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { isConditionalProfile } from '../profile/baseline.js';
import type { SyscallExists } from '../profile/canonical.js';
import type { FailOn } from '../profile/diff.js';
import { diffProfiles, FAIL_ON, summaryLine, violates } from '../profile/diff.js';
import type { DiffReport, DiffSide } from '../profile/diff-render.js';
import { renderJson, renderMarkdown, renderText, shouldColor } from '../profile/diff-render.js';
import { markedEquivalents } from '../profile/equivalents.js';
import { loadProfile } from '../profile/load.js';
import { machineTarget, resolveForTarget } from '../profile/machine.js';
import type { Profile } from '../profile/model.js';
import { libseccompVersion } from '../seccomp/libseccomp.js';
import { unknownNameUses } from '../seccomp/name-report.js';
import { syscallExistence } from '../seccomp/syscall-exists.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

const FORMATS = ['text', 'markdown', 'json'] as const;
type Format = (typeof FORMATS)[number];

interface DiffCliOptions extends CommonOptions {
  format: Format;
  failOn: FailOn;
}

export function diffCommandSpec(): Command {
  const cmd = new Command('diff')
    .summary('compare what two profiles allow; fail CI when the new one allows more')
    .description(
      'Compares two profiles (OCI JSON or SPO SeccompProfile YAML, in any mix) by\n' +
        'meaning, per architecture and syscall: rule order and how names are grouped\n' +
        'do not matter. Each change is a widening, a narrowing or neutral; widenings\n' +
        'of dangerous syscalls are marked. The last line is always a summary.\n' +
        'Exit status: 0 within --fail-on, 1 when it is violated, 2 usage or input error.',
    )
    .argument('<old>', 'the profile before (e.g. the committed one), or - for stdin')
    .argument('<new>', 'the profile after (e.g. the one just recorded), or - for stdin')
    .addOption(new Option('--format <format>', 'output format (json: stable schema, see docs/diff.md)').choices(FORMATS).default('text'))
    .addOption(new Option('--fail-on <policy>', 'exit 1 when the diff widens, has any change, or never').choices(FAIL_ON).default('widen'))
    .action(async (oldFile: string, newFile: string, opts: DiffCliOptions) => {
      process.exitCode = await runDiff(oldFile, newFile, opts);
    });
  return withCommonOptions(cmd);
}

interface LoadedSide {
  side: DiffSide;
  profile: Profile;
  notes: string[];
  /** Uses of names libseccomp does not know that make the profile looser here than written. */
  unknownErrors: number;
}

/**
 * Reads one side (load.ts: OCI/Docker JSON, containers-common errno names, SPO
 * YAML). Docker-shaped conditional rules are resolved for this machine, as
 * `validate` does, since they have no single meaning otherwise.
 */
function loadSide(file: string): LoadedSide {
  const loaded = loadProfile(file);
  const label = loaded.file;
  const marked = markedEquivalents(loaded.profile);
  const side: DiffSide = { file: label, format: loaded.format, ...(loaded.name ? { name: loaded.name } : {}), ...(marked.length ? { equivalents: marked } : {}) };
  let profile = loaded.profile;
  const notes: string[] = [];
  if (isConditionalProfile(profile)) {
    const target = machineTarget();
    const resolved = resolveForTarget(profile, target);
    profile = resolved.profile;
    notes.push(`${label}: Docker-shaped includes/excludes resolved for this machine (${target.arches.join(', ')}; Docker's default capabilities; kernel ${target.kernel})`);
    notes.push(...resolved.notes.map((n) => `${label}: ${n}`));
  }
  return { side, profile, notes, unknownErrors: weighUnknownNames(label, profile, notes) };
}

/**
 * Names libseccomp does not know, weighed as validate weighs them (name-report.ts):
 * a note each, 'warning' when skipping the name only makes the profile stricter
 * here, 'error' when it loosens it. Returns the errors' count.
 */
function weighUnknownNames(label: string, profile: Profile, notes: string[]): number {
  let version: string;
  try {
    version = libseccompVersion();
  } catch {
    return 0; // libseccompExists() says so once
  }
  const uses = unknownNameUses(profile, version);
  for (const u of uses) notes.push(`${label}: ${u.severity}: ${u.message}`);
  return uses.filter((u) => u.severity === 'error').length;
}

/** Syscall existence through libseccomp, or undefined (with a note) when it is not installed. */
function libseccompExists(notes: string[]): SyscallExists | undefined {
  try {
    libseccompVersion();
  } catch (err) {
    notes.push(`libseccomp is not available (${(err as Error).message}); every syscall is taken to exist on every architecture`);
    return undefined;
  }
  return (arch, name) => {
    const e = syscallExistence(arch, name);
    return e === 'unknown' ? undefined : e === 'exists';
  };
}

async function runDiff(oldFile: string, newFile: string, opts: DiffCliOptions): Promise<number> {
  try {
    if (oldFile === '-' && newFile === '-') throw new UsageError('only one of <old> and <new> can be - (stdin)');
    const before = loadSide(oldFile);
    const after = loadSide(newFile);
    const notes = [...before.notes, ...after.notes];
    const exists = libseccompExists(notes);
    const result = diffProfiles(before.profile, after.profile, { exists });
    // The new profile is looser on this node than written: as much a widening as any change.
    const failed = violates(result.summary, opts.failOn) || (opts.failOn !== 'never' && after.unknownErrors > 0);
    const report: DiffReport = { old: before.side, new: after.side, result, failOn: opts.failOn, failed, notes: [...notes, ...result.notes] };
    if (opts.format === 'json') {
      await writeStdout(renderJson(report));
      // stdout stays one JSON document; the summary line still ends what a job log shows.
      process.stderr.write(`${summaryLine(result.summary)}\n`);
    } else if (opts.format === 'markdown') {
      await writeStdout(renderMarkdown(report));
    } else {
      await writeStdout(renderText(report, { color: shouldColor(process.stdout, process.env) }));
    }
    return failed ? 1 : 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}
