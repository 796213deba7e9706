// Runtime base sets: the syscalls runc or crun make after installing the
// container's filter and before the workload runs, measured by
// scripts/measure-runtime-base into profiles/base/<runtime>-<version>.json.
// Loading picks the exact version or the nearest one, and says which.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../errors.js';
import { archByName } from '../seccomp/arch.js';
import { describe, isRecord, parseJsonDocument, Problems } from './json-input.js';
import { readInput } from './load.js';

export const RUNTIME_BASE_KIND = 'seccomp-recorder/runtime-base';
export const RUNTIME_BASE_VERSION = 1;
export const RUNTIMES = ['runc', 'crun'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Shipped with the package: <package>/profiles/base (from dist/profile or src/profile alike). */
export const DEFAULT_BASE_DIR = fileURLToPath(new URL('../../profiles/base/', import.meta.url));

export interface RuntimeBaseMeasurement {
  /** Whether the container ran with no_new_privs: runc installs the filter later with it. */
  noNewPrivileges: boolean;
  runs: number;
  syscalls: Record<string, string[]>;
}

export interface RuntimeBase {
  kind: typeof RUNTIME_BASE_KIND;
  version: typeof RUNTIME_BASE_VERSION;
  runtime: RuntimeName;
  runtimeVersion: string;
  provenance: {
    tool: string;
    runtimeVersionText: string;
    kernel: string;
    arch: string;
    libseccomp: string;
    date: string;
    command: string[];
  };
  measurements: RuntimeBaseMeasurement[];
  /** Union of the measurements, per libseccomp arch, sorted. */
  syscalls: Record<string, string[]>;
}

const NAME_LIST = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === 'string' && /^[a-z0-9_]+$/.test(n));

function checkSyscallMap(v: unknown, path: string, problems: Problems): void {
  if (!isRecord(v)) return problems.add(path, `expected an object of arch -> names, got ${describe(v)}`);
  for (const [arch, names] of Object.entries(v)) {
    if (!archByName(arch)) problems.add(`${path}.${arch}`, 'unknown architecture');
    else if (!NAME_LIST(names)) problems.add(`${path}.${arch}`, 'expected a list of syscall names');
  }
}

export function parseRuntimeBase(text: string, file: string): RuntimeBase {
  const doc = parseJsonDocument(text, file);
  if (!isRecord(doc)) throw new InputError(file, [`expected a runtime base object, got ${describe(doc)}`]);
  const problems = new Problems();
  if (doc.kind !== RUNTIME_BASE_KIND) problems.add('kind', `expected "${RUNTIME_BASE_KIND}", got ${describe(doc.kind)}`);
  if (doc.version !== RUNTIME_BASE_VERSION) problems.add('version', `unsupported version ${describe(doc.version)}`);
  if (!RUNTIMES.includes(doc.runtime as RuntimeName)) problems.add('runtime', `expected one of ${RUNTIMES.join(', ')}, got ${describe(doc.runtime)}`);
  if (typeof doc.runtimeVersion !== 'string' || !parseVersion(doc.runtimeVersion)) problems.add('runtimeVersion', `expected a version such as "1.1.5", got ${describe(doc.runtimeVersion)}`);
  if (!isRecord(doc.provenance)) problems.add('provenance', 'expected an object');
  if (!Array.isArray(doc.measurements)) problems.add('measurements', 'expected a list');
  else
    doc.measurements.forEach((m, i) => {
      if (!isRecord(m)) return problems.add(`measurements[${i}]`, 'expected an object');
      if (typeof m.noNewPrivileges !== 'boolean') problems.add(`measurements[${i}].noNewPrivileges`, 'expected true or false');
      checkSyscallMap(m.syscalls, `measurements[${i}].syscalls`, problems);
    });
  checkSyscallMap(doc.syscalls, 'syscalls', problems);
  problems.throwIfAny(file);
  return doc as unknown as RuntimeBase;
}

export function serializeRuntimeBase(base: RuntimeBase): string {
  return `${JSON.stringify(base, null, 2)}\n`;
}

/** `1.1.5+ds1` -> [1, 1, 5]. */
export function parseVersion(v: string): number[] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export interface BaseChoice {
  base: RuntimeBase;
  file: string;
  exact: boolean;
  /** Set when the version is not the one asked for. */
  warning?: string;
}

/** Base files for a runtime in `dir`, as (version, file), sorted by version. */
export function listRuntimeBases(runtime: RuntimeName, dir = DEFAULT_BASE_DIR): { version: string; file: string }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const re = new RegExp(`^${runtime}-(\\d+\\.\\d+\\.\\d+[^/]*)\\.json$`);
  return entries
    .map((f) => ({ m: re.exec(f), f }))
    .filter((x) => x.m)
    .map((x) => ({ version: x.m![1], file: join(dir, x.f) }))
    .sort((a, b) => compareVersions(parseVersion(a.version)!, parseVersion(b.version)!) || a.version.localeCompare(b.version));
}

/**
 * The base for `runtime` at `version`: exact when measured, else the newest
 * one not above it (a runtime rarely drops start-up calls in patch releases),
 * else the oldest above it. Without a version, the newest.
 */
export function chooseRuntimeBase(runtime: RuntimeName, version: string | undefined, dir = DEFAULT_BASE_DIR): BaseChoice {
  const list = listRuntimeBases(runtime, dir);
  if (!list.length) throw new InputError(dir, [`no measured ${runtime} base set here (expected ${runtime}-<version>.json; run scripts/measure-runtime-base)`]);
  const want = version === undefined ? undefined : parseVersion(version);
  if (version !== undefined && !want) throw new UsageError(`not a version: ${JSON.stringify(version)}`);
  let pick = list[list.length - 1];
  if (want) {
    const exact = list.find((x) => compareVersions(parseVersion(x.version)!, want) === 0);
    const below = list.filter((x) => compareVersions(parseVersion(x.version)!, want) < 0);
    pick = exact ?? below[below.length - 1] ?? list[0];
  }
  const { text, label } = readInput(pick.file);
  const base = parseRuntimeBase(text, label);
  const exact = want !== undefined && compareVersions(parseVersion(base.runtimeVersion)!, want) === 0;
  const choice: BaseChoice = { base, file: pick.file, exact };
  if (!exact) {
    choice.warning =
      version === undefined
        ? `${runtime} version unknown; using the newest measured base set, ${runtime} ${base.runtimeVersion}`
        : `no base set measured for ${runtime} ${version}; using the nearest, ${runtime} ${base.runtimeVersion} (measure yours with scripts/measure-runtime-base)`;
  }
  return choice;
}
