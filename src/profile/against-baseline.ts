// `validate --against-baseline`: what the profile allows that a runtime
// default (resolved for the same target) would deny. Each finding is a warning
// on the profile's rule, naming the syscalls and the conditions concerned.
import { effectiveDefaultAction, runcRuleAdds } from '../seccomp/runc-policy.js';
import { callVerdict, isAllowingAction, rulesFor } from './baseline.js';
import type { Finding } from './lint.js';
import { formatAction, formatCondition, sortFindings } from './lint.js';
import type { Condition, Profile } from './model.js';
import { conditionsEqual } from './model.js';

/** Whether the baseline allows `name` under a subset of `conditions` and denies it by no rule of its own. */
function coveredByBaselineRule(baseline: Profile, name: string, conditions: Condition[]): boolean {
  const rules = rulesFor(baseline, name);
  if (rules.some((r) => !isAllowingAction(r.action.kind))) return false;
  return rules.some((r) => r.args.every((c) => conditions.some((d) => conditionsEqual(c, d))));
}

/** Both profiles plain (resolved); paths name the profile's rules. */
export function checkAgainstBaseline(profile: Profile, baseline: Profile): Finding[] {
  const out: Finding[] = [];
  const path = (i: number) => `syscalls[${i}]`;
  // Group per (rule, condition text, verdict) so one rule naming 40 syscalls gives one line.
  const groups = new Map<string, { rule: number; when: string; verdict: 'denied' | 'unknown'; action: string; names: Set<string> }>();
  for (const add of runcRuleAdds(profile)) {
    if (add.equalsDefault || !isAllowingAction(add.action.kind)) continue;
    const pinned = new Map<number, bigint>();
    for (const c of add.conditions) if (c.op === 'eq') pinned.set(c.index, c.value);
    let verdict = callVerdict(baseline, add.name, pinned);
    // A condition the baseline itself allows under (socket arg0 != 40 in both) is as tight as the baseline.
    if (verdict === 'unknown' && coveredByBaselineRule(baseline, add.name, add.conditions)) verdict = 'allowed';
    if (verdict === 'allowed') continue;
    const when = add.conditions.map(formatCondition).join(' and ');
    const key = `${add.ruleIndex}\u0000${when}\u0000${verdict}`;
    const g = groups.get(key) ?? { rule: add.ruleIndex, when, verdict, action: formatAction(add.action), names: new Set<string>() };
    g.names.add(add.name);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const names = [...g.names].sort().join(', ');
    const scope = g.when ? `when ${g.when}` : 'with any arguments';
    out.push({
      severity: 'warning',
      path: path(g.rule),
      code: 'looser-than-baseline',
      message:
        g.verdict === 'denied'
          ? `allows ${names} ${scope} (${g.action}), which the baseline denies`
          : `allows ${names} ${scope} (${g.action}); the baseline allows ${g.names.size > 1 ? 'them' : 'it'} only with certain arguments`,
    });
  }
  if (isAllowingAction(profile.defaultAction.kind) && !isAllowingAction(baseline.defaultAction.kind)) {
    const named = new Set(profile.rules.flatMap((r) => r.names));
    const explicit = [...new Set(baseline.rules.filter((r) => !isAllowingAction(r.action.kind)).flatMap((r) => r.names))]
      .filter((n) => !named.has(n) && !rulesFor(baseline, n).some((r) => isAllowingAction(r.action.kind) && !r.args.length))
      .sort();
    out.push({
      severity: 'warning',
      path: 'defaultAction',
      code: 'looser-than-baseline',
      message:
        `${formatAction(effectiveDefaultAction(profile))} allows every syscall no rule names; the baseline denies those by default (${formatAction(effectiveDefaultAction(baseline))})` +
        (explicit.length ? `, and denies explicitly: ${explicit.join(', ')}` : ''),
    });
  }
  return sortFindings(out);
}
