// Resolving a profile's syscall names on the filter's arches, as `validate`
// reports them: how many take effect per arch, which the arch lacks, which
// libseccomp does not know at all (and what skipping those does to the profile).
import { archByName } from './arch.js';
import type { FilterProfile } from './filter-model.js';
import { isAllowingAction } from './filter-model.js';
import { actionValue, effectiveDefaultAction, effectiveRuleAction } from './runc-policy.js';
import { archToken } from './libseccomp.js';
import { SeccompError } from '../errors.js';
import { knownToLibseccomp, syscallExistence } from './syscall-exists.js';

export interface ArchNames {
  arch: string;
  /** Distinct names with a number on this arch. */
  resolved: number;
  /** Names libseccomp knows but this arch lacks. */
  absent: string[];
}

export interface NameReport {
  perArch: ArchNames[];
  /** Names libseccomp knows on no architecture at all (typos, or newer than this libseccomp). */
  unknown: string[];
  /** Known names that exist on none of the given arches. */
  absentEverywhere: string[];
}

/** Resolves every rule name on every arch given (existence as syscall-exists.ts defines it). */
export function resolveNames(profile: FilterProfile, arches: string[]): NameReport {
  const names = [...new Set(profile.rules.flatMap((r) => r.names))].sort();
  const unknown = names.filter((n) => !knownToLibseccomp(n));
  const perArch = arches.map((arch) => {
    if (!archByName(arch) || archToken(arch) === undefined) throw new SeccompError(`libseccomp does not know the architecture ${arch}`, 'EINVAL');
    let resolved = 0;
    const absent: string[] = [];
    for (const n of names) {
      const e = syscallExistence(arch, n);
      if (e === 'exists') resolved++;
      else if (e === 'absent') absent.push(n);
    }
    return { arch, resolved, absent };
  });
  const absentEverywhere = names.filter((n) => !unknown.includes(n) && perArch.every((p) => p.absent.includes(n)));
  return { perArch, unknown, absentEverywhere };
}

/** A name libseccomp does not know, where a rule uses it, and what runc skipping it does. */
export interface UnknownNameUse {
  /** Index in profile.rules (`syscalls[ruleIndex].names[nameIndex]`). */
  ruleIndex: number;
  nameIndex: number;
  name: string;
  /**
   * 'warning': skipping it only makes the profile stricter here, or changes how
   * a denied call fails; 'error': the rule denies what the default allows, so
   * skipping it silently loosens the profile.
   */
  severity: 'warning' | 'error';
  message: string;
}

/**
 * Every use of a name libseccomp does not know, weighed by what its rule does
 * against the default (runc skips such names; so does `run`). A rule whose
 * action equals the default is skipped whole by runc and says nothing here.
 */
export function unknownNameUses(profile: FilterProfile, libseccompVersion: string): UnknownNameUse[] {
  const def = effectiveDefaultAction(profile);
  const defValue = actionValue(def);
  const out: UnknownNameUse[] = [];
  profile.rules.forEach((rule, ruleIndex) => {
    const action = effectiveRuleAction(rule.action);
    if (actionValue(action) === defValue) return;
    rule.names.forEach((name, nameIndex) => {
      if (knownToLibseccomp(name)) return;
      const where = { ruleIndex, nameIndex, name };
      const unknown = `libseccomp ${libseccompVersion} does not know it`;
      if (isAllowingAction(action.kind) && !isAllowingAction(def.kind))
        out.push({ ...where, severity: 'warning', message: `${JSON.stringify(name)} not allowed here: ${unknown} (runc skips the name, so the default ${def.kind} applies: stricter than written)` });
      else if (!isAllowingAction(action.kind) && isAllowingAction(def.kind))
        out.push({ ...where, severity: 'error', message: `${JSON.stringify(name)} not denied here: ${unknown}, and runc skips the name, so the default ${def.kind} lets it through: the profile is looser than written` });
      else
        out.push({ ...where, severity: 'warning', message: `${JSON.stringify(name)}: ${unknown}; runc skips the name, so the default ${def.kind} applies instead of this rule's ${action.kind}` });
    });
  });
  return out;
}
