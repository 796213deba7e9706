// What every command source (notify, bpf) returns for `record -- CMD`: the
// options it takes and the Recording it builds from the entries it counted.
import type { Logger } from 'pino';
import type { Recording, RecordingSource } from '../profile/recording.js';
import { RECORDING_KIND, RECORDING_VERSION } from '../profile/recording.js';
import { TOOL } from '../version.js';
import type { LaunchResult } from './launch.js';
import type { RawEntry } from './native.js';
import { nameEntries } from './observations.js';

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
