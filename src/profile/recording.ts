// The Recording: what one run (or one container, or one image across runs) was
// seen to call. Sources in src/record produce it; the generator consumes it.
// Saved as versioned JSON; loading checks every field and names the bad one.
import { archByName } from '../seccomp/arch.js';
import { InputError } from '../errors.js';
import { describe, isRecord, parseJsonDocument, Problems } from './json-input.js';

export const RECORDING_KIND = 'seccomp-recorder/recording';
export const RECORDING_VERSION = 1;

/** Distinct values seen for the watched arguments of one syscall. */
export interface ArgValues {
  /** What each position holds, e.g. ["domain"] or ["level", "optname"]. */
  names: string[];
  /** Each entry one distinct tuple, numbers as 0x-prefixed hex strings. */
  values: string[][];
  /** More distinct tuples were seen than were kept. */
  overflowed: boolean;
}

export interface Observation {
  /** libseccomp arch name (`x86_64`, `x86`, `x32`, ...). */
  arch: string;
  /** Name per libseccomp; absent when libseccomp cannot name the number. */
  syscall?: string;
  nr: number;
  count: number;
  args?: ArgValues;
  /** Seen only before the workload's first exec (a runtime's own calls). */
  runtimeOnly?: boolean;
}

export interface Identity {
  command?: string[];
  image?: string;
  container?: string;
  pod?: string;
  namespace?: string;
}

/** How the calls were seen. */
export type RecordingSource = 'notify' | 'bpf' | 'audit';

export interface Recording {
  kind: typeof RECORDING_KIND;
  version: typeof RECORDING_VERSION;
  identity: Identity;
  /** Architectures calls were seen on, sorted. */
  arches: string[];
  startedAt: string;
  endedAt: string;
  exit?: { code: number | null; signal: string | null };
  tool: { name: string; version: string };
  /** Which source recorded (absent in recordings made before sources were named). */
  source?: RecordingSource;
  /** Sorted by arch, then name (unnamed last, by number). */
  observations: Observation[];
  stats: { notifications: number; lost: number };
}

export function sortObservations(list: Observation[]): Observation[] {
  return list.sort(
    (a, b) =>
      a.arch.localeCompare(b.arch) ||
      (a.syscall === undefined ? 1 : 0) - (b.syscall === undefined ? 1 : 0) ||
      (a.syscall ?? '').localeCompare(b.syscall ?? '') ||
      a.nr - b.nr,
  );
}

/** Names recorded on each arch (numbers libseccomp cannot name are left out). */
export function namesByArch(rec: Recording): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of rec.observations) {
    if (!o.syscall) continue;
    if (!out.has(o.arch)) out.set(o.arch, new Set());
    out.get(o.arch)!.add(o.syscall);
  }
  return out;
}

export function serializeRecording(rec: Recording): string {
  return `${JSON.stringify(rec, null, 2)}\n`;
}

function checkObservation(o: unknown, path: string, problems: Problems): void {
  if (!isRecord(o)) return problems.add(path, `expected an object, got ${describe(o)}`);
  if (typeof o.arch !== 'string' || !archByName(o.arch)) problems.add(`${path}.arch`, `unknown architecture ${describe(o.arch)}`);
  if (o.syscall !== undefined && (typeof o.syscall !== 'string' || !/^[a-z0-9_]+$/.test(o.syscall)))
    problems.add(`${path}.syscall`, `not a syscall name: ${describe(o.syscall)}`);
  if (typeof o.nr !== 'number' || !Number.isInteger(o.nr)) problems.add(`${path}.nr`, `expected an integer, got ${describe(o.nr)}`);
  if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0)
    problems.add(`${path}.count`, `expected a count, got ${describe(o.count)}`);
  if (o.args !== undefined) {
    const a = o.args;
    if (!isRecord(a) || !Array.isArray(a.names) || !Array.isArray(a.values) || typeof a.overflowed !== 'boolean')
      problems.add(`${path}.args`, 'expected {names, values, overflowed}');
    else
      a.values.forEach((t, i) => {
        if (!Array.isArray(t) || t.some((x) => typeof x !== 'string' || !/^0x[0-9a-f]+$/.test(x)))
          problems.add(`${path}.args.values[${i}]`, 'expected a list of hex strings');
      });
  }
}

/** Parses a saved recording; throws InputError naming every bad field. */
export function parseRecording(text: string, file: string): Recording {
  const doc = parseJsonDocument(text, file);
  const problems = new Problems();
  if (!isRecord(doc)) throw new InputError(file, [`expected a recording object, got ${describe(doc)}`]);
  if (doc.kind !== RECORDING_KIND) problems.add('kind', `expected "${RECORDING_KIND}", got ${describe(doc.kind)}`);
  if (doc.version !== RECORDING_VERSION) problems.add('version', `unsupported version ${describe(doc.version)} (this tool reads ${RECORDING_VERSION})`);
  if (!isRecord(doc.identity)) problems.add('identity', 'expected an object');
  if (!Array.isArray(doc.arches) || doc.arches.some((a) => typeof a !== 'string' || !archByName(a)))
    problems.add('arches', 'expected a list of architecture names such as "x86_64"');
  for (const k of ['startedAt', 'endedAt'] as const) if (typeof doc[k] !== 'string') problems.add(k, 'expected a timestamp string');
  if (!isRecord(doc.tool)) problems.add('tool', 'expected an object');
  if (!isRecord(doc.stats)) problems.add('stats', 'expected an object');
  if (!Array.isArray(doc.observations)) problems.add('observations', 'expected a list');
  else doc.observations.forEach((o, i) => checkObservation(o, `observations[${i}]`, problems));
  problems.throwIfAny(file);
  return doc as unknown as Recording;
}
