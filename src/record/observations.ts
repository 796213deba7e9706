// Turns the native session's drained entries (audit arch, number, count,
// argument tuples) into named Observations. Names come from libseccomp for
// the call's own arch, so a compat call never borrows the 64-bit name.
import type { Observation } from '../profile/recording.js';
import { sortObservations } from '../profile/recording.js';
import { archOfCall } from '../seccomp/arch.js';
import { archToken, syscallName } from '../seccomp/libseccomp.js';
import type { RawEntry } from './native.js';
import { WATCHED } from './watches.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;

export interface NamedEntries {
  observations: Observation[];
  /** Entries whose arch is not one we know (kept out of observations, reported). */
  unknownArch: RawEntry[];
}

export function nameEntries(entries: RawEntry[]): NamedEntries {
  const observations: Observation[] = [];
  const unknownArch: RawEntry[] = [];
  for (const e of entries) {
    const arch = archOfCall(e.arch >>> 0, e.nr);
    const token = arch ? archToken(arch.name) : undefined;
    if (!arch || token === undefined) {
      unknownArch.push(e);
      continue;
    }
    const name = syscallName(token, e.nr);
    const o: Observation = { arch: arch.name, nr: e.nr, count: e.count };
    if (name) o.syscall = name;
    if (e.args) {
      const spec = WATCHED.find((w) => w.syscall === name);
      const width = spec?.names.length ?? 1;
      o.args = {
        names: spec ? [...spec.names] : ['arg'],
        values: e.args.map((pair) => pair.slice(0, width).map(hex)).sort(),
        overflowed: e.overflowed === true,
      };
    }
    observations.push(o);
  }
  return { observations: sortObservations(observations), unknownArch };
}
