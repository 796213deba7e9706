// `seccomp-recorder record [-o FILE] -- CMD [ARG...]`
import { Command } from 'commander';
import { withNewNames } from '../profile/known.js';
import { loadProfile } from '../profile/load.js';
import type { LoadedProfile } from '../profile/load.js';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { DOCKER_DEFAULT_CAPS, loadBaseline, resolveBaseline } from '../profile/baseline.js';
import { minimalProfile, withEquivalents } from '../profile/minimal.js';
import type { Recording } from '../profile/recording.js';
import { NODE_DEFAULT_BASELINE } from '../profile/render.js';
import { serializeOci } from '../profile/oci.js';
import { serializeRecording } from '../profile/recording.js';
import { commandSource, SOURCE_CHOICES } from '../record/sources.js';
import { buildKnownFilter, hottestFirst, newObservations } from '../record/known.js';
import { InputError, UsageError } from '../errors.js';
import { loadInputFile } from '../profile/merge.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { loggerFor, reportError, withCommonOptions, writeStdout } from './common.js';
import { formatSummary } from './summary.js';

interface RecordOptions extends CommonOptions {
  output?: string;
  saveRecording?: string;
  quiet?: boolean;
  syncWakeup: boolean;
  known: string[];
  knownCounts: string[];
  failOnNew?: boolean;
  source: string;
  exact?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function recordCommandSpec(): Command {
  const cmd = new Command('record')
    .summary('run a command and record every syscall it and its descendants make')
    .description(
      'Runs CMD, records every syscall of CMD and all its descendants until the last of them exits, and\n' +
        'writes a minimal seccomp profile. Sources: bpf (root; a raw tracepoint watches CMD\'s own cgroup,\n' +
        'nothing in its path) or notify (a seccomp user-notify filter, no root needed); auto picks bpf\n' +
        'where it loads (not with --known, whose filter is notify\'s), notify otherwise.\n' +
        'The exit status is the command\'s (128+N when it died of signal N).',
    )
    .argument('<command...>', 'the command to run, after --')
    .option('-o, --output <file>', 'write the profile here (atomically) instead of stdout')
    .option('--save-recording <file>', 'also save the raw recording (for generate/merge later)')
    .option('--known <profile>', 'incremental: calls this profile allows run unrecorded at full speed; only new ones are recorded (repeatable; OCI JSON or SPO YAML)', collect, [])
    .option('--known-counts <recording>', 'with --known: test the syscalls this saved recording saw most often first in the filter (repeatable; record --save-recording)', collect, [])
    .option('--fail-on-new', 'with --known: exit 1 when anything new was seen (after writing the output)')
    .option('--exact', 'only what was recorded: do not add the equivalents of recorded calls (docs/equivalents.md)')
    .option('--source <source>', `how calls are seen: ${SOURCE_CHOICES.join(', ')}`, 'auto')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--no-sync-wakeup', 'do not ask the kernel to wake the supervisor on the caller\'s CPU (for benchmarks)')
    .passThroughOptions()
    .action(async (command: string[], opts: RecordOptions) => {
      process.exitCode = await runRecord(command, opts);
    });
  return withCommonOptions(cmd);
}

function loadCounts(file: string): Recording {
  const input = loadInputFile(file);
  if (input.kind !== 'recording') throw new InputError(input.file, ['--known-counts: this is a profile, not a recording (record --save-recording FILE writes one)']);
  return input.recording;
}

/** The node's runtime default (when installed), resolved for the recording: siblings it denies are not added. */
function nodeDefaultFor(recording: Recording) {
  if (!existsSync(NODE_DEFAULT_BASELINE) || !recording.arches.length) return undefined;
  return resolveBaseline(loadBaseline(NODE_DEFAULT_BASELINE), { arches: recording.arches, caps: [...DOCKER_DEFAULT_CAPS], kernel: release() });
}

async function runRecord(command: string[], opts: RecordOptions): Promise<number> {
  try {
    const logger = loggerFor(opts);
    const known: LoadedProfile[] = opts.known.map((f) => loadProfile(f));
    if (known.length && opts.source === 'bpf') throw new UsageError('--known installs a filter that only the notify source uses; drop --source bpf');
    if (opts.knownCounts.length && !known.length) throw new UsageError('--known-counts orders the filter of --known: give --known too');
    const counted = opts.knownCounts.map(loadCounts);
    const filter = known.length ? buildKnownFilter(known.map((k) => k.profile), logger, hottestFirst(counted)) : undefined;
    let recorded;
    try {
      const source = commandSource(opts.source === 'auto' && known.length ? 'notify' : opts.source, logger);
      recorded = await source.record({
        command,
        bpfFile: filter?.bpfFile,
        logger,
        syncWakeup: opts.syncWakeup,
        onWaitingForDescendants: () => {
          if (!opts.quiet) process.stderr.write('seccomp-recorder: the command exited; still recording its descendants (Ctrl-C to stop waiting)\n');
        },
      });
    } finally {
      filter?.cleanup();
    }
    const { result, recording, unknownArchCalls } = recorded;
    const minimal = minimalProfile(recording);
    let profile = minimal.profile;
    let fresh: string[] = [];
    let equivalents: { syscall: string; for: string[] }[] = [];
    if (!known.length && !opts.exact) ({ profile, added: equivalents } = withEquivalents(profile, recording, nodeDefaultFor(recording)));
    if (known.length) {
      const novel = newObservations(known.map((k) => k.profile), recording.observations);
      fresh = [...new Set(novel.filter((o) => o.syscall).map((o) => o.syscall!))].sort();
      profile = withNewNames(known[0].profile, fresh);
      const arches = new Set([...profile.architectures, ...recording.arches]);
      profile.architectures = [...arches].sort();
    }
    const text = serializeOci(profile);
    if (opts.saveRecording) await writeFileAtomic(opts.saveRecording, serializeRecording(recording));
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) {
      process.stderr.write(
        formatSummary({
          recording,
          durationMs: result.durationMs,
          destination: opts.output ?? 'stdout',
          allowed: profile.rules.filter((r) => r.action.kind === 'allow').reduce((n, r) => n + r.names.length, 0),
          unnamed: minimal.unnamed.length,
          exitCode: result.exitCode,
          stoppedEarly: result.stoppedEarly,
          unknownArchCalls,
          known: known.length ? { files: known.map((k) => k.file), fresh } : undefined,
          equivalents,
        }),
      );
    }
    if (opts.failOnNew && fresh.length) return 1;
    return result.exitCode;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}
