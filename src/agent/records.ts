// What the agent journals: one record per event, self-contained (a record
// never needs an earlier one to be applied, so a compaction can fall between
// any two). Replay re-checks every record's shape before applying it.
import { isRecord } from '../profile/json-input.js';
import type { Observation } from '../profile/recording.js';
import { archByName } from '../seccomp/arch.js';
import type { ContainerIdentity, IdentitySource } from './identity.js';

import type { Phase } from '../record/container-source.js';

export type { Phase };

/** Where a container sits inside its image: per name and per namespace. */
export interface GroupRef {
  namespace?: string;
  name?: string;
}

/** A container was attributed to an image. */
export interface ContainerRecord extends GroupRef {
  k: 'container';
  at: string;
  container: string;
  image: string;
  source: IdentitySource;
  pod?: string;
  runtime: string;
  /** Syscalls its recording profile let through unobserved. */
  uncovered: string[];
  /** It ran privileged (no seccomp, every capability): its profile applies only once it is not. */
  privileged?: boolean;
}

/** Calls drained from one container's listener since the last drain. */
export interface CallsRecord extends GroupRef {
  k: 'calls';
  at: string;
  container: string;
  image: string;
  runtime: string;
  phase: Phase;
  calls: Observation[];
}

/** The calls record for one container and phase, whichever source (notify, audit) saw them. */
export function callsRecord(identity: ContainerIdentity, runtime: string, phase: Phase, calls: Observation[], at: string): CallsRecord {
  return {
    k: 'calls',
    at,
    container: identity.containerId,
    image: identity.image,
    ...(identity.namespace ? { namespace: identity.namespace } : {}),
    ...(identity.name ? { name: identity.name } : {}),
    runtime,
    phase,
    calls,
  };
}

export interface EndRecord {
  k: 'end';
  at: string;
  container: string;
  image: string;
  notifications: number;
  lost: number;
}

/** A container picked up already running: its calls from `from` (unknown: from its start) to `to` were not seen. */
export interface GapRecord {
  k: 'gap';
  at: string;
  container: string;
  image: string;
  from?: string;
  to: string;
}

export interface ResetRecord {
  k: 'reset';
  at: string;
  image: string;
}

export type JournalRecord = ContainerRecord | CallsRecord | EndRecord | GapRecord | ResetRecord;

const str = (v: unknown) => typeof v === 'string' && v.length > 0;
const optStr = (v: unknown) => v === undefined || typeof v === 'string';
const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function isObservation(o: unknown): o is Observation {
  if (!isRecord(o) || typeof o.arch !== 'string' || !archByName(o.arch)) return false;
  if (typeof o.nr !== 'number' || !Number.isInteger(o.nr) || !count(o.count)) return false;
  if (o.syscall !== undefined && (typeof o.syscall !== 'string' || !/^[a-z0-9_]+$/.test(o.syscall))) return false;
  if (o.args !== undefined) {
    const a = o.args;
    if (!isRecord(a) || !Array.isArray(a.names) || !Array.isArray(a.values) || typeof a.overflowed !== 'boolean') return false;
    if (a.values.some((t) => !Array.isArray(t) || t.some((x) => typeof x !== 'string'))) return false;
  }
  return true;
}

/** Why the value is not a record this version writes, or undefined when it is one. */
export function recordProblem(r: unknown): string | undefined {
  if (!isRecord(r)) return 'not an object';
  if (!str(r.at)) return 'no timestamp';
  if (!str(r.image)) return 'no image';
  switch (r.k) {
    case 'container':
      if (!str(r.container) || !str(r.source) || !str(r.runtime) || !Array.isArray(r.uncovered)) return 'container record incomplete';
      if (!optStr(r.name) || !optStr(r.namespace) || !optStr(r.pod)) return 'container record has a bad name';
      if (r.privileged !== undefined && typeof r.privileged !== 'boolean') return 'container record has a bad privileged flag';
      return undefined;
    case 'calls':
      if (!str(r.container) || !str(r.runtime) || (r.phase !== 'workload' && r.phase !== 'runtime')) return 'calls record incomplete';
      if (!Array.isArray(r.calls) || !r.calls.every(isObservation)) return 'calls record has a bad observation';
      return undefined;
    case 'end':
      return str(r.container) && count(r.notifications) && count(r.lost) ? undefined : 'end record incomplete';
    case 'gap':
      return str(r.container) && str(r.to) && optStr(r.from) ? undefined : 'gap record incomplete';
    case 'reset':
      return undefined;
    default:
      return `unknown record kind ${JSON.stringify(r.k)}`;
  }
}
