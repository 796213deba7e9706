// Docker/moby-shaped profiles (`includes`/`excludes`, `archMap`) resolved for
// one machine, as moby would for a default container there: its arches, Docker's
// default capabilities, its kernel. Keeps track of which rule of the file each
// resolved rule came from, so findings can name the file's own paths.
import { release } from 'node:os';
import { archesOfKernel } from '../seccomp/arch.js';
import type { BaselineTarget } from './baseline.js';
import { DOCKER_DEFAULT_CAPS, isConditionalProfile, resolveBaselineWithNotes } from './baseline.js';
import type { Profile } from './model.js';

/** This machine: native arch and its compat ABIs (or `arches`), Docker's default caps, running kernel. */
export function machineTarget(arches?: string[]): BaselineTarget {
  return { arches: arches?.length ? arches : archesOfKernel(), caps: [...DOCKER_DEFAULT_CAPS], kernel: release() };
}

export interface ResolvedForTarget {
  profile: Profile;
  /** For each resolved rule, its index in the original profile's rules. */
  sourceRule: number[];
  /** What the resolver could not carry over exactly. */
  notes: string[];
  /** Whether there was anything to resolve. */
  conditional: boolean;
}

// The resolver copies comments through; a private marker in the comment maps
// each resolved rule back to its source, and is removed again afterwards.
const MARK = '\u0000rule:';

export function resolveForTarget(profile: Profile, target: BaselineTarget): ResolvedForTarget {
  if (!isConditionalProfile(profile)) return { profile, sourceRule: profile.rules.map((_, i) => i), notes: [], conditional: false };
  const marked: Profile = { ...profile, rules: profile.rules.map((r, i) => ({ ...r, comment: `${MARK}${i}${MARK}${r.comment ?? ''}` })) };
  const { profile: resolved, notes } = resolveBaselineWithNotes(marked, target);
  const sourceRule: number[] = [];
  resolved.rules = resolved.rules.map((r) => {
    const m = new RegExp(`^${MARK}(\\d+)${MARK}([\\s\\S]*)$`).exec(r.comment ?? '');
    sourceRule.push(m ? Number(m[1]) : -1);
    const rule = { ...r };
    if (m?.[2]) rule.comment = m[2];
    else delete rule.comment;
    return rule;
  });
  // moby takes `architectures` as written when there is no archMap.
  if (!profile.archMap && profile.architectures.length) resolved.architectures = [...profile.architectures];
  resolved.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) resolved.listenerMetadata = profile.listenerMetadata;
  if (resolved.listenerPath === undefined) delete resolved.listenerPath;
  return { profile: resolved, sourceRule, notes, conditional: true };
}
