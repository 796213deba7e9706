// Argument conditions from recorded values (`generate --args safe|strict|off`):
// which syscalls each level restricts and how, one allow rule per allowed value
// (runc ORs rules and ANDs the conditions of one rule, and splits a rule with
// two conditions on one argument into one rule per condition, so a rule here
// never has two on one index), the intersection with a baseline's own
// conditions, and what is left open and why. Pure apart from libseccomp
// look-ups of argument positions.
import { argPositionOnAll, multiplexedOn } from '../seccomp/arg-positions.js';
import { CLONE_NAMESPACE_MASK, SOCK_TYPE_MASK, UNSHARE_NAMESPACE_MASK } from './arg-names.js';
import { isAllowingAction } from './baseline.js';
import type { Condition, Rule } from './model.js';
import { conditionListsEqual } from './model.js';
import type { Observation } from './recording.js';

import type { ArgLevel } from './arg-levels.js';
export type { ArgLevel } from './arg-levels.js';
export { ARG_LEVELS } from './arg-levels.js';

/** How a recorded value becomes a condition: equal, or equal under a mask (flag words). */
type Compare = { op: 'eq' } | { op: 'masked'; mask: bigint };

interface ArgPolicy {
  level: 'safe' | 'strict';
  args: Record<string, Compare>;
  /** What the conditions close, said in the report. */
  closes: string;
}

/** The ioctl request is an unsigned int the caller may pass sign-extended: compare the low 32 bits. */
const LOW32 = 0xffffffffn;

export const ARG_POLICIES: Readonly<Record<string, ArgPolicy>> = {
  socket: { level: 'safe', args: { domain: { op: 'eq' }, type: { op: 'masked', mask: SOCK_TYPE_MASK } }, closes: 'address families and socket types not recorded' },
  clone: { level: 'safe', args: { flags: { op: 'masked', mask: CLONE_NAMESPACE_MASK } }, closes: 'namespace flags not recorded' },
  unshare: { level: 'safe', args: { flags: { op: 'masked', mask: UNSHARE_NAMESPACE_MASK } }, closes: 'namespace flags not recorded' },
  personality: { level: 'safe', args: { persona: { op: 'eq' } }, closes: 'personalities not recorded' },
  prctl: { level: 'safe', args: { option: { op: 'eq' } }, closes: 'prctl options not recorded' },
  ioctl: { level: 'strict', args: { request: { op: 'masked', mask: LOW32 } }, closes: 'ioctl requests not recorded' },
  fcntl: { level: 'strict', args: { cmd: { op: 'eq' } }, closes: 'fcntl commands not recorded' },
  fcntl64: { level: 'strict', args: { cmd: { op: 'eq' } }, closes: 'fcntl commands not recorded' },
  setsockopt: { level: 'strict', args: { level: { op: 'eq' }, optname: { op: 'eq' } }, closes: 'socket options not recorded' },
};

export function levelCovers(level: ArgLevel, syscall: string): boolean {
  const p = ARG_POLICIES[syscall];
  if (!p || level === 'off') return false;
  return level === 'strict' || p.level === 'safe';
}

/** What the recordings hold for one syscall, over every arch and recording. */
export interface MergedArgs {
  /** Argument names every observation kept (older recordings may keep fewer). */
  names: string[];
  /** Distinct tuples over `names`, as bigints. */
  tuples: bigint[][];
  overflowed: boolean;
  /** Some observation of it carried no values at all (the audit source keeps none). */
  missing: boolean;
}

/**
 * Unions the argument values of every observation of each syscall (values,
 * overflow flags, gaps), the runtime's start-up calls included: they run under
 * the same filter.
 */
export function mergeRecordedArgs(observations: Iterable<Observation>): Map<string, MergedArgs> {
  const raw = new Map<string, { lists: { names: string[]; values: string[][] }[]; overflowed: boolean; missing: boolean }>();
  for (const o of observations) {
    if (!o.syscall) continue;
    let e = raw.get(o.syscall);
    if (!e) raw.set(o.syscall, (e = { lists: [], overflowed: false, missing: false }));
    if (!o.args) e.missing = true;
    else {
      e.lists.push({ names: o.args.names, values: o.args.values });
      if (o.args.overflowed) e.overflowed = true;
    }
  }
  const out = new Map<string, MergedArgs>();
  for (const [syscall, e] of raw) {
    const names = e.lists.length ? e.lists[0].names.filter((n) => e.lists.every((l) => l.names.includes(n))) : [];
    const seen = new Map<string, bigint[]>();
    for (const l of e.lists) {
      for (const t of l.values) {
        const tuple = names.map((n) => BigInt(t[l.names.indexOf(n)]));
        seen.set(tuple.join(','), tuple);
      }
    }
    const tuples = [...seen.values()].sort((a, b) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return 0;
    });
    out.set(syscall, { names, tuples, overflowed: e.overflowed, missing: e.missing || !e.lists.length });
  }
  return out;
}

export interface ArgPlan {
  syscall: string;
  /** One entry per allowed combination: the conditions of one allow rule. Empty with `open`. */
  allowed: Condition[][];
  /** Argument names the conditions pin, in index order. */
  pinned: string[];
  /** Why no condition was written; undefined when the syscall is restricted. */
  open?: string;
  /** What the conditions close. */
  closes?: string;
}

function conditionFor(compare: Compare, index: number, value: bigint): Condition {
  if (compare.op === 'eq') return { index, op: 'eq', value, valueTwo: 0n };
  return { index, op: 'masked-eq', value: compare.mask, valueTwo: value & compare.mask };
}

/** The conditions the level writes for one syscall's recorded values on the target arches. */
export function planFor(syscall: string, merged: MergedArgs | undefined, level: ArgLevel, arches: readonly string[]): ArgPlan | undefined {
  if (!levelCovers(level, syscall)) return undefined;
  const policy = ARG_POLICIES[syscall];
  const plan = (open: string): ArgPlan => ({ syscall, allowed: [], pinned: [], open });
  if (!merged || merged.missing) return plan('no argument values were recorded (the audit source keeps none)');
  if (merged.overflowed) return plan('more distinct values were seen than the recorder keeps');
  const viaMux = multiplexedOn(syscall, arches);
  if (viaMux.length) return plan(`reached through a multiplexer (socketcall/ipc) on ${viaMux.join(', ')}: seccomp cannot see its arguments there`);
  const pinned: { name: string; at: number; index: number; compare: Compare }[] = [];
  for (const [at, name] of merged.names.entries()) {
    const compare = policy.args[name];
    if (!compare) continue;
    const index = argPositionOnAll(syscall, name, arches);
    if (index === undefined) return plan(`its ${name} argument sits at different positions on ${arches.join(', ')}; one rule cannot say both`);
    pinned.push({ name, at, index, compare });
  }
  if (!pinned.length) return plan('no argument this level restricts was recorded');
  pinned.sort((a, b) => a.index - b.index);
  const allowed: Condition[][] = [];
  for (const tuple of merged.tuples) {
    const conds = pinned.map((p) => conditionFor(p.compare, p.index, tuple[p.at]));
    if (!allowed.some((a) => conditionListsEqual(a, conds))) allowed.push(conds);
  }
  return { syscall, allowed, pinned: pinned.map((p) => p.name), closes: policy.closes };
}

/** Every syscall the level covers that was recorded, with its plan. */
export function planArgRules(merged: Map<string, MergedArgs>, level: ArgLevel, arches: readonly string[]): Map<string, ArgPlan> {
  const out = new Map<string, ArgPlan>();
  for (const syscall of [...merged.keys()].sort()) {
    const p = planFor(syscall, merged.get(syscall), level, arches);
    if (p) out.set(syscall, p);
  }
  return out;
}

/** clone's condition when only clone3 was recorded: glibc's fallback after ENOSYS makes no namespace. */
export function cloneFallbackPlan(arches: readonly string[]): ArgPlan | undefined {
  const index = argPositionOnAll('clone', 'flags', arches);
  if (index === undefined) return undefined;
  return {
    syscall: 'clone',
    allowed: [[{ index, op: 'masked-eq', value: CLONE_NAMESPACE_MASK, valueTwo: 0n }]],
    pinned: ['flags'],
    closes: ARG_POLICIES.clone.closes,
  };
}

const U64 = (1n << 64n) - 1n;

function holds(c: Condition, x: bigint): boolean {
  const v = x & U64;
  switch (c.op) {
    case 'eq': return v === c.value;
    case 'ne': return v !== c.value;
    case 'lt': return v < c.value;
    case 'le': return v <= c.value;
    case 'gt': return v > c.value;
    case 'ge': return v >= c.value;
    case 'masked-eq': return (v & c.value) === c.valueTwo;
  }
}

/**
 * What `theirs` (a baseline condition) says given `ours` on the same index:
 * 'implied' when every value ours lets through passes theirs, 'contradicts'
 * when none does, 'unknown' when it depends on bits ours leaves free.
 */
function relate(ours: Condition, theirs: Condition): 'implied' | 'contradicts' | 'unknown' {
  if (ours.op === 'eq') return holds(theirs, ours.value) ? 'implied' : 'contradicts';
  if (ours.op === 'masked-eq' && theirs.op === 'masked-eq' && (theirs.value & ~ours.value & U64) === 0n) {
    return (ours.valueTwo & theirs.value) === theirs.valueTwo ? 'implied' : 'contradicts';
  }
  return 'unknown';
}

export interface Intersection {
  /** The allow rules: ours AND one of the baseline's allows, per pair that can hold. */
  rules: Rule[];
  /** Set when one rule cannot say both (runc would OR two conditions on one argument): the baseline's rules are kept alone. */
  fallback?: string;
}

/**
 * Never looser than the baseline: our allowed combinations AND the baseline's
 * allowing rules for the name (`baseRules`, its default made explicit). A
 * baseline condition on an argument ours pins is checked against the pinned
 * value; one on another argument is added to the rule. Denying rules are the
 * caller's (kept as the baseline has them).
 */
export function intersectWithBaseline(name: string, allowed: Condition[][], baseRules: Rule[]): Intersection {
  const allows = baseRules.filter((r) => isAllowingAction(r.action.kind));
  const rules: Rule[] = [];
  for (const ours of allowed) {
    for (const b of allows) {
      const args = ours.map((c) => ({ ...c }));
      let possible = true;
      for (const c of b.args) {
        const mine = ours.find((o) => o.index === c.index);
        if (!mine) {
          if (!args.some((a) => a.index === c.index && a.op === c.op && a.value === c.value && a.valueTwo === c.valueTwo)) {
            if (args.some((a) => a.index === c.index))
              return { rules: [], fallback: `the baseline's conditions on argument ${c.index} of ${name} cannot be joined with its own in one rule` };
            args.push({ ...c });
          }
          continue;
        }
        const r = relate(mine, c);
        if (r === 'contradicts') possible = false;
        if (r === 'unknown') return { rules: [], fallback: `the baseline's condition on argument ${c.index} of ${name} cannot be joined with the recorded values in one rule` };
      }
      if (!possible) continue;
      args.sort((x, y) => x.index - y.index);
      if (!rules.some((r) => r.action.kind === b.action.kind && r.action.ret === b.action.ret && conditionListsEqual(r.args, args)))
        rules.push({ names: [name], action: { ...b.action }, args });
    }
  }
  return { rules };
}
