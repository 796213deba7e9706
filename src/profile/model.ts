// The internal profile model, apart from any on-disk format. Parsers turn OCI
// JSON or SPO YAML into it through the tables in ./names.ts; serialisers turn it
// back. Architectures use libseccomp's names (`x86_64`), not `SCMP_ARCH_*`.
// What reaches the filter (actions, conditions, rules) is typed in
// seccomp/filter-model.ts, the layer below, and extended here.

import type { Action, Condition, FilterProfile, FilterRule } from '../seccomp/filter-model.js';

export type { Action, ActionKind, Condition, Operator } from '../seccomp/filter-model.js';

export interface Rule extends FilterRule {
  comment?: string;
  /** Docker/moby conditional rules; resolved away by the baseline resolver. */
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

/** Docker/moby `includes`/`excludes`: capabilities, architectures, minimum kernel. */
export interface RuleFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface Profile extends FilterProfile {
  rules: Rule[];
  listenerPath?: string;
  listenerMetadata?: string;
  /** Docker's archMap, kept only until a baseline is resolved. */
  archMap?: { architecture: string; subArchitectures: string[] }[];
}

export const DEFAULT_ERRNO_EPERM = 1;

export function actionsEqual(a: Action, b: Action): boolean {
  return a.kind === b.kind && a.ret === b.ret;
}

export function conditionsEqual(a: Condition, b: Condition): boolean {
  return a.index === b.index && a.op === b.op && a.value === b.value && a.valueTwo === b.valueTwo;
}

/** Compares condition lists as sets. */
export function conditionListsEqual(a: readonly Condition[], b: readonly Condition[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((c) => b.some((d) => conditionsEqual(c, d)));
}

export function compareConditions(a: Condition, b: Condition): number {
  return (
    a.index - b.index ||
    a.op.localeCompare(b.op) ||
    (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) ||
    (a.valueTwo < b.valueTwo ? -1 : a.valueTwo > b.valueTwo ? 1 : 0)
  );
}

/** A minimal allow-list profile: the given names allowed, everything else EPERM. */
export function allowListProfile(architectures: string[], names: string[]): Profile {
  const sorted = [...new Set(names)].sort();
  return {
    defaultAction: { kind: 'errno' },
    defaultErrnoRet: DEFAULT_ERRNO_EPERM,
    architectures: [...new Set(architectures)],
    rules: sorted.length ? [{ names: sorted, action: { kind: 'allow' }, args: [] }] : [],
    flags: [],
  };
}
