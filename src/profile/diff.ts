// The semantic diff of two profiles: compares their canonical views per
// (architecture, syscall) and classifies each change as a widening (the
// workload may do more), a narrowing, or neutral. Pure; renderers are in
// ./diff-render.ts, the command in src/cli/diff.ts.
import type { Action, Condition, Profile } from './model.js';
import { actionsEqual } from './model.js';
import type { CanonicalProfile, SyscallExists, SyscallTreatment } from './canonical.js';
import { actionRank, canonicalProfile, possibleActions, treatmentOf, treatmentsEqual } from './canonical.js';
import { DANGEROUS, dangerReason } from './dangerous.js';

export type ChangeClass = 'widen' | 'narrow' | 'neutral';

/**
 * Syscall change kinds, decided in this order:
 * `allowed`: no call ran before, some (or all) run now;
 * `denied`: some calls ran before, none runs now;
 * `conditions`: both let some calls run, but not the same ones (conditions added, removed, loosened);
 * `action`: the same calls run, another action applies to some (KILL → ERRNO, ERRNO → NOTIFY, ALLOW → LOG);
 * `errno`: only the errno (or trace value) returned changed.
 * "Run" means the filter itself lets the call through: ALLOW or LOG.
 */
export type SyscallChangeKind = 'allowed' | 'denied' | 'conditions' | 'action' | 'errno';

export interface SyscallChange {
  kind: SyscallChangeKind;
  class: ChangeClass;
  syscall: string;
  /**
   * The architectures both profiles list on which the syscall exists, sorted.
   * Empty when the two share no listed architecture (the change then holds
   * on whatever native one the runtime adds).
   */
  arches: string[];
  old: SyscallTreatment;
  new: SyscallTreatment;
  /** Widens for some arguments and narrows for others (class is then `widen`). */
  mixed: boolean;
  /** Why this syscall is dangerous; only on widenings. */
  danger?: string;
}

export interface DefaultChange {
  kind: 'default-action' | 'default-errno';
  class: ChangeClass;
  old: Action;
  new: Action;
  /** Dangerous syscalls neither profile names, so the new default now applies to them; only on widenings. */
  dangerousUnnamed: { syscall: string; reason: string }[];
}

export interface ArchitectureChange {
  kind: 'architecture-added' | 'architecture-removed';
  class: ChangeClass;
  architecture: string;
}

export interface FlagChange {
  kind: 'flag-added' | 'flag-removed';
  class: ChangeClass;
  flag: string;
  /** What the flag does, said once for the reader. */
  reason: string;
}

export interface ListenerChange {
  kind: 'listener-path' | 'listener-metadata';
  class: 'neutral';
  old?: string;
  new?: string;
}

export type Change = DefaultChange | ArchitectureChange | FlagChange | ListenerChange | SyscallChange;

export type Verdict = 'widen' | 'narrow' | 'neutral' | 'none';

export interface DiffSummary {
  /** Syscall changes of kind allowed / denied / conditions. */
  allowed: number;
  denied: number;
  conditions: number;
  /** Every other change (default, errno, action, architectures, flags, listener). */
  other: number;
  widen: number;
  narrow: number;
  neutral: number;
  /** Distinct dangerous syscalls a widening reaches (named ones and, through the default, unnamed ones). */
  dangerous: number;
  verdict: Verdict;
}

export interface DiffResult {
  /** Architectures both profiles list, sorted: where syscall changes were compared. */
  arches: string[];
  /** Profile-level changes first (default, architectures, flags, listener), then syscalls by name. */
  changes: Change[];
  summary: DiffSummary;
  /** What the comparison left out or could only approximate. */
  notes: string[];
}

export interface DiffOptions {
  /** Syscall existence per arch (libseccomp); without it every syscall is taken to exist everywhere. */
  exists?: SyscallExists;
}

export type FailOn = 'widen' | 'any' | 'never';
export const FAIL_ON: readonly FailOn[] = ['widen', 'any', 'never'];

const FLAG_MEANING: Record<string, { added: ChangeClass; reason: string }> = {
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: { added: 'widen', reason: "turns off the kernel's speculative store bypass mitigation for the workload" },
  SECCOMP_FILTER_FLAG_LOG: { added: 'neutral', reason: 'logs every action but ALLOW to the audit log' },
  SECCOMP_FILTER_FLAG_TSYNC: { added: 'neutral', reason: 'applies the filter to all threads at once (runc does so anyway)' },
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: { added: 'neutral', reason: 'notified calls wait killably for the supervisor' },
};
const INVERSE: Record<ChangeClass, ChangeClass> = { widen: 'narrow', narrow: 'widen', neutral: 'neutral' };

const U64 = (1n << 64n) - 1n;
/** Above this many argument combinations the comparison gives up and assumes a widening. */
const MAX_POINTS = 200_000;

/** Values of one argument at which every condition on it changes truth (exact for the comparisons; edges of each mask for masked-eq). */
function candidateValues(conds: readonly Condition[]): bigint[] {
  const set = new Set<bigint>([0n, U64]);
  const add = (v: bigint) => {
    if (v >= 0n && v <= U64) set.add(v);
  };
  for (const c of conds) {
    if (c.op === 'masked-eq') {
      add(c.valueTwo);
      add(c.valueTwo | (U64 & ~c.value));
      for (let bit = 1n; bit <= c.value; bit <<= 1n) if (c.value & bit) add(c.valueTwo ^ bit);
    } else {
      add(c.value - 1n);
      add(c.value);
      add(c.value + 1n);
    }
  }
  // Make the comparison edges also satisfy each mask, so masks and ranges on one argument meet.
  const base = [...set];
  for (const c of conds) if (c.op === 'masked-eq') for (const x of base) add((x & ~c.value & U64) | c.valueTwo);
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Comparison {
  widen: boolean;
  narrow: boolean;
  oldRuns: boolean;
  newRuns: boolean;
  runRegionDiffers: boolean;
  kindsDiffer: boolean;
  actionsDiffer: boolean;
  exhaustive: boolean;
}

function rankRange(actions: Action[]): [number, number] {
  const ranks = actions.map(actionRank);
  return [Math.min(...ranks), Math.max(...ranks)];
}

const sameSet = <T>(a: T[], b: T[], eq: (x: T, y: T) => boolean) =>
  a.length === b.length && a.every((x) => b.some((y) => eq(x, y)));

/**
 * Compares two treatments of one syscall at every argument combination where
 * some condition of either changes truth. Where overlapping rules make
 * several actions possible at one point, a change counts as a widening when
 * the least or the most permissive possible outcome rises.
 */
function compareTreatments(a: SyscallTreatment, b: SyscallTreatment): Comparison {
  const byIndex = new Map<number, Condition[]>();
  for (const c of [...a.clauses, ...b.clauses].flatMap((cl) => cl.conditions)) byIndex.set(c.index, [...(byIndex.get(c.index) ?? []), c]);
  const indexes = [...byIndex.keys()].sort((x, y) => x - y);
  const values = indexes.map((i) => candidateValues(byIndex.get(i)!));
  const total = values.reduce((n, v) => n * v.length, 1);
  const out: Comparison = {
    widen: false,
    narrow: false,
    oldRuns: false,
    newRuns: false,
    runRegionDiffers: false,
    kindsDiffer: false,
    actionsDiffer: false,
    exhaustive: total <= MAX_POINTS,
  };
  if (!out.exhaustive) {
    // Too large to walk: assume the worst, a change of conditions that widens.
    Object.assign(out, { widen: true, oldRuns: true, newRuns: true, runRegionDiffers: true, kindsDiffer: true, actionsDiffer: true });
    return out;
  }
  const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
  const visit = (depth: number) => {
    if (depth < indexes.length) {
      for (const v of values[depth]) {
        args[indexes[depth]] = v;
        visit(depth + 1);
      }
      return;
    }
    const before = possibleActions(a, args);
    const after = possibleActions(b, args);
    const [loA, hiA] = rankRange(before);
    const [loB, hiB] = rankRange(after);
    if (hiA === 2) out.oldRuns = true;
    if (hiB === 2) out.newRuns = true;
    if (sameSet(before, after, actionsEqual)) return;
    out.actionsDiffer = true;
    if (!sameSet(before.map((x) => x.kind), after.map((x) => x.kind), (x, y) => x === y)) out.kindsDiffer = true;
    if (loB > loA || hiB > hiA) out.widen = true;
    if (loB < loA || hiB < hiA) out.narrow = true;
    if ((hiA === 2) !== (hiB === 2)) out.runRegionDiffers = true;
  };
  visit(0);
  return out;
}

function classOf(widen: boolean, narrow: boolean): ChangeClass {
  return widen ? 'widen' : narrow ? 'narrow' : 'neutral';
}

/** The change to one syscall, if its meaning changed; `exact` is false when it was too large to compare point by point. */
function syscallChange(name: string, before: SyscallTreatment, after: SyscallTreatment, arches: string[]): { change: SyscallChange; exact: boolean } | undefined {
  if (treatmentsEqual(before, after)) return undefined;
  const cmp = compareTreatments(before, after);
  let kind: SyscallChangeKind;
  if (!cmp.oldRuns && cmp.newRuns) kind = 'allowed';
  else if (cmp.oldRuns && !cmp.newRuns) kind = 'denied';
  else if (cmp.runRegionDiffers) kind = 'conditions';
  else if (cmp.kindsDiffer) kind = 'action';
  else if (cmp.actionsDiffer) kind = 'errno';
  else return undefined;
  const change: SyscallChange = { kind, class: classOf(cmp.widen, cmp.narrow), syscall: name, arches, old: before, new: after, mixed: cmp.widen && cmp.narrow };
  const danger = dangerReason(name);
  if (danger && change.class === 'widen') change.danger = danger;
  return { change, exact: cmp.exhaustive };
}

function defaultChange(oldView: CanonicalProfile, newView: CanonicalProfile, existsSomewhere: (name: string) => boolean): DefaultChange | undefined {
  const before = oldView.defaultAction;
  const after = newView.defaultAction;
  if (actionsEqual(before, after)) return undefined;
  const cls = classOf(actionRank(after) > actionRank(before), actionRank(after) < actionRank(before));
  const change: DefaultChange = { kind: before.kind === after.kind ? 'default-errno' : 'default-action', class: cls, old: before, new: after, dangerousUnnamed: [] };
  if (cls === 'widen') {
    for (const [syscall, reason] of DANGEROUS) {
      if (!oldView.syscalls.has(syscall) && !newView.syscalls.has(syscall) && existsSomewhere(syscall)) change.dangerousUnnamed.push({ syscall, reason });
    }
  }
  return change;
}

function profileLevelChanges(oldView: CanonicalProfile, newView: CanonicalProfile): Change[] {
  const out: Change[] = [];
  for (const a of newView.architectures) if (!oldView.architectures.includes(a)) out.push({ kind: 'architecture-added', class: 'widen', architecture: a });
  for (const a of oldView.architectures) if (!newView.architectures.includes(a)) out.push({ kind: 'architecture-removed', class: 'narrow', architecture: a });
  const flagChange = (flag: string, added: boolean): FlagChange => {
    const meaning = FLAG_MEANING[flag] ?? { added: 'neutral' as ChangeClass, reason: 'a filter flag' };
    return { kind: added ? 'flag-added' : 'flag-removed', class: added ? meaning.added : INVERSE[meaning.added], flag, reason: meaning.reason };
  };
  for (const f of newView.flags) if (!oldView.flags.includes(f)) out.push(flagChange(f, true));
  for (const f of oldView.flags) if (!newView.flags.includes(f)) out.push(flagChange(f, false));
  for (const key of ['listenerPath', 'listenerMetadata'] as const) {
    if (oldView[key] === newView[key]) continue;
    const change: ListenerChange = { kind: key === 'listenerPath' ? 'listener-path' : 'listener-metadata', class: 'neutral' };
    if (oldView[key] !== undefined) change.old = oldView[key];
    if (newView[key] !== undefined) change.new = newView[key];
    out.push(change);
  }
  return out;
}

export function summarize(changes: readonly Change[]): DiffSummary {
  const count = (f: (c: Change) => boolean) => changes.filter(f).length;
  const dangerous = new Set<string>();
  for (const c of changes) {
    if ('syscall' in c && c.danger) dangerous.add(c.syscall);
    if (c.kind === 'default-action' || c.kind === 'default-errno') for (const d of c.dangerousUnnamed) dangerous.add(d.syscall);
  }
  const s: DiffSummary = {
    allowed: count((c) => c.kind === 'allowed'),
    denied: count((c) => c.kind === 'denied'),
    conditions: count((c) => c.kind === 'conditions'),
    other: 0,
    widen: count((c) => c.class === 'widen'),
    narrow: count((c) => c.class === 'narrow'),
    neutral: count((c) => c.class === 'neutral'),
    dangerous: dangerous.size,
    verdict: 'none',
  };
  s.other = changes.length - s.allowed - s.denied - s.conditions;
  s.verdict = s.widen ? 'widen' : s.narrow ? 'narrow' : changes.length ? 'neutral' : 'none';
  return s;
}

const VERDICT_WORDS: Record<Verdict, string> = { widen: 'widens', narrow: 'narrows', neutral: 'neutral', none: 'no change' };

/** `+3 allowed, -1 allowed, 0 changed conditions (widens)`; other changes are counted only when there are some. */
export function summaryLine(s: DiffSummary): string {
  const other = s.other ? `, ${s.other} other change${s.other === 1 ? '' : 's'}` : '';
  return `+${s.allowed} allowed, -${s.denied} allowed, ${s.conditions} changed condition${s.conditions === 1 ? '' : 's'}${other} (${VERDICT_WORDS[s.verdict]})`;
}

/** Whether the result breaks the `--fail-on` policy (exit 1). */
export function violates(s: DiffSummary, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  if (failOn === 'widen') return s.widen > 0;
  return s.verdict !== 'none';
}

/** Whether the change disappears when the old treatment's default is replaced by the new default. */
function followsDefault(change: SyscallChange, newView: CanonicalProfile): boolean {
  const before = change.old;
  if (before.unconditional || actionsEqual(before.otherwise, newView.defaultAction)) return false;
  return treatmentsEqual({ ...before, otherwise: newView.defaultAction }, change.new);
}

/** Diffs two resolved profiles (no includes/excludes/archMap; see profile/machine.ts). */
export function diffProfiles(before: Profile, after: Profile, opts: DiffOptions = {}): DiffResult {
  const oldView = canonicalProfile(before);
  const newView = canonicalProfile(after);
  const shared = oldView.architectures.filter((a) => newView.architectures.includes(a)).sort();
  const archesOf = (name: string) => (opts.exists && shared.length ? shared.filter((a) => opts.exists!(a, name) !== false) : [...shared]);
  const notes: string[] = [];
  const changes: Change[] = [];
  const dc = defaultChange(oldView, newView, (name) => !shared.length || archesOf(name).length > 0);
  if (dc) changes.push(dc);
  changes.push(...profileLevelChanges(oldView, newView));

  const absent: string[] = [];
  const inexact: string[] = [];
  for (const name of [...new Set([...oldView.syscalls.keys(), ...newView.syscalls.keys()])].sort()) {
    const arches = archesOf(name);
    const found = syscallChange(name, treatmentOf(oldView, name), treatmentOf(newView, name), arches);
    if (!found) continue;
    if (shared.length && !arches.length) {
      absent.push(name);
      continue;
    }
    // A neutral change that only follows the default's errno is said once, by the default's row.
    if (found.change.class === 'neutral' && followsDefault(found.change, newView)) continue;
    if (!found.exact) inexact.push(name);
    changes.push(found.change);
  }
  if (absent.length)
    notes.push(`left out ${absent.length} change${absent.length === 1 ? '' : 's'} to syscalls that exist on none of ${shared.join(', ')}: ${absent.join(', ')}`);
  if (inexact.length)
    notes.push(`too many argument conditions to compare exactly, counted as widening: ${inexact.join(', ')}`);
  return { arches: shared, changes, summary: summarize(changes), notes };
}
