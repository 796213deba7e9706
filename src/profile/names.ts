// String <-> enum tables between the model and the OCI/Docker spellings.
import type { ActionKind, Operator } from './model.js';

export const ACTION_TO_OCI: Record<ActionKind, string> = {
  'kill-process': 'SCMP_ACT_KILL_PROCESS',
  'kill-thread': 'SCMP_ACT_KILL_THREAD',
  trap: 'SCMP_ACT_TRAP',
  errno: 'SCMP_ACT_ERRNO',
  trace: 'SCMP_ACT_TRACE',
  log: 'SCMP_ACT_LOG',
  allow: 'SCMP_ACT_ALLOW',
  notify: 'SCMP_ACT_NOTIFY',
};

const OCI_TO_ACTION = new Map<string, ActionKind>([
  ...Object.entries(ACTION_TO_OCI).map(([k, v]) => [v, k as ActionKind] as [string, ActionKind]),
  // SCMP_ACT_KILL is the historic name of KILL_THREAD.
  ['SCMP_ACT_KILL', 'kill-thread'],
]);

export function actionFromOci(name: string): ActionKind | undefined {
  return OCI_TO_ACTION.get(name);
}

export const OPERATOR_TO_OCI: Record<Operator, string> = {
  ne: 'SCMP_CMP_NE',
  lt: 'SCMP_CMP_LT',
  le: 'SCMP_CMP_LE',
  eq: 'SCMP_CMP_EQ',
  ge: 'SCMP_CMP_GE',
  gt: 'SCMP_CMP_GT',
  'masked-eq': 'SCMP_CMP_MASKED_EQ',
};

const OCI_TO_OPERATOR = new Map(Object.entries(OPERATOR_TO_OCI).map(([k, v]) => [v, k as Operator]));

export function operatorFromOci(name: string): Operator | undefined {
  return OCI_TO_OPERATOR.get(name);
}

/** Filter flags the runtime-spec defines for `flags`. */
export const KNOWN_FLAGS = new Set([
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
]);
