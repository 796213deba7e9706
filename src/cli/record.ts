// `seccomp-recorder record [-o FILE] -- CMD [ARG...]`
import { Command } from 'commander';
import { minimalProfile } from '../profile/minimal.js';
import { serializeOci } from '../profile/oci.js';
import { serializeRecording } from '../profile/recording.js';
import { recordCommand } from '../record/command.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { loggerFor, reportError, withCommonOptions, writeStdout } from './common.js';
import { formatSummary } from './summary.js';

interface RecordOptions extends CommonOptions {
  output?: string;
  saveRecording?: string;
  quiet?: boolean;
  syncWakeup: boolean;
}

export function recordCommandSpec(): Command {
  const cmd = new Command('record')
    .summary('run a command and record every syscall it and its descendants make')
    .description(
      'Runs CMD under a seccomp user-notify filter (no root needed), records every syscall of CMD and all\n' +
        'its descendants until the last of them exits, and writes a minimal seccomp profile.\n' +
        'The exit status is the command\'s (128+N when it died of signal N).',
    )
    .argument('<command...>', 'the command to run, after --')
    .option('-o, --output <file>', 'write the profile here (atomically) instead of stdout')
    .option('--save-recording <file>', 'also save the raw recording (for generate/merge later)')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--no-sync-wakeup', 'do not ask the kernel to wake the supervisor on the caller\'s CPU (for benchmarks)')
    .passThroughOptions()
    .action(async (command: string[], opts: RecordOptions) => {
      process.exitCode = await runRecord(command, opts);
    });
  return withCommonOptions(cmd);
}

async function runRecord(command: string[], opts: RecordOptions): Promise<number> {
  try {
    const logger = loggerFor(opts);
    const { result, recording, unknownArchCalls } = await recordCommand({
      command,
      logger,
      syncWakeup: opts.syncWakeup,
      onWaitingForDescendants: () => {
        if (!opts.quiet) process.stderr.write('seccomp-recorder: the command exited; still recording its descendants (Ctrl-C to stop waiting)\n');
      },
    });
    const { profile, unnamed } = minimalProfile(recording);
    const text = serializeOci(profile);
    if (opts.saveRecording) writeFileAtomic(opts.saveRecording, serializeRecording(recording));
    if (opts.output) writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) {
      process.stderr.write(
        formatSummary({
          recording,
          durationMs: result.durationMs,
          destination: opts.output ?? 'stdout',
          allowed: profile.rules[0]?.names.length ?? 0,
          unnamed: unnamed.length,
          exitCode: result.exitCode,
          stoppedEarly: result.stoppedEarly,
          unknownArchCalls,
        }),
      );
    }
    return result.exitCode;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}
