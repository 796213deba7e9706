// Recordings -> the profile people deploy: for each recorded syscall the
// baseline's own rules (argument conditions included, so never looser than
// the runtime default), plus the runtime's start-up set; names checked per
// arch with libseccomp. Pure apart from libseccomp look-ups; deterministic.
import { InputError, UsageError } from '../errors.js';
import { nameExistence } from '../seccomp/syscall-exists.js';
import type { BaselineTarget } from './baseline.js';
import { callVerdict, isAllowingAction, normalizeArch, recordedArgsByIndex, resolveBaselineWithNotes, rulesFor } from './baseline.js';
import { retryOf, servedVia } from './covered.js';
import { EQUIVALENTS_COMMENT, siblingsToAdd } from './equivalents.js';
import type { Action, Profile, Rule } from './model.js';
import { actionsEqual, compareConditions, conditionListsEqual, DEFAULT_ERRNO_EPERM } from './model.js';
import type { Observation, Recording } from './recording.js';
import type { ArgLevel, ArgPlan } from './arg-rules.js';
import { cloneFallbackPlan, intersectWithBaseline, mergeRecordedArgs, planArgRules } from './arg-rules.js';

export interface RecordingInput {
  file: string;
  recording: Recording;
}

export interface RuntimeBaseSet {
  /** e.g. "runc 1.1.5" */
  label: string;
  /** Names per libseccomp arch. */
  syscalls: Record<string, string[]>;
}

export interface GenerateOptions {
  recordings: RecordingInput[];
  /** The runtime default as parsed (may still hold includes/excludes); undefined = no baseline. */
  baseline?: Profile;
  /** Capabilities and kernel the baseline is resolved for. */
  caps: string[];
  kernel: string;
  /** Extra target architectures (`--arch`); recorded ones are always included. */
  arches?: string[];
  runtimeBase?: RuntimeBaseSet;
  allowBeyondDefault?: boolean;
  /** Argument conditions from recorded values (arg-rules.ts); undefined = 'off'. */
  args?: ArgLevel;
  /** Add the equivalent syscalls of what was recorded (equivalents.ts); `--exact` turns it off. */
  equivalents?: boolean;
  /**
   * What happens to calls nobody recorded: 'deny' (the default: the baseline's
   * denial), or 'log': a canary profile, SCMP_ACT_LOG by default, so they run
   * and the kernel audits them. Recorded calls the baseline denies stay denied.
   */
  unrecorded?: 'deny' | 'log';
}

/** What the argument level restricted and what it left open. */
export interface ArgReport {
  level: ArgLevel;
  /** Syscalls allowed only for recorded values: how many combinations, what that closes. */
  restricted: { syscall: string; combinations: number; closes: string }[];
  /** Syscalls the level covers that stayed unrestricted, and why. */
  open: { syscall: string; why: string }[];
  /** Set when clone3 is answered ENOSYS because clone got conditions. */
  clone3?: string;
}

export interface GenerateReport {
  arches: string[];
  /** Names the profile allows (with or without conditions), sorted. */
  allowed: string[];
  /** Allowed only under the baseline's argument conditions. */
  conditional: string[];
  /** Recorded names the baseline denies: left out (or allowed anyway with allowBeyondDefault). */
  deniedByBaseline: string[];
  /**
   * Recorded names the baseline answers so that the C library retries with another
   * syscall, which it allows (clone3 ENOSYS → clone; covered.ts): covered, kept as
   * the baseline answers them, the retry's name allowed.
   */
  servedByRetry: { syscall: string; via: string }[];
  allowedBeyondDefault: string[];
  /** Recorded argument values the baseline's conditions deny (the call fails under the default too, and here). */
  deniedArgs: { syscall: string; arch: string; args: string }[];
  /** Names that came only from the runtime base set. */
  fromRuntimeBase: string[];
  /** Recorded only during the runtime's start-up (observations marked runtimeOnly). */
  runtimeOnly: string[];
  /** Numbers libseccomp could not name: cannot be written in a profile. */
  unnamed: { arch: string; nr: number; count: number }[];
  /** How many recordings contained each name. */
  coverage: Record<string, number>;
  /** Siblings added (equivalents.ts), each with the recorded names it stands in for. */
  equivalents: { syscall: string; for: string[] }[];
  /** Siblings not added, and why. */
  equivalentsSkipped: { syscall: string; for: string[]; why: string }[];
  baselineNotes: string[];
  hasBaseline: boolean;
  args: ArgReport;
}

export interface GenerateResult {
  profile: Profile;
  report: GenerateReport;
}

/** Target arches: the ones asked for, in that order, then any other recorded ones, sorted. */
export function targetArches(recordings: RecordingInput[], asked: string[] = []): string[] {
  const out: string[] = [];
  for (const a of asked) {
    const n = normalizeArch(a);
    if (!n) throw new UsageError(`unknown architecture ${JSON.stringify(a)}`);
    if (!out.includes(n)) out.push(n);
  }
  const recorded = new Set<string>();
  for (const { recording } of recordings) {
    for (const a of recording.arches) recorded.add(a);
    for (const o of recording.observations) recorded.add(o.arch);
  }
  for (const a of [...recorded].sort()) if (!out.includes(a)) out.push(a);
  return out;
}

interface NameSource {
  recordedIn: Set<string>;
  workload: boolean;
  runtimeOnly: boolean;
  fromBase: boolean;
  /** Where the name was first seen, for error messages. */
  where: { file: string; path: string };
}

function collectNames(opts: GenerateOptions, arches: string[]): { names: Map<string, NameSource>; unnamed: GenerateReport['unnamed'] } {
  const names = new Map<string, NameSource>();
  const unnamed: GenerateReport['unnamed'] = [];
  const entry = (name: string, where: NameSource['where']) => {
    let s = names.get(name);
    if (!s) names.set(name, (s = { recordedIn: new Set(), workload: false, runtimeOnly: false, fromBase: false, where }));
    return s;
  };
  for (const { file, recording } of opts.recordings) {
    recording.observations.forEach((o: Observation, i) => {
      if (!o.syscall) {
        unnamed.push({ arch: o.arch, nr: o.nr, count: o.count });
        return;
      }
      const s = entry(o.syscall, { file, path: `observations[${i}].syscall` });
      s.recordedIn.add(file);
      if (o.runtimeOnly) s.runtimeOnly = true;
      else s.workload = true;
    });
  }
  if (opts.runtimeBase) {
    for (const arch of arches) {
      for (const name of opts.runtimeBase.syscalls[arch] ?? []) {
        entry(name, { file: opts.runtimeBase.label, path: `syscalls.${arch}` }).fromBase = true;
      }
    }
  }
  unnamed.sort((a, b) => a.arch.localeCompare(b.arch) || a.nr - b.nr);
  return { names, unnamed };
}

/** The generated profile's default: the baseline's denial, or EPERM when the baseline allows by default. */
function generatedDefault(baseline: Profile | undefined): { action: Action; errnoRet?: number } {
  if (baseline && !isAllowingAction(baseline.defaultAction.kind) && baseline.defaultAction.kind !== 'notify' && baseline.defaultAction.kind !== 'trace') {
    const errnoRet = baseline.defaultAction.kind === 'errno' ? (baseline.defaultErrnoRet ?? DEFAULT_ERRNO_EPERM) : baseline.defaultErrnoRet;
    return { action: { ...baseline.defaultAction }, errnoRet };
  }
  return { action: { kind: 'errno' }, errnoRet: DEFAULT_ERRNO_EPERM };
}

const PLAIN_ALLOW: Action = { kind: 'allow' };

/**
 * The rules the baseline applies to one name, made explicit: its own rules,
 * plus a plain allow when the baseline's default allows and no rule covers
 * the name unconditionally. Empty when the default (a denial) applies.
 */
function baselineRulesFor(resolved: Profile, name: string): Rule[] {
  const rules = rulesFor(resolved, name);
  if (isAllowingAction(resolved.defaultAction.kind) && !rules.some((r) => r.args.length === 0)) {
    rules.push({ names: [name], action: { ...resolved.defaultAction }, args: [] });
  }
  return rules;
}

/** Rules with the same action and conditions share one entry; output order is canonical. */
export function groupRules(rules: Rule[]): Rule[] {
  const groups: Rule[] = [];
  // Other comments are dropped; the equivalents marker keeps its rules apart.
  const marked = (r: Rule) => r.comment === EQUIVALENTS_COMMENT;
  for (const r of rules) {
    const args = [...r.args].sort(compareConditions);
    const g = groups.find((x) => actionsEqual(x.action, r.action) && conditionListsEqual(x.args, args) && marked(x) === marked(r));
    if (g) {
      for (const n of r.names) if (!g.names.includes(n)) g.names.push(n);
    } else groups.push({ names: [...r.names], action: { ...r.action }, args, ...(marked(r) ? { comment: EQUIVALENTS_COMMENT } : {}) });
  }
  for (const g of groups) g.names.sort();
  const key = (r: Rule) => JSON.stringify([r.action.kind, r.action.ret ?? null, r.args.map((c) => [c.index, c.op, String(c.value), String(c.valueTwo)])]);
  return groups.sort((a, b) => {
    // The plain allow list first: it is what a reader looks for.
    const pa = a.args.length === 0 && a.action.kind === 'allow' && a.action.ret === undefined ? 0 : 1;
    const pb = b.args.length === 0 && b.action.kind === 'allow' && b.action.ret === undefined ? 0 : 1;
    return pa - pb || Number(marked(a)) - Number(marked(b)) || a.names[0].localeCompare(b.names[0]) || key(a).localeCompare(key(b));
  });
}

export function generateProfile(opts: GenerateOptions): GenerateResult {
  const arches = targetArches(opts.recordings, opts.arches);
  if (!arches.length) throw new UsageError('no architecture: the recordings saw no calls and no --arch was given');
  const { names, unnamed } = collectNames(opts, arches);

  const problems = new Map<string, string[]>();
  for (const [name, src] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
    const where = nameExistence(name, arches);
    if (where === 'some') continue;
    const why = where === 'unknown' ? `libseccomp does not know the syscall "${name}"` : `"${name}" exists on none of ${arches.join(', ')}`;
    if (!problems.has(src.where.file)) problems.set(src.where.file, []);
    problems.get(src.where.file)!.push(`${src.where.path}: ${why}`);
  }
  if (problems.size) {
    const [file, list] = [...problems][0];
    throw new InputError(file, list);
  }

  const target: BaselineTarget = { arches, caps: opts.caps, kernel: opts.kernel };
  const resolved = opts.baseline ? resolveBaselineWithNotes(opts.baseline, target) : undefined;
  // A recorded name the baseline serves through a retry is covered as the baseline answers it,
  // and the retry's name (clone for clone3) is needed even when it was not recorded.
  const retriedVia = new Map<string, string>();
  for (const [name, src] of resolved ? [...names] : []) {
    const via = servedVia(resolved!.profile, name);
    if (!via || !src.recordedIn.size) continue;
    retriedVia.set(name, via);
    if (!names.has(via)) names.set(via, { ...src, recordedIn: new Set(), fromBase: false });
  }
  const denial = generatedDefault(resolved?.profile);
  const def = opts.unrecorded === 'log' ? { action: { kind: 'log' } as Action, errnoRet: undefined } : denial;
  // A rule's errno without errnoRet is EPERM (runtime-spec); defaultErrnoRet is the default's alone.
  const isDefault = (a: Action) =>
    a.kind === def.action.kind && (a.kind !== 'errno' || (a.ret ?? DEFAULT_ERRNO_EPERM) === (def.errnoRet ?? DEFAULT_ERRNO_EPERM));

  const level = opts.args ?? 'off';
  const plans = planArgRules(mergeRecordedArgs(opts.recordings.flatMap((r) => r.recording.observations)), level, arches);
  // clone3's flags are out of seccomp's sight: when clone is restricted, clone3 gets ENOSYS and glibc
  // falls back to clone. A recording with clone3 but no clone still needs clone for that fallback.
  const clone3Src = names.get('clone3');
  if (clone3Src?.workload && !names.has('clone') && level !== 'off') {
    const fallback = cloneFallbackPlan(arches);
    if (fallback) {
      names.set('clone', { ...clone3Src, recordedIn: new Set(), fromBase: false });
      plans.set('clone', fallback);
    }
  }
  const restrictedPlan = (name: string): ArgPlan | undefined => {
    const p = plans.get(name);
    return p && !p.open ? p : undefined;
  };

  const out: Rule[] = [];
  const report: GenerateReport = {
    arches,
    allowed: [],
    conditional: [],
    deniedByBaseline: [],
    servedByRetry: [],
    allowedBeyondDefault: [],
    deniedArgs: [],
    fromRuntimeBase: [],
    runtimeOnly: [],
    unnamed,
    coverage: {},
    equivalents: [],
    equivalentsSkipped: [],
    baselineNotes: resolved?.notes ?? [],
    hasBaseline: resolved !== undefined,
    args: { level, restricted: [], open: [] },
  };
  const ours = (name: string, plan: ArgPlan): Rule[] => plan.allowed.map((args) => ({ names: [name], action: PLAIN_ALLOW, args }));
  const noteRestricted = (name: string, plan: ArgPlan, rules: Rule[]) =>
    report.args.restricted.push({ syscall: name, combinations: rules.length, closes: plan.closes ?? '' });
  for (const [name, src] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
    if (src.recordedIn.size) report.coverage[name] = src.recordedIn.size;
    if (src.fromBase && !src.recordedIn.size) report.fromRuntimeBase.push(name);
    if (src.runtimeOnly && !src.workload) report.runtimeOnly.push(name);
    const planned = plans.get(name);
    if (planned?.open) report.args.open.push({ syscall: name, why: planned.open });
    // The runtime's start-up makes this call with values no recording saw (they came with --runtime's base set).
    const runtimeUnseen = src.fromBase && !src.runtimeOnly && !planned?.open && planned !== undefined;
    if (runtimeUnseen) report.args.open.push({ syscall: name, why: "the runtime's start-up calls it (--runtime base set) with values the recording did not see" });
    const plan = runtimeUnseen ? undefined : restrictedPlan(name);
    if (!resolved) {
      const rules = plan ? ours(name, plan) : [{ names: [name], action: PLAIN_ALLOW, args: [] }];
      out.push(...rules);
      if (plan) noteRestricted(name, plan, rules);
      report.allowed.push(name);
      continue;
    }
    const rules = baselineRulesFor(resolved.profile, name);
    if (rules.some((r) => isAllowingAction(r.action.kind))) {
      const denials = rules.filter((r) => !isAllowingAction(r.action.kind) && !(r.args.length === 0 && isDefault(r.action)));
      const joined = plan ? intersectWithBaseline(name, plan.allowed, rules) : undefined;
      if (joined && !joined.fallback) {
        out.push(...joined.rules, ...denials);
        noteRestricted(name, plan!, joined.rules);
        if (joined.rules.length) {
          report.allowed.push(name);
          if (!rules.some((r) => isAllowingAction(r.action.kind) && r.args.length === 0)) report.conditional.push(name);
        }
        continue;
      }
      if (joined?.fallback) report.args.open.push({ syscall: name, why: joined.fallback });
      // Keep every rule the default has for it, denials with conditions too.
      for (const r of rules) if (!(r.args.length === 0 && isDefault(r.action))) out.push(r);
      report.allowed.push(name);
      if (!rules.some((r) => isAllowingAction(r.action.kind) && r.args.length === 0)) report.conditional.push(name);
      continue;
    }
    const via = retriedVia.get(name);
    if (via) {
      for (const r of rules) if (!isDefault(r.action)) out.push(r);
      // The baseline's default gave the answer; a canary's default would not.
      const answer = retryOf(name)!.answer;
      if (!rules.length && !isDefault(answer)) out.push({ names: [name], action: answer, args: [] });
      report.servedByRetry.push({ syscall: name, via });
      continue;
    }
    report.deniedByBaseline.push(name);
    if (opts.allowBeyondDefault) {
      const mine = plan ? ours(name, plan) : [{ names: [name], action: PLAIN_ALLOW, args: [] }];
      out.push(...mine);
      if (plan) noteRestricted(name, plan, mine);
      report.allowed.push(name);
      report.allowedBeyondDefault.push(name);
    } else {
      // Same denial as the default (clone3's ENOSYS lets glibc fall back to clone).
      for (const r of rules) if (!isDefault(r.action)) out.push(r);
      // A canary's default logs and lets through: keep the baseline's denial explicit.
      if (opts.unrecorded === 'log' && !rules.some((r) => r.args.length === 0))
        out.push({ names: [name], action: denial.action.kind === 'errno' ? { kind: 'errno', ret: denial.errnoRet ?? DEFAULT_ERRNO_EPERM } : { ...denial.action }, args: [] });
    }
  }

  if (report.args.restricted.some((r) => r.syscall === 'clone') && report.allowed.includes('clone')) {
    const enosys = retryOf('clone3')!.answer;
    const kept = out.filter((r) => !(r.names.includes('clone3') && isAllowingAction(r.action.kind)));
    out.length = 0;
    out.push(...kept);
    if (!out.some((r) => r.names.includes('clone3'))) {
      if (!isDefault(enosys)) out.push({ names: ['clone3'], action: enosys, args: [] });
    }
    report.allowed = report.allowed.filter((n) => n !== 'clone3');
    report.conditional = report.conditional.filter((n) => n !== 'clone3');
    report.args.clone3 = names.has('clone3')
      ? 'clone3 answered ENOSYS (its flags are out of seccomp\'s sight, so it would bypass clone\'s conditions); glibc falls back to clone'
      : 'clone3 answered ENOSYS so that glibc falls back to the restricted clone';
  }
  if (opts.equivalents) addEquivalents(names, resolved?.profile, arches, report, out, isDefault);

  if (resolved) report.deniedArgs = deniedRecordedArgs(opts.recordings, resolved.profile, new Set(report.allowed.filter((n) => !report.allowedBeyondDefault.includes(n))));

  const profile: Profile = {
    defaultAction: def.action,
    architectures: arches,
    rules: groupRules(out),
    flags: [],
  };
  if (def.errnoRet !== undefined) profile.defaultErrnoRet = def.errnoRet;
  return { profile, report };
}

/**
 * How a name fares: in the generated rules for recorded names (argument
 * conditions from the baseline or from --args make it 'conditional'), in the
 * baseline for the rest.
 */
function treatmentIn(report: GenerateReport, out: Rule[], baseline: Profile | undefined, name: string): 'plain' | 'conditional' | 'denied' {
  if (report.allowed.includes(name)) {
    const allowing = out.filter((r) => r.names.includes(name) && isAllowingAction(r.action.kind));
    return allowing.some((r) => r.args.length === 0) ? 'plain' : allowing.length ? 'conditional' : 'denied';
  }
  if (report.deniedByBaseline.includes(name)) return 'denied';
  if (!baseline) return 'plain';
  const rules = baselineRulesFor(baseline, name).filter((r) => isAllowingAction(r.action.kind));
  return rules.some((r) => r.args.length === 0) ? 'plain' : rules.length ? 'conditional' : 'denied';
}

/** The siblings of recorded names, with the baseline's rules for them, marked with EQUIVALENTS_COMMENT. */
function addEquivalents(
  names: Map<string, NameSource>,
  baseline: Profile | undefined,
  arches: string[],
  report: GenerateReport,
  out: Rule[],
  isDefault: (a: Action) => boolean,
): void {
  const recorded = [...names].filter(([, s]) => s.recordedIn.size).map(([n]) => n);
  const choice = siblingsToAdd({ recorded, arches, treatment: (n) => treatmentIn(report, out, baseline, n) });
  for (const [sib, recordedFor] of choice.added) {
    if (names.has(sib)) continue; // already allowed (the runtime base set)
    const rules = baseline ? baselineRulesFor(baseline, sib) : [{ names: [sib], action: PLAIN_ALLOW, args: [] }];
    for (const r of rules) if (!(r.args.length === 0 && isDefault(r.action))) out.push({ ...r, names: [sib], comment: EQUIVALENTS_COMMENT });
    report.equivalents.push({ syscall: sib, for: recordedFor });
  }
  report.equivalentsSkipped = choice.skipped;
}

/** Recorded argument tuples of allowed syscalls that the baseline's conditions deny. */
function deniedRecordedArgs(recordings: RecordingInput[], baseline: Profile, allowed: Set<string>): GenerateReport['deniedArgs'] {
  const seen = new Set<string>();
  const out: GenerateReport['deniedArgs'] = [];
  for (const { recording } of recordings) {
    for (const o of recording.observations) {
      if (!o.syscall || !o.args || !allowed.has(o.syscall)) continue;
      for (const tuple of o.args.values) {
        const args = recordedArgsByIndex(o.syscall, o.args.names, tuple, o.arch);
        if (!args || callVerdict(baseline, o.syscall, args) !== 'denied') continue;
        const text = o.args.names.map((n, i) => `${n}=${tuple[i]}`).join(', ');
        const key = `${o.arch}/${o.syscall}/${text}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ syscall: o.syscall, arch: o.arch, args: text });
      }
    }
  }
  return out.sort((a, b) => a.syscall.localeCompare(b.syscall) || a.arch.localeCompare(b.arch) || a.args.localeCompare(b.args));
}
