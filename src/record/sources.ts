// The command sources behind one interface: `record` asks for one by name and
// never branches on which ran. `auto` is bpf as root where the programs load,
// notify otherwise (with the reason logged).
import type { Logger } from 'pino';
import { UsageError } from '../errors.js';
import { UnsupportedError } from '../errors.js';
import { bpfStatus } from './bpf/status.js';
import { prepareBpfCommand, recordCommandBpf } from './bpf/command.js';
import type { CommandRecording, RecordCommandOptions } from './command.js';
import { recordCommand } from './notify/command.js';

export type SourceChoice = 'auto' | 'notify' | 'bpf';
export const SOURCE_CHOICES: readonly SourceChoice[] = ['auto', 'notify', 'bpf'];

export interface CommandSource {
  readonly name: SourceChoice;
  record(opts: RecordCommandOptions): Promise<CommandRecording>;
}

const notify: CommandSource = { name: 'notify', record: recordCommand };
const bpf: CommandSource = { name: 'bpf', record: recordCommandBpf };

/** Why the bpf source cannot run here, or undefined when it can (loads and detaches the programs once). */
export function bpfUnavailableReason(): string | undefined {
  const status = bpfStatus();
  return status.ok ? undefined : status.detail;
}

export function commandSource(choice: string, logger: Logger): CommandSource {
  switch (choice) {
    case 'notify':
      return notify;
    case 'bpf':
      return bpf;
    case 'auto':
      return {
        name: 'auto',
        async record(opts) {
          let prepared;
          try {
            prepared = prepareBpfCommand();
          } catch (err) {
            if (!(err instanceof UnsupportedError)) throw err;
            logger.debug({ reason: err.message }, 'the bpf source cannot run here; recording through notify');
          }
          return prepared ? prepared.run(opts) : recordCommand(opts);
        },
      };
    default:
      throw new UsageError(`--source must be one of ${SOURCE_CHOICES.join(', ')}, not "${choice}"`);
  }
}
