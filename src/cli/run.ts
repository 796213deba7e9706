// `seccomp-recorder run --profile P [--complain] [--report FILE] -- CMD [ARG...]`
// Exit status: the command's (128+N for signal N); 126/127 when it cannot be
// executed; 1 or 2 for our own failures, as `record`.
import { Command } from 'commander';
import { readInput } from '../profile/load.js';
import { machineTarget, resolveForTarget } from '../profile/machine.js';
import { parseAnyProfile } from '../profile/validate.js';
import type { EnforceResult, NotifiedCall } from '../run/enforce.js';
import { runUnderProfile } from '../run/enforce.js';
import { nativeArchName } from '../seccomp/arch.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { loggerFor, reportError, withCommonOptions } from './common.js';

interface RunOptions extends CommonOptions {
  profile: string;
  complain?: boolean;
  report?: string;
  quiet?: boolean;
}

export function runCommandSpec(): Command {
  const cmd = new Command('run')
    .summary('run a command under a seccomp profile (or in complain mode: report what it would deny)')
    .description(
      'Compiles the profile with libseccomp as runc would and installs it in the launcher after\n' +
        'no_new_privs, just before CMD is executed; CMD and all its descendants run under it. No root needed.\n' +
        'With --complain every denying action becomes user-notify: each such call is let through, and at exit\n' +
        'the syscalls the profile would have denied are listed once each, with pid and executable.\n' +
        "The exit status is the command's (128+N when it died of signal N).",
    )
    .requiredOption('--profile <file>', 'the profile (OCI/Docker JSON or SPO YAML)')
    .option('--complain', 'allow everything; report what the profile would deny')
    .option('--report <file>', 'also write the report as JSON here (atomically)')
    .option('-q, --quiet', 'no report on stderr')
    .argument('<command...>', 'the command to run, after --')
    .passThroughOptions()
    .action(async (command: string[], opts: RunOptions) => {
      process.exitCode = await runRun(command, opts);
    });
  return withCommonOptions(cmd);
}

function callLine(c: NotifiedCall, label: string): string {
  const where = [c.exe, c.pid ? `pid ${c.pid}` : undefined].filter(Boolean).join(', ');
  const arch = c.arch === nativeArchName() ? '' : ` [${c.arch}]`;
  return `  ${label}: ${c.syscall}${arch} (${c.count} call${c.count === 1 ? '' : 's'}${where ? `, ${where}` : ''}) → ${c.action}\n`;
}

/** The stderr report. */
export function formatRunReport(r: EnforceResult, file: string, complain: boolean): string {
  let out = '';
  if (complain) {
    const n = r.wouldDeny.length;
    out += n
      ? `seccomp-recorder: complain mode: ${n} syscall${n === 1 ? '' : 's'} would be denied by ${file}:\n`
      : `seccomp-recorder: complain mode: nothing ${file} denies was called\n`;
    for (const c of r.wouldDeny) out += callLine(c, 'would deny');
  }
  if (r.notified.length) {
    out += `seccomp-recorder: ${file} sends these to a user-notify listener; run answered each with CONTINUE:\n`;
    for (const c of r.notified) out += callLine(c, 'notified');
  }
  return out;
}

async function runRun(command: string[], opts: RunOptions): Promise<number> {
  try {
    const logger = loggerFor(opts);
    const input = readInput(opts.profile);
    const parsed = parseAnyProfile(input.text, input.label);
    const target = machineTarget();
    const { profile, conditional, notes } = resolveForTarget(parsed.profile, target);
    const warn = (m: string) => {
      if (!opts.quiet) process.stderr.write(`seccomp-recorder: warning: ${m}\n`);
    };
    if (conditional) warn(`${input.label} has Docker-style conditional rules; resolved for ${target.arches.join(', ')} with Docker's default capabilities`);
    for (const n of notes) warn(n);
    const r = await runUnderProfile({
      profile,
      command,
      complain: opts.complain === true,
      logger,
      onWaitingForDescendants: () => {
        if (!opts.quiet) process.stderr.write('seccomp-recorder: the command exited; waiting for its descendants (Ctrl-C to stop waiting)\n');
      },
    });
    if (r.ignoredFlags.length)
      warn(`${r.ignoredFlags.join(', ')} cannot apply without a listener; the filter was installed without ${r.ignoredFlags.length === 1 ? 'it' : 'them'}`);
    if (opts.report) {
      const doc = {
        profile: input.label,
        command,
        complain: opts.complain === true,
        exitCode: r.result.exitCode,
        signal: r.result.signal,
        wouldDeny: r.wouldDeny,
        notified: r.notified,
      };
      await writeFileAtomic(opts.report, `${JSON.stringify(doc, null, 2)}\n`);
    }
    if (!opts.quiet) process.stderr.write(formatRunReport(r, input.label, opts.complain === true));
    return r.result.exitCode;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}
