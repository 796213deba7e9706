// Checks for what runtimes would do silently (or refuse late) with a plain,
// resolved profile: rules that libseccomp or runc drop, rules that shadow each
// other, argument conditions runc does not AND, user-notify misuse, errno
// values that are ignored. Each finding is an error or a warning with a reason.
// Works on the rules runc derives from the profile (see seccomp/compile.ts).
import type { RuleAdd } from '../seccomp/runc-policy.js';
import { effectiveDefaultAction, runcRuleAdds } from '../seccomp/runc-policy.js';
import { errnoName } from '../util/errno.js';
import type { Action, Condition, Profile } from './model.js';
import { conditionListsEqual } from './model.js';
import { ACTION_TO_OCI, OPERATOR_TO_OCI } from './names.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  /** JSON path in the profile (`syscalls[3].args`), or '' for the whole profile. */
  path: string;
  message: string;
  /** Stable identifier for machines (CI filters). */
  code: string;
}

const EPERM = 1;
const U64_MAX = (1n << 64n) - 1n;

export function formatAction(a: Action): string {
  const name = ACTION_TO_OCI[a.kind];
  return a.ret === undefined ? name : `${name}(${errnoName(a.ret)})`;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

export function formatCondition(c: Condition): string {
  return c.op === 'masked-eq'
    ? `arg${c.index} ${OPERATOR_TO_OCI[c.op]} ${hex(c.value)} ${hex(c.valueTwo)}`
    : `arg${c.index} ${OPERATOR_TO_OCI[c.op]} ${c.value}`;
}

const rulePath = (i: number) => `syscalls[${i}]`;

/** Whether some 64-bit value satisfies every condition (all on the same argument). */
function satisfiable(conds: Condition[]): boolean {
  let lo = 0n;
  let hi = U64_MAX;
  for (const c of conds) {
    if (c.op === 'eq') [lo, hi] = [c.value > lo ? c.value : lo, c.value < hi ? c.value : hi];
    if (c.op === 'gt') lo = c.value + 1n > lo ? c.value + 1n : lo;
    if (c.op === 'ge') lo = c.value > lo ? c.value : lo;
    if (c.op === 'lt') hi = c.value - 1n < hi ? c.value - 1n : hi;
    if (c.op === 'le') hi = c.value < hi ? c.value : hi;
  }
  if (lo > hi) return false;
  if (lo === hi) {
    for (const c of conds) {
      if (c.op === 'ne' && c.value === lo) return false;
      if (c.op === 'masked-eq' && (lo & c.value) !== c.valueTwo) return false;
    }
  }
  return true;
}

function conditionFindings(profile: Profile, out: Finding[]): void {
  profile.rules.forEach((rule, i) => {
    rule.args.forEach((c, j) => {
      if (c.op === 'masked-eq' && (c.valueTwo & ~c.value) !== 0n)
        out.push({
          severity: 'error',
          path: `${rulePath(i)}.args[${j}]`,
          code: 'condition-never-matches',
          message: `SCMP_CMP_MASKED_EQ never matches: valueTwo ${hex(c.valueTwo)} has bits outside the mask ${hex(c.value)}`,
        });
    });
    const byIndex = new Map<number, Condition[]>();
    for (const c of rule.args) byIndex.set(c.index, [...(byIndex.get(c.index) ?? []), c]);
    for (const [index, conds] of [...byIndex].sort(([a], [b]) => a - b)) {
      if (conds.length < 2) continue;
      const how = 'runc does not AND them: it adds each condition of this rule as a rule of its own, so any one of them matching is enough';
      if (!satisfiable(conds))
        out.push({
          severity: 'error',
          path: `${rulePath(i)}.args`,
          code: 'conflicting-conditions',
          message: `conditions on argument ${index} cannot all hold (${conds.map(formatCondition).join(', ')}); ${how}`,
        });
      else
        out.push({
          severity: 'warning',
          path: `${rulePath(i)}.args`,
          code: 'conditions-same-argument',
          message: `${conds.length} conditions on argument ${index} (${conds.map(formatCondition).join(', ')}); ${how}`,
        });
    }
  });
}

/** Rules that overlap on one syscall with different actions, in the order libseccomp sees them. */
function overlapFindings(adds: RuleAdd[], out: Finding[]): void {
  const live = adds.filter((a) => !a.equalsDefault);
  const byName = new Map<string, RuleAdd[]>();
  for (const a of live) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  // One finding per (kind, rule pair), naming every syscall it concerns.
  const grouped = new Map<string, { f: Omit<Finding, 'message'>; names: Set<string>; text: (names: string) => string }>();
  const note = (key: string, f: Omit<Finding, 'message'>, name: string, text: (names: string) => string) => {
    const g = grouped.get(key) ?? { f, names: new Set<string>(), text };
    g.names.add(name);
    grouped.set(key, g);
  };
  for (const [name, list] of byName) {
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const first = list[x];
        const later = list[y];
        if (first.ruleIndex === later.ruleIndex || first.value === later.value) continue;
        const fa = formatAction(first.action);
        const la = formatAction(later.action);
        const [i, j] = [first.ruleIndex, later.ruleIndex];
        const firstUncond = first.conditions.length === 0;
        const laterUncond = later.conditions.length === 0;
        if (firstUncond && laterUncond) {
          // The filter still loads (libseccomp keeps the first), so a warning: the later rule is dead.
          note(`both:${i}:${j}`, { severity: 'warning', path: rulePath(j), code: 'conflicting-actions' }, name, (n) =>
            `${n} also matched unconditionally by ${rulePath(i)} with another action (${la} here, ${fa} there); libseccomp keeps the first rule and drops this one silently`);
        } else if (firstUncond || laterUncond) {
          const [cond, uncond, uncondAction] = firstUncond ? [j, i, fa] : [i, j, la];
          note(`shadow:${cond}:${uncond}`, { severity: 'warning', path: rulePath(cond), code: 'shadowed-conditions' }, name, (n) =>
            `the conditions on ${n} never take effect: ${rulePath(uncond)} matches every call of it (${uncondAction}), and libseccomp lets an unconditional rule replace conditional ones`);
        } else if (conditionListsEqual(first.conditions, later.conditions)) {
          note(`same:${i}:${j}`, { severity: 'error', path: rulePath(j), code: 'conflicting-actions' }, name, (n) =>
            `${n} with the same conditions as ${rulePath(i)} but another action (${la} here, ${fa} there); libseccomp refuses it (EEXIST) and runc fails to start the container`);
        }
      }
    }
  }
  for (const g of grouped.values()) out.push({ ...g.f, message: g.text([...g.names].sort().join(', ')) });
}

function defaultEqualFindings(adds: RuleAdd[], out: Finding[]): void {
  const reported = new Set<number>();
  for (const a of adds) {
    if (!a.equalsDefault || reported.has(a.ruleIndex)) continue;
    reported.add(a.ruleIndex);
    out.push({
      severity: 'warning',
      path: rulePath(a.ruleIndex),
      code: 'action-equals-default',
      message: `action ${formatAction(a.action)} equals the default action: libseccomp refuses such a rule (EACCES) and runc drops it silently`,
    });
  }
}

function notifyFindings(profile: Profile, out: Finding[]): void {
  const notifyRules = profile.rules.map((r, i) => ({ r, i })).filter(({ r }) => r.action.kind === 'notify');
  const defaultNotify = profile.defaultAction.kind === 'notify';
  if (defaultNotify)
    out.push({
      severity: 'error',
      path: 'defaultAction',
      code: 'notify-default',
      message: 'SCMP_ACT_NOTIFY as the default action: runc refuses it ("SCMP_ACT_NOTIFY cannot be used as default action"); use a NOTIFY rule that names the syscalls instead',
    });
  for (const { r, i } of notifyRules) {
    if (r.names.includes('write'))
      out.push({
        severity: 'error',
        path: rulePath(i),
        code: 'notify-write',
        message: 'SCMP_ACT_NOTIFY on write: runc refuses it ("SCMP_ACT_NOTIFY cannot be used for the write syscall"), it needs write to hand the listener over',
      });
  }
  if ((notifyRules.length || defaultNotify) && profile.listenerPath === undefined) {
    const where = notifyRules.length ? rulePath(notifyRules[0].i) : 'defaultAction';
    out.push({
      severity: 'error',
      path: 'listenerPath',
      code: 'notify-without-listener',
      message: `missing, but ${where} uses SCMP_ACT_NOTIFY: runc fails to start the container ("seccomp listenerPath is not set")`,
    });
  }
  if (!notifyRules.length && !defaultNotify && profile.listenerPath !== undefined)
    out.push({
      severity: 'warning',
      path: 'listenerPath',
      code: 'listener-without-notify',
      message: 'set, but nothing uses SCMP_ACT_NOTIFY: no runtime will ever connect to it',
    });
}

function errnoFindings(profile: Profile, out: Finding[]): void {
  const usesRet = (kind: Action['kind']) => kind === 'errno' || kind === 'trace';
  if (profile.defaultErrnoRet !== undefined && !usesRet(profile.defaultAction.kind))
    out.push({
      severity: 'warning',
      path: 'defaultErrnoRet',
      code: 'errno-ignored',
      message: `ignored: the default action ${ACTION_TO_OCI[profile.defaultAction.kind]} returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE use it)`,
    });
  const def = effectiveDefaultAction(profile);
  profile.rules.forEach((r, i) => {
    if (r.action.ret !== undefined && !usesRet(r.action.kind))
      out.push({
        severity: 'warning',
        path: `${rulePath(i)}.errnoRet`,
        code: 'errno-ignored',
        message: `ignored: ${ACTION_TO_OCI[r.action.kind]} returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE use it)`,
      });
    if (r.action.kind === 'errno' && r.action.ret === undefined && def.kind === 'errno' && def.ret !== EPERM)
      out.push({
        severity: 'warning',
        path: rulePath(i),
        code: 'errno-not-default',
        message: `SCMP_ACT_ERRNO without errnoRet returns EPERM, not the defaultErrnoRet (${errnoName(def.ret!)}): runc applies defaultErrnoRet to the default action only`,
      });
  });
}

function shapeFindings(profile: Profile, out: Finding[]): void {
  profile.rules.forEach((r, i) => {
    if (!r.names.length)
      out.push({ severity: 'warning', path: `${rulePath(i)}.names`, code: 'empty-rule', message: 'empty: the rule matches nothing' });
  });
}

/** Every finding for a plain (resolved) profile, errors first, then by path. */
export function lintProfile(profile: Profile): Finding[] {
  const out: Finding[] = [];
  const adds = runcRuleAdds(profile);
  notifyFindings(profile, out);
  defaultEqualFindings(adds, out);
  overlapFindings(adds, out);
  conditionFindings(profile, out);
  errnoFindings(profile, out);
  shapeFindings(profile, out);
  return sortFindings(out);
}

/** Errors before warnings; then by path in document order (`syscalls[10]` after `syscalls[9]`). */
export function sortFindings(list: Finding[]): Finding[] {
  const key = (p: string) => p.replace(/\d+/g, (d) => d.padStart(6, '0'));
  return [...list].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
