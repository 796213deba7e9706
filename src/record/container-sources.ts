// The agent's container sources by name, the one place that knows them all:
// `auto` is bpf as root where the programs load, notify otherwise (logged).
import type { Logger } from 'pino';
import { UsageError } from '../errors.js';
import { AuditContainerSource } from './audit/container-source.js';
import type { AuditSourceOptions } from './audit/source.js';
import { AuditSource } from './audit/source.js';
import { BpfContainerSource } from './bpf/container-source.js';
import type { BpfContainerSourceOptions } from './bpf/container-source.js';
import type { ContainerSource } from './container-source.js';
import { NotifyContainerSource } from './notify/container-source.js';
import { bpfUnavailableReason } from './sources.js';

export const CONTAINER_SOURCES = ['auto', 'bpf', 'notify', 'audit'] as const;
export type ContainerSourceName = (typeof CONTAINER_SOURCES)[number];

export interface ContainerSourceOptions {
  /** notify: the runtime socket recording profiles name as listenerPath. */
  socketPath: string;
  audit?: AuditSourceOptions;
  bpf?: BpfContainerSourceOptions;
  logger: Logger;
}

export function containerSource(name: string, opts: ContainerSourceOptions): ContainerSource {
  switch (name) {
    case 'auto': {
      const why = bpfUnavailableReason();
      if (!why) return new BpfContainerSource(opts.bpf);
      opts.logger.info({ reason: why }, 'the bpf source cannot run here; recording containers through notify (runtime socket)');
      return new NotifyContainerSource(opts.socketPath);
    }
    case 'bpf':
      return new BpfContainerSource(opts.bpf);
    case 'notify':
      return new NotifyContainerSource(opts.socketPath);
    case 'audit':
      return new AuditContainerSource(new AuditSource({ ...opts.audit, logger: opts.logger }));
    default:
      throw new UsageError(`--source must be one of ${CONTAINER_SOURCES.join(', ')}, not "${name}"`);
  }
}
