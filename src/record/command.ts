// Records one command through seccomp user-notify: the notify source of
// `record -- CMD`; also builds the Recording every command source returns.
import type { Logger } from 'pino';
import { NativeError } from '../errors.js';
import type { Recording, RecordingSource } from '../profile/recording.js';
import { RECORDING_KIND, RECORDING_VERSION } from '../profile/recording.js';
import { archesOfKernel } from '../seccomp/arch.js';
import { TOOL } from '../version.js';
import type { LaunchResult } from './launch.js';
import { launch } from './launch.js';
import type { RawEntry } from './native.js';
import { nameEntries } from './observations.js';
import { resolveWatches } from './watches.js';

export interface RecordCommandOptions {
  command: string[];
  /** A filter program to install instead of "notify on everything" (incremental recording). */
  bpfFile?: string;
  logger: Logger;
  syncWakeup?: boolean;
  onWaitingForDescendants?: () => void;
}

export interface CommandRecording {
  result: LaunchResult;
  recording: Recording;
  /** Calls on an arch we cannot name (should not happen on known kernels). */
  unknownArchCalls: number;
}

/** The Recording of one command, from the entries its source counted (workload phase only). */
export function commandRecording(
  source: RecordingSource,
  command: string[],
  result: LaunchResult,
  entries: RawEntry[],
  stats: Recording['stats'],
): CommandRecording {
  const { observations, unknownArch } = nameEntries(entries.filter((e) => e.phase === 'workload'));
  const arches = [...new Set(observations.map((o) => o.arch))].sort();
  const recording: Recording = {
    kind: RECORDING_KIND,
    version: RECORDING_VERSION,
    identity: { command },
    arches,
    startedAt: result.startedAt.toISOString(),
    endedAt: result.endedAt.toISOString(),
    exit: { code: result.exitCode, signal: result.signal },
    tool: { ...TOOL },
    source,
    observations,
    stats,
  };
  return { result, recording, unknownArchCalls: unknownArch.reduce((n, e) => n + e.count, 0) };
}

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
