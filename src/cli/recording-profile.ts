// `seccomp-recorder recording-profile [--mode notify|log] --runtime runc|crun [--socket PATH] [-o FILE]`
import { lstatSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { RecordingRuntime } from '../agent/recording-profile.js';
import { DEFAULT_RUNTIME_SOCKET, recordingProfile } from '../agent/recording-profile.js';
import { serializeOci } from '../profile/oci.js';
import { archesThisKernelRuns } from '../record/abi-probe.js';
import { logRecordingProfile } from '../record/audit/log-profile.js';
import { archesOfKernel } from '../seccomp/arch.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';
import { parseArchList } from './lists.js';

interface RecordingProfileCliOptions extends CommonOptions {
  mode: 'notify' | 'log';
  runtime: RecordingRuntime;
  socket: string;
  uncovered: 'allow' | 'log';
  image?: string;
  arch?: string;
  output?: string;
  quiet?: boolean;
}

function socketWarning(path: string): string | undefined {
  try {
    if (lstatSync(path).isSocket()) return undefined;
    return `${path} is not a socket`;
  } catch {
    return `no agent socket at ${path} yet`;
  }
}

/** `--mode log`: the SCMP_ACT_LOG profile `agent --source audit` records from. */
async function printLogProfile(cmd: Command, opts: RecordingProfileCliOptions): Promise<void> {
  const notifyOnly = ['runtime', 'socket', 'uncovered', 'image'].filter((o) => cmd.getOptionValueSource(o) === 'cli');
  if (notifyOnly.length) throw new UsageError(`${notifyOnly.map((o) => `--${o}`).join(', ')}: only for --mode notify`);
  const profile = logRecordingProfile({ arches: parseArchList(opts.arch) });
  const text = serializeOci(profile);
  if (opts.output) await writeFileAtomic(opts.output, text);
  else await writeStdout(text);
  if (!opts.quiet)
    process.stderr.write(
      `seccomp-recorder: log profile: default SCMP_ACT_LOG on ${profile.architectures.join(', ')}: every call is allowed and audited; ` +
        'record with `seccomp-recorder agent --source audit` (or `import-audit` on saved logs)\n',
    );
}

/**
 * The architectures of a notify profile: --arch, else for runc the ABIs this
 * kernel runs, for crun the kernel's usual list. runc's init compiles the NOTIFY
 * rule's names for every arch listed, with libseccomp, before the container
 * starts, at a cost that grows faster than the list (docs/agent.md, "Start
 * cost"): an ABI the kernel refuses is left out. crun's profile names no
 * syscall, so its arches cost nothing. When the probe cannot run, the usual list.
 */
async function notifyArches(runtime: RecordingRuntime, arch: string | undefined): Promise<{ arches: string[]; note?: string }> {
  const given = parseArchList(arch);
  if (given.length) return { arches: given };
  if (runtime !== 'runc') return { arches: archesOfKernel() };
  try {
    const { arches, left } = await archesThisKernelRuns();
    const note = left.length
      ? `  left out: ${left.map((l) => `${l.arch} (${l.why})`).join(', ')}: each ABI listed lengthens the filter runc compiles at every start; --arch to choose`
      : undefined;
    return { arches, note };
  } catch (err) {
    return { arches: archesOfKernel(), note: `  architectures: the kernel's usual list, since the ABI probe failed: ${(err as Error).message}` };
  }
}

async function runRecordingProfile(cmd: Command, opts: RecordingProfileCliOptions): Promise<number> {
  try {
    if (opts.mode === 'log') {
      await printLogProfile(cmd, opts);
      return 0;
    }
    if (!opts.socket.startsWith('/')) throw new UsageError(`--socket must be an absolute path (the runtime connects to it), got "${opts.socket}"`);
    if (opts.uncovered === 'log' && opts.runtime !== 'runc') throw new UsageError('--uncovered applies to --runtime runc (crun notifies on everything)');
    const { arches, note } = await notifyArches(opts.runtime, opts.arch);
    const r = recordingProfile({ runtime: opts.runtime, socketPath: opts.socket, uncovered: opts.uncovered, image: opts.image, arches });
    const text = serializeOci(r.profile);
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) {
      const lines = [
        r.notifiedNames
          ? `seccomp-recorder: ${opts.runtime} profile: NOTIFY on ${r.notifiedNames} syscalls, default ${r.profile.defaultAction.kind.toUpperCase()}`
          : `seccomp-recorder: ${opts.runtime} profile: NOTIFY is the default action (every syscall is observed)`,
      ];
      lines.push(`  architectures: ${r.profile.architectures.join(', ')}`);
      if (note) lines.push(note);
      if (r.uncovered.length)
        lines.push(`  not observed (runc refuses NOTIFY on them, or its init may need them before the agent has the listener), always allowed in generated profiles: ${r.uncovered.join(', ')}`);
      if (r.notifiedNames)
        lines.push(`  not observed either: syscalls newer than libseccomp knows (above ${Object.entries(r.highestKnown).map(([a, n]) => `${a} #${n}`).join(', ')})`);
      const warn = socketWarning(opts.socket);
      if (warn) lines.push(`  warning: ${warn}: start \`seccomp-recorder agent\` before any container uses this profile (runc hangs when the socket is missing)`);
      process.stderr.write(`${lines.join('\n')}\n`);
    }
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function recordingProfileCommandSpec(): Command {
  const cmd = new Command('recording-profile')
    .summary('print the seccomp profile that sends a container\'s syscalls to the agent')
    .description(
      'Prints an OCI seccomp profile whose listenerPath is the agent\'s socket. Use it as a container\'s seccomp\n' +
        'profile in staging (Kubernetes localhostProfile, podman --security-opt seccomp=FILE, runc/crun config.json).\n' +
        'runc refuses NOTIFY as the default action and on write: its profile notifies on every other syscall\n' +
        'libseccomp knows and lets write through (always allowed in generated profiles). crun accepts NOTIFY as\n' +
        'the default, so its profile observes everything. The runc profile works with crun too.\n' +
        '--mode log prints a SCMP_ACT_LOG profile instead: no listener, every call allowed and audited, for\n' +
        '`agent --source audit` or `import-audit`.',
    )
    .addOption(new Option('--mode <mode>', 'notify: for `agent` (listener); log: SCMP_ACT_LOG, for `agent --source audit`').choices(['notify', 'log']).default('notify'))
    .addOption(new Option('--runtime <runtime>', 'the OCI runtime that will apply it').choices(['runc', 'crun']).default('runc'))
    .option('--socket <path>', 'the agent\'s runtime socket', DEFAULT_RUNTIME_SOCKET)
    .addOption(new Option('--uncovered <action>', 'runc: what happens to calls NOTIFY cannot cover (log: audit records)').choices(['allow', 'log']).default('allow'))
    .option('--image <name>', 'image name for containers whose annotations name none (carried in listenerMetadata)')
    .option('--arch <list>', 'architectures, comma-separated (default: the kernel\'s native and compat ones; for runc only those it runs, probed)')
    .option('-o, --output <file>', 'write here (atomically) instead of stdout')
    .option('-q, --quiet', 'no notes on stderr')
    .action(async (opts: RecordingProfileCliOptions, command: Command) => {
      process.exitCode = await runRecordingProfile(command, opts);
    });
  return withCommonOptions(cmd);
}
