// `record --known P`: only calls outside P reach the supervisor. P is
// compiled (libseccomp) into a filter that ALLOWs what P allows, conditions
// included, and NOTIFYs the rest, on P's architectures; calls on any other
// architecture take the bad-arch action, which is NOTIFY too. With call counts
// (a saved recording of the workload), the names called most often are tested
// first: the filter runs on every call, and libseccomp's own order tests the
// highest numbers first (read and write, 0 and 1 on x86_64, last).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NativeError } from '../errors.js';
import { knownFilterProfile, knownUnconditionally } from '../profile/known.js';
import type { Profile } from '../profile/model.js';
import type { Observation, Recording } from '../profile/recording.js';
import { nativeArchName } from '../seccomp/arch.js';
import { compileProfile } from '../seccomp/compile.js';

export interface KnownFilter {
  bpfFile: string;
  instructions: number;
  cleanup(): void;
}

/** Syscall names of the native arch by how often the recordings saw them, most first (ties by name). */
export function hottestFirst(recordings: Recording[]): string[] {
  const arch = nativeArchName();
  const counts = new Map<string, number>();
  for (const r of recordings)
    for (const o of r.observations) if (o.arch === arch && o.syscall) counts.set(o.syscall, (counts.get(o.syscall) ?? 0) + o.count);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
}

/** Writes the incremental recording filter for the known profiles to a temp file; `hottest` names are tested first. */
export function buildKnownFilter(known: Profile[], logger: Logger, hottest: string[] = []): KnownFilter {
  const filterProfile = knownFilterProfile(known);
  const arches = filterProfile.architectures.length ? filterProfile.architectures : [nativeArchName()];
  const compiled = compileProfile(filterProfile, { arches, badArch: { kind: 'notify' }, hottestFirst: hottest });
  if (compiled.problems.length) {
    throw new NativeError(`cannot compile the known profile: ${compiled.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  if (compiled.skippedUnknown.length) {
    logger.warn({ names: compiled.skippedUnknown }, 'names libseccomp does not know are not pre-allowed (they are recorded when called)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'seccomp-recorder-known-'));
  const bpfFile = join(dir, 'filter.bpf');
  writeFileSync(bpfFile, compiled.bpf, { mode: 0o600 });
  return { bpfFile, instructions: compiled.instructions, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Observations the known profiles do not cover: a new name, a new arch, or a call outside P's conditions. */
export function newObservations(known: Profile[], observations: Observation[]): Observation[] {
  return observations.filter((o) => !o.syscall || !knownUnconditionally(known, o.arch, o.syscall));
}
