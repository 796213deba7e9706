// Records one command through eBPF: the bpf source of `record -- CMD` (root).
// CMD runs in a fresh cgroup of its own, created and registered before the
// launcher moves into it and execs; the recording starts at that exec (the
// launcher's last calls count as the "runtime" phase and are dropped) and
// ends when the cgroup is empty, daemonised descendants included.
import { randomBytes } from 'node:crypto';
import { NativeError } from '../../errors.js';
import type { CommandRecording, RecordCommandOptions } from '../command.js';
import { commandRecording } from '../command.js';
import { launch } from '../launch.js';
import type { PrivateCgroup } from './cgroup2.js';
import { createPrivateCgroup, isPopulated, waitUntilEmpty } from './cgroup2.js';
import { BpfPrograms } from './programs.js';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export interface PreparedBpfCommand {
  run(opts: RecordCommandOptions): Promise<CommandRecording>;
}

/**
 * Loads the programs and makes the command's cgroup, before anything runs:
 * a machine that cannot record this way fails here (UnsupportedError), so
 * `--source auto` can still pick notify.
 */
export function prepareBpfCommand(): PreparedBpfCommand {
  const programs = BpfPrograms.open();
  let cgroup;
  try {
    cgroup = createPrivateCgroup(`record-${process.pid}-${randomBytes(4).toString('hex')}`);
    programs.add(cgroup.id);
  } catch (err) {
    cgroup?.remove();
    programs.close();
    throw err;
  }
  return { run: (opts) => runInCgroup(programs, cgroup, opts) };
}

export async function recordCommandBpf(opts: RecordCommandOptions): Promise<CommandRecording> {
  return prepareBpfCommand().run(opts);
}

async function runInCgroup(programs: BpfPrograms, cgroup: PrivateCgroup, opts: RecordCommandOptions): Promise<CommandRecording> {
  try {
    const result = await launch({ command: opts.command, filter: false, cgroupDir: cgroup.dir, listener: false, logger: opts.logger });
    if (isPopulated(cgroup.dir)) {
      // The command exited; descendants it left behind are still recorded until they are gone.
      const timer = setTimeout(() => opts.onWaitingForDescendants?.(), 1000);
      const wait = waitUntilEmpty(cgroup.dir);
      const onSignal = () => wait.stop();
      for (const s of STOP_SIGNALS) process.on(s, onSignal);
      const emptied = await wait.done;
      clearTimeout(timer);
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      if (!emptied) result.stoppedEarly = true;
      result.endedAt = new Date();
      result.durationMs = result.endedAt.getTime() - result.startedAt.getTime();
    }
    const read = programs.read(cgroup.id);
    if (!read) throw new NativeError('the recorded cgroup vanished from the BPF map; nothing was recorded');
    opts.logger.debug({ cgroup: cgroup.dir, firstTgid: read.firstTgid, workloadTgid: read.workloadTgid }, 'bpf recording read');
    if (!read.workloadStarted && result.exitCode < 125) {
      throw new NativeError('the bpf programs never saw the command start (no exec in its cgroup); nothing was recorded');
    }
    return commandRecording('bpf', opts.command, result, read.entries, { notifications: 0, lost: read.outOfRange });
  } finally {
    try {
      programs.forget(cgroup.id);
    } catch {
      /* closing below frees the maps anyway */
    }
    cgroup.remove();
    programs.close();
  }
}
