// The minimal profile of a recording: ERRNO(EPERM) by default, one ALLOW rule
// with every recorded name, architectures as recorded. Numbers libseccomp
// could not name cannot be written in a profile; they are returned apart.
// withEquivalents adds the siblings of what was recorded (equivalents.ts).
import { isAllowingAction, rulesFor } from './baseline.js';
import { EQUIVALENTS_COMMENT, siblingsToAdd } from './equivalents.js';
import type { Profile, Rule } from './model.js';
import { allowListProfile } from './model.js';
import type { Observation, Recording } from './recording.js';

export interface MinimalResult {
  profile: Profile;
  unnamed: Observation[];
}

export function minimalProfile(rec: Recording): MinimalResult {
  const names = rec.observations.filter((o) => o.syscall).map((o) => o.syscall!);
  const unnamed = rec.observations.filter((o) => !o.syscall);
  return { profile: allowListProfile(rec.arches, names), unnamed };
}

export interface EquivalentsAdded {
  profile: Profile;
  /** Siblings added, each with the recorded names it stands in for. */
  added: { syscall: string; for: string[] }[];
}

/**
 * The minimal profile plus the equivalents of what was recorded
 * (equivalents.ts), in their own marked rule. `baseline` (resolved for the
 * recording's arches) keeps out siblings the runtime default denies; siblings
 * it allows only under argument conditions are left out too, as a minimal
 * profile carries no conditions.
 */
export function withEquivalents(minimal: Profile, rec: Recording, baseline?: Profile): EquivalentsAdded {
  const recorded = new Set(rec.observations.filter((o) => o.syscall).map((o) => o.syscall!));
  const arches = minimal.architectures;
  const treatment = (name: string): 'plain' | 'conditional' | 'denied' => {
    if (recorded.has(name) || !baseline) return 'plain';
    const allowing = rulesFor(baseline, name).filter((r) => isAllowingAction(r.action.kind));
    if (allowing.some((r) => r.args.length === 0)) return 'plain';
    if (allowing.length) return 'denied';
    return isAllowingAction(baseline.defaultAction.kind) && !rulesFor(baseline, name).length ? 'plain' : 'denied';
  };
  const choice = siblingsToAdd({ recorded, arches, treatment });
  const added = [...choice.added].map(([syscall, forNames]) => ({ syscall, for: forNames }));
  if (!added.length) return { profile: minimal, added };
  const rule: Rule = { names: added.map((a) => a.syscall), action: { kind: 'allow' }, args: [], comment: EQUIVALENTS_COMMENT };
  return { profile: { ...minimal, rules: [...minimal.rules, rule] }, added };
}
