// `record --known P`: only calls outside P reach the supervisor. P is
// compiled (libseccomp) into a filter that ALLOWs what P allows, conditions
// included, and NOTIFYs the rest, on P's architectures; calls on any other
// architecture take the bad-arch action, which is NOTIFY too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NativeError } from '../errors.js';
import { knownFilterProfile, knownUnconditionally } from '../profile/known.js';
import type { Profile } from '../profile/model.js';
import type { Observation } from '../profile/recording.js';
import { nativeArchName } from '../seccomp/arch.js';
import { compileProfile } from '../seccomp/compile.js';

export interface KnownFilter {
  bpfFile: string;
  instructions: number;
  cleanup(): void;
}

/** Writes the incremental recording filter for the known profiles to a temp file. */
export function buildKnownFilter(known: Profile[], logger: Logger): KnownFilter {
  const filterProfile = knownFilterProfile(known);
  const arches = filterProfile.architectures.length ? filterProfile.architectures : [nativeArchName()];
  const compiled = compileProfile(filterProfile, { arches, badArch: { kind: 'notify' } });
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
