// The shape of a filter as libseccomp and the runtimes see it: actions,
// argument conditions, rules and the profile-level fields that reach the
// filter. The lowest layer's own types: profile/model.ts builds the full
// Profile (comments, Docker's includes/excludes, listener fields) on them.

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

export interface FilterRule {
  /** Syscall names, sorted and unique after normalisation. */
  names: string[];
  action: Action;
  /** All must hold (libseccomp ANDs the comparisons of one rule). */
  args: Condition[];
}

export interface FilterProfile {
  defaultAction: Action;
  /** errno returned by `errno` actions without their own value. */
  defaultErrnoRet?: number;
  /** libseccomp's names (`x86_64`). */
  architectures: string[];
  rules: FilterRule[];
  flags: string[];
}

/** Actions that let the call run (LOG runs it and logs it). */
export function isAllowingAction(kind: ActionKind): boolean {
  return kind === 'allow' || kind === 'log';
}
