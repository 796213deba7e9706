// A canonical per-(architecture, syscall) view of a resolved Profile: what the
// filter runc would build does with each syscall, independent of how the file
// spells it (rule order, names split across rules or merged, errnoRet left out
// or written as EPERM). Used by `diff`; meant for anything that compares meaning.
import type { Action, ActionKind, Condition, Profile } from './model.js';
import { actionsEqual, compareConditions, conditionsEqual } from './model.js';
import { effectiveDefaultAction, effectiveRuleAction } from '../seccomp/runc-policy.js';


/** One way a syscall is treated: an action and the argument conditions (ANDed) under which it applies. */
export interface Clause {
  action: Action;
  /** Sorted, de-duplicated; valueTwo is 0 except for masked-eq (libseccomp ignores it there). */
  conditions: Condition[];
}

/**
 * What the filter does with one syscall.
 * - `via: 'default'`: no effective rule names it; `unconditional` is the default action.
 * - `via: 'rule'`: an unconditional rule decides every call; `unconditional` is its action.
 * - `via: 'conditional'`: `clauses` decide the calls they match, `otherwise` (the default) the rest.
 */
export interface SyscallTreatment {
  via: 'default' | 'rule' | 'conditional';
  unconditional?: Action;
  /** Sorted; empty unless `via` is 'conditional'. */
  clauses: Clause[];
  /** The default action: what applies where no clause matches. */
  otherwise: Action;
}

/**
 * A Profile reduced to its meaning, as runc installs it with libseccomp 2.5
 * (the same reading as src/seccomp/compile.ts):
 * - ERRNO/TRACE without errnoRet return EPERM in rules; the default uses
 *   defaultErrnoRet, else EPERM;
 * - a rule whose action equals the default is not added, so it means nothing;
 * - a rule with several conditions on one argument becomes one rule per
 *   condition (an OR), as runc splits it;
 * - an unconditional rule overrides every conditional rule for that syscall,
 *   and of two unconditional rules the first in the file wins (both measured
 *   with libseccomp 2.5.4 here: `seccomp_export_pfc` shows only that action);
 * - conditional rules are a set: their order does not change the filter.
 *
 * OCI rules name syscalls, not architectures, so a syscall's treatment is the
 * same on every architecture of the filter where the syscall exists; see
 * `treatmentOn` for the per-architecture question.
 */
export interface CanonicalProfile {
  defaultAction: Action;
  /** Listed architectures (libseccomp names), sorted. runc adds the native one at run time. */
  architectures: string[];
  flags: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  /** Syscalls some effective rule names, by name (sorted). Every other syscall gets `defaultTreatment`. */
  syscalls: ReadonlyMap<string, SyscallTreatment>;
}

/** 0: the call does not run (kill, trap, errno); 1: a tracer or supervisor decides (trace, notify); 2: it runs (allow, log). */
export type ActionRank = 0 | 1 | 2;

const RANK: Record<ActionKind, ActionRank> = {
  'kill-process': 0,
  'kill-thread': 0,
  trap: 0,
  errno: 0,
  trace: 1,
  notify: 1,
  log: 2,
  allow: 2,
};

export function actionRank(a: Action): ActionRank {
  return RANK[a.kind];
}

function normalCondition(c: Condition): Condition {
  return { index: c.index, op: c.op, value: c.value, valueTwo: c.op === 'masked-eq' ? c.valueTwo : 0n };
}

function normalConditions(list: readonly Condition[]): Condition[] {
  const out: Condition[] = [];
  for (const c of list.map(normalCondition).sort(compareConditions)) if (!out.some((d) => conditionsEqual(c, d))) out.push(c);
  return out;
}

function compareActions(a: Action, b: Action): number {
  return actionRank(b) - actionRank(a) || a.kind.localeCompare(b.kind) || (a.ret ?? -1) - (b.ret ?? -1);
}

function compareClauses(a: Clause, b: Clause): number {
  const byAction = compareActions(a.action, b.action);
  if (byAction) return byAction;
  for (let i = 0; i < Math.min(a.conditions.length, b.conditions.length); i++) {
    const d = compareConditions(a.conditions[i], b.conditions[i]);
    if (d) return d;
  }
  return a.conditions.length - b.conditions.length;
}

export function clausesEqual(a: Clause, b: Clause): boolean {
  return compareClauses(a, b) === 0;
}

/** Condition groups runc adds for one rule: all ANDed, or one per condition when an index repeats. */
function runcConditionGroups(args: readonly Condition[]): Condition[][] {
  const indexes = new Set(args.map((c) => c.index));
  return indexes.size < args.length ? args.map((c) => [c]) : [[...args]];
}

function isConditional(profile: Profile): boolean {
  return profile.archMap !== undefined || profile.rules.some((r) => r.includes !== undefined || r.excludes !== undefined);
}

/**
 * The canonical view of a resolved profile. Docker-shaped conditional rules
 * (`includes`/`excludes`, `archMap`) have no single meaning: resolve them
 * first (profile/machine.ts `resolveForTarget`); this throws a RangeError otherwise.
 */
export function canonicalProfile(profile: Profile): CanonicalProfile {
  if (isConditional(profile)) throw new RangeError('resolve includes/excludes/archMap before canonicalising (see profile/machine.ts)');
  const def = effectiveDefaultAction(profile);
  const unconditional = new Map<string, Action>();
  const clauses = new Map<string, Clause[]>();
  for (const rule of profile.rules) {
    const action = effectiveRuleAction(rule.action);
    if (actionsEqual(action, def)) continue;
    const groups = runcConditionGroups(rule.args);
    for (const name of new Set(rule.names)) {
      for (const group of groups) {
        if (group.length === 0) {
          if (!unconditional.has(name)) unconditional.set(name, action);
          continue;
        }
        const clause: Clause = { action, conditions: normalConditions(group) };
        const list = clauses.get(name) ?? [];
        if (!list.some((c) => clausesEqual(c, clause))) list.push(clause);
        clauses.set(name, list);
      }
    }
  }
  const syscalls = new Map<string, SyscallTreatment>();
  for (const name of [...new Set([...unconditional.keys(), ...clauses.keys()])].sort()) {
    const u = unconditional.get(name);
    syscalls.set(
      name,
      u
        ? { via: 'rule', unconditional: u, clauses: [], otherwise: def }
        : { via: 'conditional', clauses: clauses.get(name)!.sort(compareClauses), otherwise: def },
    );
  }
  const out: CanonicalProfile = {
    defaultAction: def,
    architectures: [...new Set(profile.architectures)].sort(),
    flags: [...new Set(profile.flags)].sort(),
    syscalls,
  };
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  return out;
}

/** The treatment of a syscall no effective rule names. */
export function defaultTreatment(view: CanonicalProfile): SyscallTreatment {
  return { via: 'default', unconditional: view.defaultAction, clauses: [], otherwise: view.defaultAction };
}

/** What the profile does with `name` (on every architecture of the filter where it exists). */
export function treatmentOf(view: CanonicalProfile, name: string): SyscallTreatment {
  return view.syscalls.get(name) ?? defaultTreatment(view);
}

/**
 * Whether a syscall exists on an architecture: true, false, or undefined when
 * unknown (libseccomp does not know the name). Pass one backed by
 * src/seccomp/libseccomp.ts; the canonical view itself stays pure.
 */
export type SyscallExists = (arch: string, name: string) => boolean | undefined;

/**
 * The per-(architecture, syscall) question: the treatment of `name` on `arch`,
 * or undefined when the profile does not list that architecture or the
 * syscall does not exist there (a rule for it then does nothing). A profile
 * listing no architectures answers for any arch (runc uses the native one).
 */
export function treatmentOn(view: CanonicalProfile, arch: string, name: string, exists?: SyscallExists): SyscallTreatment | undefined {
  if (view.architectures.length && !view.architectures.includes(arch)) return undefined;
  if (exists?.(arch, name) === false) return undefined;
  return treatmentOf(view, name);
}

function sameClauses(a: readonly Clause[], b: readonly Clause[]): boolean {
  return a.length === b.length && a.every((c, i) => clausesEqual(c, b[i]));
}

/** Structural equality of canonical treatments (equal means same meaning; unequal may still mean the same). */
export function treatmentsEqual(a: SyscallTreatment, b: SyscallTreatment): boolean {
  if (a.unconditional || b.unconditional) return !!a.unconditional && !!b.unconditional && actionsEqual(a.unconditional, b.unconditional);
  return actionsEqual(a.otherwise, b.otherwise) && sameClauses(a.clauses, b.clauses);
}

const U64 = (1n << 64n) - 1n;

export function conditionHolds(c: Condition, arg: bigint): boolean {
  const x = arg & U64;
  switch (c.op) {
    case 'eq':
      return x === c.value;
    case 'ne':
      return x !== c.value;
    case 'lt':
      return x < c.value;
    case 'le':
      return x <= c.value;
    case 'gt':
      return x > c.value;
    case 'ge':
      return x >= c.value;
    case 'masked-eq':
      return (x & c.value) === c.valueTwo;
  }
}

/**
 * The actions that may apply to one call with these arguments (args[i] is
 * argument i; missing ones are 0). Usually one; several when conditional
 * rules with different actions overlap, because which of them libseccomp's
 * decision tree checks first is its layout's business, not the profile's.
 */
export function possibleActions(t: SyscallTreatment, args: readonly bigint[]): Action[] {
  if (t.unconditional) return [t.unconditional];
  const out: Action[] = [];
  for (const c of t.clauses) {
    if (c.conditions.every((cond) => conditionHolds(cond, args[cond.index] ?? 0n)) && !out.some((a) => actionsEqual(a, c.action)))
      out.push(c.action);
  }
  return out.length ? out : [t.otherwise];
}
