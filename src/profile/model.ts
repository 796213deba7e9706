// The internal profile model, apart from any on-disk format. Parsers turn OCI
// JSON or SPO YAML into it through the tables in ./names.ts; serialisers turn it
// back. Architectures use libseccomp's names (`x86_64`), not `SCMP_ARCH_*`.

export type ActionKind = 'kill-process' | 'kill-thread' | 'trap' | 'errno' | 'trace' | 'log' | 'allow' | 'notify';

export interface Action {
  kind: ActionKind;
  /**
   * errno for `errno`, message value for `trace`. Undefined: for the default
   * action, the profile's defaultErrnoRet (else EPERM); for a rule, EPERM (as runc).
   */
  ret?: number;
}

export type Operator = 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked-eq';

export interface Condition {
  /** Argument index, 0..5. */
  index: number;
  op: Operator;
  value: bigint;
  /** Second operand: the compared value for `masked-eq` (value is the mask). */
  valueTwo: bigint;
}

export interface Rule {
  /** Syscall names, sorted and unique after normalisation. */
  names: string[];
  action: Action;
  /** All must hold (libseccomp ANDs the comparisons of one rule). */
  args: Condition[];
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

export interface Profile {
  defaultAction: Action;
  /** errno returned by `errno` actions without their own value. */
  defaultErrnoRet?: number;
  architectures: string[];
  rules: Rule[];
  flags: string[];
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
