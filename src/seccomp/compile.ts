// Compiles a Profile with libseccomp the way runc's InitSeccomp does, so what
// `validate` reports and what `run` installs is what a container would get:
// - default action: ERRNO uses defaultErrnoRet (else EPERM); TRACE likewise;
// - a rule's ERRNO/TRACE uses its own errnoRet, else EPERM (never defaultErrnoRet);
// - the filter holds the native arch plus every listed one (runc never removes native);
// - TSYNC on, NO_NEW_PRIVS off (runc sets it itself), LOG/SSB from `flags`,
//   binary-tree optimisation when more than 32 (name, rule) pairs;
// - one rule per name, in profile order; a rule whose action equals the default
//   is skipped (libseccomp would say EACCES); a name libseccomp does not know is
//   skipped; several conditions on one argument index make one rule per condition.
// Not reproduced: runc's -ENOSYS stub that it prepends to the program at load
// time (patchbpf); its arch order follows a Go map, so it is not deterministic.
// The Profile type is imported as a type only: this layer does not depend on
// the profile code, only on its shape.
import type { Action, Condition, Operator, Profile } from '../profile/model.js';
import { SeccompError } from '../errors.js';
import { errnoName } from '../util/errno.js';
import { archByName, nativeArchName } from './arch.js';
import { knownToLibseccomp, syscallExistence } from './syscall-exists.js';
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
  SCMP_ACT,
  SCMP_CMP,
  SCMP_FLTATR,
} from './libseccomp.js';

const EPERM = 1;
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

/** The action as runc hands it to libseccomp; `ret` falls back to `fallbackRet`. */
export function actionValue(a: Action, fallbackRet = EPERM): number {
  switch (a.kind) {
    case 'kill-process':
      return SCMP_ACT.KILL_PROCESS >>> 0;
    case 'kill-thread':
      return SCMP_ACT.KILL_THREAD;
    case 'trap':
      return SCMP_ACT.TRAP;
    case 'errno':
      return SCMP_ACT.errno(a.ret ?? fallbackRet);
    case 'trace':
      return SCMP_ACT.trace(a.ret ?? fallbackRet);
    case 'log':
      return SCMP_ACT.LOG;
    case 'allow':
      return SCMP_ACT.ALLOW;
    case 'notify':
      return SCMP_ACT.NOTIFY;
  }
}

/** The default action with its errno as runc computes it. */
export function effectiveDefaultAction(profile: Profile): Action {
  const kind = profile.defaultAction.kind;
  if (kind === 'errno' || kind === 'trace') return { kind, ret: profile.defaultAction.ret ?? profile.defaultErrnoRet ?? EPERM };
  return { kind };
}

/** A rule's action with its errno as runc computes it (EPERM when it has none). */
export function effectiveRuleAction(a: Action): Action {
  if (a.kind === 'errno' || a.kind === 'trace') return { kind: a.kind, ret: a.ret ?? EPERM };
  return { kind: a.kind };
}

/** One seccomp_rule_add_array call runc makes (or skips). */
export interface RuleAdd {
  /** Index in profile.rules; the path is `syscalls[ruleIndex]`. */
  ruleIndex: number;
  name: string;
  action: Action;
  value: number;
  /** ANDed by libseccomp. */
  conditions: Condition[];
  /** The rule had several conditions on one argument, so runc made one rule per condition. */
  split: boolean;
  /** runc does not add it: its action equals the default one. */
  equalsDefault: boolean;
}

/** Every rule runc derives from the profile, in the order it adds them. */
export function runcRuleAdds(profile: Profile): RuleAdd[] {
  const def = actionValue(effectiveDefaultAction(profile));
  const out: RuleAdd[] = [];
  profile.rules.forEach((rule, ruleIndex) => {
    const action = effectiveRuleAction(rule.action);
    const value = actionValue(action);
    const perIndex = new Map<number, number>();
    for (const c of rule.args) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
    const split = [...perIndex.values()].some((n) => n > 1);
    const groups = split ? rule.args.map((c) => [c]) : [rule.args];
    for (const name of rule.names) {
      for (const conditions of groups) out.push({ ruleIndex, name, action, value, conditions, split, equalsDefault: value === def });
    }
  });
  return out;
}

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

/** The arches runc's filter holds on this machine: native first, then the profile's. */
export function runcArches(profile: Profile): string[] {
  const native = nativeArchName();
  return [native, ...profile.architectures.filter((a) => a !== native)];
}

function tokenOf(arch: string): number {
  const token = archByName(arch) ? archToken(arch) : undefined;
  if (token === undefined) throw new SeccompError(`libseccomp does not know the architecture ${arch}`, 'EINVAL');
  return token;
}

function addArches(ctx: FilterContext, profile: Profile, arches: string[] | undefined): string[] {
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

/** Builds the filter in libseccomp and exports it; never loads it. */
export function compileProfile(profile: Profile, opts: CompileOptions = {}): CompiledFilter {
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
    const optimized = pairs > OPTIMIZE_ABOVE && attrSet(ctx, SCMP_FLTATR.CTL_OPTIMIZE, 2) === 0;
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

export interface ArchNames {
  arch: string;
  /** Distinct names with a number on this arch. */
  resolved: number;
  /** Names libseccomp knows but this arch lacks. */
  absent: string[];
}

export interface NameReport {
  perArch: ArchNames[];
  /** Names libseccomp knows on no architecture at all (typos, or newer than this libseccomp). */
  unknown: string[];
  /** Known names that exist on none of the given arches. */
  absentEverywhere: string[];
}

/** Resolves every rule name on every arch given (existence as syscall-exists.ts defines it). */
export function resolveNames(profile: Profile, arches: string[]): NameReport {
  const names = [...new Set(profile.rules.flatMap((r) => r.names))].sort();
  const unknown = names.filter((n) => !knownToLibseccomp(n));
  const perArch = arches.map((arch) => {
    tokenOf(arch); // an arch libseccomp does not know is a SeccompError
    let resolved = 0;
    const absent: string[] = [];
    for (const n of names) {
      const e = syscallExistence(arch, n);
      if (e === 'exists') resolved++;
      else if (e === 'absent') absent.push(n);
    }
    return { arch, resolved, absent };
  });
  const absentEverywhere = names.filter((n) => !unknown.includes(n) && perArch.every((p) => p.absent.includes(n)));
  return { perArch, unknown, absentEverywhere };
}
