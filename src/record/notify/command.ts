// The notify source of `record -- CMD`: the launcher installs a user-notify
// filter, the native session answers and counts every call in C, and the
// counted entries become the command's Recording.
import { NativeError } from '../../errors.js';
import { archesOfKernel } from '../../seccomp/arch.js';
import type { CommandRecording, RecordCommandOptions } from '../command.js';
import { commandRecording } from '../command.js';
import { launch } from '../launch.js';
import { resolveWatches } from '../watches.js';

export async function recordCommand(opts: RecordCommandOptions): Promise<CommandRecording> {
  const watches = resolveWatches(archesOfKernel());
  const result = await launch({
    command: opts.command,
    bpfFile: opts.bpfFile,
    listener: true,
    watches,
    syncWakeup: opts.syncWakeup,
    logger: opts.logger,
    onWaitingForDescendants: opts.onWaitingForDescendants,
  });
  if (!result.session || result.session.attached !== 1) {
    throw new NativeError('the command ended before its listener could be taken; nothing was recorded');
  }
  return commandRecording('notify', opts.command, result, result.entries, {
    notifications: result.session.notifications,
    lost: result.session.lost,
  });
}
