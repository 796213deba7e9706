// Compiles a profile with libseccomp the way runc's InitSeccomp does, so what
// `validate` reports and what `run` installs is what a container would get.
// runc's choices of actions, errnos, skipped rules and arches are in
// ./runc-policy.ts; here they are carried out:
// - TSYNC on, NO_NEW_PRIVS off (runc sets it itself), LOG/SSB from `flags`,
//   binary-tree optimisation when more than 32 (name, rule) pairs;
// - one rule per name, in profile order; a rule whose action equals the default
//   is skipped (libseccomp would say EACCES); a name libseccomp does not know is
//   skipped; several conditions on one argument index make one rule per condition.
// Not reproduced: runc's -ENOSYS stub that it prepends to the program at load
// time (patchbpf); its arch order follows a Go map, so it is not deterministic.
import type { Action, Condition, FilterProfile, Operator } from './filter-model.js';
import { SeccompError } from '../errors.js';
import { errnoName } from '../util/errno.js';
import { archByName, nativeArchName } from './arch.js';
import { actionValue, effectiveDefaultAction, runcArches, runcRuleAdds } from './runc-policy.js';
import type { FilterContext, ScmpArgCmp } from './libseccomp.js';
import {
  archAdd,
  archRemove,
  archToken,
  attrSet,
  check,
  exportBpf,
  exportPfc,
  initFilter,
  nativeArchToken,
  nativeSyscallNumber,
  releaseFilter,
  ruleAddArray,
  SCMP_CMP,
  SCMP_FLTATR,
  syscallPriority,
} from './libseccomp.js';

const EEXIST = 17;
const EDOM = 33;
/** runc turns on libseccomp's binary tree above this many (name, rule) pairs. */
const OPTIMIZE_ABOVE = 32;
/** Size of one struct sock_filter. */
export const BPF_INSN_BYTES = 8;

const OPS: Record<Operator, number> = {
  ne: SCMP_CMP.NE,
  lt: SCMP_CMP.LT,
  le: SCMP_CMP.LE,
  eq: SCMP_CMP.EQ,
  ge: SCMP_CMP.GE,
  gt: SCMP_CMP.GT,
  'masked-eq': SCMP_CMP.MASKED_EQ,
};

function toArgCmp(c: Condition): ScmpArgCmp {
  return { arg: c.index, op: OPS[c.op], datumA: c.value, datumB: c.valueTwo };
}

export interface CompileOptions {
  /**
   * The filter's architectures. Default, as runc: the native arch plus the
   * profile's. When given, exactly these (the native arch is removed when absent).
   */
  arches?: string[];
  pfc?: boolean;
  /** Action for calls of an arch the filter lacks (libseccomp's default: KILL_THREAD). Complain mode uses NOTIFY. */
  badArch?: Action;
  /**
   * Syscall names to test first, hottest first (seccomp_syscall_priority):
   * the filter's verdicts do not change, only the order of its comparisons.
   * Without the binary-tree optimisation, which orders by number instead.
   */
  hottestFirst?: string[];
}

export interface CompileProblem {
  /** `syscalls[3]`, `flags[0]`, or '' for the whole filter. */
  path: string;
  message: string;
}

export interface CompiledFilter {
  bpf: Buffer;
  instructions: number;
  /** libseccomp names, in the order they were added. */
  arches: string[];
  pfc?: string;
  /** Names libseccomp does not know: runc skips them with a debug message. */
  skippedUnknown: string[];
  /** Rules runc adds with a failure it would report (the container would not start). */
  problems: CompileProblem[];
  /** Profile flags this libseccomp cannot set (runc would refuse the profile). */
  unsupportedFlags: CompileProblem[];
  optimized: boolean;
}

function tokenOf(arch: string): number {
  const token = archByName(arch) ? archToken(arch) : undefined;
  if (token === undefined) throw new SeccompError(`libseccomp does not know the architecture ${arch}`, 'EINVAL');
  return token;
}

function addArches(ctx: FilterContext, profile: FilterProfile, arches: string[] | undefined): string[] {
  const native = nativeArchName();
  const list = arches ?? runcArches(profile);
  // Removed first: libseccomp refuses to mix byte orders in one filter (EDOM).
  if (arches && !arches.includes(native)) {
    const rc = archRemove(ctx, nativeArchToken());
    if (rc < 0) throw new SeccompError(`seccomp_arch_remove(${native}) failed: ${errnoName(-rc)}`, errnoName(-rc));
  }
  const added: string[] = arches?.includes(native) || !arches ? [native] : [];
  for (const a of list) {
    const rc = archAdd(ctx, tokenOf(a));
    if (rc < 0 && -rc !== EEXIST) {
      const why = -rc === EDOM ? ` (libseccomp cannot hold ${a} in one filter with ${added.join(', ')}: another byte order)` : '';
      throw new SeccompError(`seccomp_arch_add(${a}) failed: ${errnoName(-rc)}${why}`, errnoName(-rc));
    }
    if (!added.includes(a)) added.push(a);
  }
  return added;
}

const FLAG_ATTRS: Record<string, number | undefined> = {
  SECCOMP_FILTER_FLAG_TSYNC: undefined, // libseccomp-golang always sets TSYNC
  SECCOMP_FILTER_FLAG_LOG: SCMP_FLTATR.CTL_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SCMP_FLTATR.CTL_SSB,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SCMP_FLTATR.CTL_WAITKILL,
};

/** The first 255 names get priorities 255, 254, ... in order; the rest keep libseccomp's own. */
function setPriorities(ctx: FilterContext, hottestFirst: string[]): void {
  let priority = 255;
  for (const name of hottestFirst) {
    if (priority === 0) return;
    const nr = nativeSyscallNumber(name);
    if (nr === undefined) continue;
    check(syscallPriority(ctx, nr, priority--), `seccomp_syscall_priority(${name})`);
  }
}

/** Builds the filter in libseccomp and exports it; never loads it. */
export function compileProfile(profile: FilterProfile, opts: CompileOptions = {}): CompiledFilter {
  const ctx = initFilter(actionValue(effectiveDefaultAction(profile)));
  try {
    // libseccomp-golang's NewFilter turns TSYNC on (an old kernel may refuse: not fatal there either).
    attrSet(ctx, SCMP_FLTATR.CTL_TSYNC, 1);
    const arches = addArches(ctx, profile, opts.arches);
    if (opts.badArch) check(attrSet(ctx, SCMP_FLTATR.ACT_BADARCH, actionValue(opts.badArch)), 'seccomp_attr_set(ACT_BADARCH)');
    const unsupportedFlags: CompileProblem[] = [];
    profile.flags.forEach((flag, i) => {
      const attr = FLAG_ATTRS[flag];
      if (attr === undefined) return;
      const rc = attrSet(ctx, attr, 1);
      if (rc < 0) unsupportedFlags.push({ path: `flags[${i}]`, message: `${flag}: this libseccomp cannot set it (${errnoName(-rc)})` });
    });
    const adds = runcRuleAdds(profile);
    const pairs = profile.rules.reduce((n, r) => n + r.names.length, 0);
    const optimized = !opts.hottestFirst?.length && pairs > OPTIMIZE_ABOVE && attrSet(ctx, SCMP_FLTATR.CTL_OPTIMIZE, 2) === 0;
    const rc = attrSet(ctx, SCMP_FLTATR.CTL_NNP, 0);
    if (rc < 0) throw new SeccompError(`seccomp_attr_set(CTL_NNP) failed: ${errnoName(-rc)}`, errnoName(-rc));

    const skippedUnknown = new Set<string>();
    const problems: CompileProblem[] = [];
    for (const add of adds) {
      if (add.equalsDefault) continue;
      const nr = nativeSyscallNumber(add.name);
      if (nr === undefined) {
        skippedUnknown.add(add.name);
        continue;
      }
      const r = ruleAddArray(ctx, add.value, nr, add.conditions.map(toArgCmp));
      if (r < 0) problems.push({ path: `syscalls[${add.ruleIndex}]`, message: `${add.name}: seccomp_rule_add_array failed: ${errnoName(-r)}` });
    }
    setPriorities(ctx, opts.hottestFirst ?? []);
    const bpf = exportBpf(ctx);
    const out: CompiledFilter = {
      bpf,
      instructions: bpf.length / BPF_INSN_BYTES,
      arches,
      skippedUnknown: [...skippedUnknown].sort(),
      problems,
      unsupportedFlags,
      optimized,
    };
    if (opts.pfc) out.pfc = exportPfc(ctx);
    return out;
  } finally {
    releaseFilter(ctx);
  }
}

