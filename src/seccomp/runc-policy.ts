// runc's policy for turning a profile into libseccomp calls (InitSeccomp in
// libcontainer/seccomp): which action value each rule gets, which errno a bare
// ERRNO means, which rules it skips, which arches the filter holds. Shared by
// compile.ts, the lint, the baseline checks and `run`, so all of them agree
// with what a container would get.
import { nativeArchName } from './arch.js';
import type { Action, Condition, FilterProfile } from './filter-model.js';
import { SCMP_ACT } from './libseccomp.js';

const EPERM = 1;

/** The action as runc hands it to libseccomp; `ret` falls back to `fallbackRet`. */
export function actionValue(a: Action, fallbackRet = EPERM): number {
  switch (a.kind) {
    case 'kill-process':
      return SCMP_ACT.KILL_PROCESS >>> 0;
    case 'kill-thread':
      return SCMP_ACT.KILL_THREAD;
    case 'trap':
      return SCMP_ACT.TRAP;
    case 'errno':
      return SCMP_ACT.errno(a.ret ?? fallbackRet);
    case 'trace':
      return SCMP_ACT.trace(a.ret ?? fallbackRet);
    case 'log':
      return SCMP_ACT.LOG;
    case 'allow':
      return SCMP_ACT.ALLOW;
    case 'notify':
      return SCMP_ACT.NOTIFY;
  }
}

/** The default action with its errno as runc computes it. */
export function effectiveDefaultAction(profile: FilterProfile): Action {
  const kind = profile.defaultAction.kind;
  if (kind === 'errno' || kind === 'trace') return { kind, ret: profile.defaultAction.ret ?? profile.defaultErrnoRet ?? EPERM };
  return { kind };
}

/** A rule's action with its errno as runc computes it (EPERM when it has none). */
export function effectiveRuleAction(a: Action): Action {
  if (a.kind === 'errno' || a.kind === 'trace') return { kind: a.kind, ret: a.ret ?? EPERM };
  return { kind: a.kind };
}

/** One seccomp_rule_add_array call runc makes (or skips). */
export interface RuleAdd {
  /** Index in profile.rules; the path is `syscalls[ruleIndex]`. */
  ruleIndex: number;
  name: string;
  action: Action;
  value: number;
  /** ANDed by libseccomp. */
  conditions: Condition[];
  /** The rule had several conditions on one argument, so runc made one rule per condition. */
  split: boolean;
  /** runc does not add it: its action equals the default one. */
  equalsDefault: boolean;
}

/** Every rule runc derives from the profile, in the order it adds them. */
export function runcRuleAdds(profile: FilterProfile): RuleAdd[] {
  const def = actionValue(effectiveDefaultAction(profile));
  const out: RuleAdd[] = [];
  profile.rules.forEach((rule, ruleIndex) => {
    const action = effectiveRuleAction(rule.action);
    const value = actionValue(action);
    const perIndex = new Map<number, number>();
    for (const c of rule.args) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
    const split = [...perIndex.values()].some((n) => n > 1);
    const groups = split ? rule.args.map((c) => [c]) : [rule.args];
    for (const name of rule.names) {
      for (const conditions of groups) out.push({ ruleIndex, name, action, value, conditions, split, equalsDefault: value === def });
    }
  });
  return out;
}

/** The arches runc's filter holds on this machine: native first, then the profile's. */
export function runcArches(profile: FilterProfile): string[] {
  const native = nativeArchName();
  return [native, ...profile.architectures.filter((a) => a !== native)];
}
