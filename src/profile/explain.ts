// `explain`: what a profile allows, how that compares with the runtime
// default, which allowed syscalls are risky (one line why), and which recorded
// syscalls only the runtime's start-up made. Pure; the CLI prints it.
import { nativeArchName } from '../seccomp/arch.js';
import { unknownNameUses } from '../seccomp/name-report.js';
import { existsOnAny } from '../seccomp/syscall-exists.js';
import { isAllowingAction, rulesFor } from './baseline.js';
import { dangerReason, DANGEROUS } from './dangerous.js';
import { markedEquivalents } from './equivalents.js';
import type { Condition, Profile, Rule } from './model.js';
import type { Recording } from './recording.js';
import type { ArgExplanation } from './arg-report.js';
import { explainArgs, formatArgExplanation } from './arg-report.js';

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000n;

export interface RiskyAllowance {
  syscall: string;
  reason: string;
  /** How it is allowed: 'always', or the conditions. */
  when: string;
}

export interface Explanation {
  arches: string[];
  /** A deny-list profile (allows by default): the comparison is about what it denies. */
  denyList: boolean;
  allowed: string[];
  conditional: string[];
  baseline?: {
    /** Names the baseline allows that exist on the profile's arches. */
    allowedCount: number;
    /** Allowed here and by the baseline. */
    alsoAllowedByBaseline: number;
    /** Allowed here though the baseline denies them. */
    beyondBaseline: string[];
    /** Allowed here without the argument conditions the baseline puts on them. */
    looserThanBaseline: string[];
  };
  risky: RiskyAllowance[];
  /** Risky names allowed only under conditions that keep the danger out (clone without namespace flags...). */
  restricted: RiskyAllowance[];
  /** Per recording file: names seen only during the runtime's start-up. */
  runtimeOnly: { file: string; names: string[] }[];
  /**
   * With --recording: how many of the recordings saw each syscall; the ones
   * seen in only some runs are what a next run may take or skip.
   */
  coverage?: { runs: number; partial: { syscall: string; runs: number }[] };
  /** Names allowed only as added equivalents of recorded calls (the profile's marked rules). */
  equivalents: string[];
  /** Names libseccomp does not know, weighed as validate weighs them; how a Docker-shaped profile was resolved. */
  notes: string[];
  /** Argument conditions by name, what they leave open, and the risks they close (arg-report.ts). */
  args: ArgExplanation;
}

function allowingRules(p: Profile, name: string): Rule[] {
  return rulesFor(p, name).filter((r) => isAllowingAction(r.action.kind));
}

/** Names a (plain, resolved) profile allows: any allowing rule, with or without conditions. */
export function allowedNames(p: Profile): string[] {
  const out = new Set<string>();
  for (const r of p.rules) if (isAllowingAction(r.action.kind)) for (const n of r.names) out.add(n);
  return [...out].sort();
}

export function describeCondition(c: Condition): string {
  const v = `0x${c.value.toString(16)}`;
  switch (c.op) {
    case 'masked-eq':
      return `arg${c.index} & ${v} == 0x${c.valueTwo.toString(16)}`;
    case 'eq':
      return `arg${c.index} == ${v}`;
    case 'ne':
      return `arg${c.index} != ${v}`;
    case 'lt':
      return `arg${c.index} < ${v}`;
    case 'le':
      return `arg${c.index} <= ${v}`;
    case 'gt':
      return `arg${c.index} > ${v}`;
    case 'ge':
      return `arg${c.index} >= ${v}`;
  }
}

function describeRules(rules: Rule[]): string {
  if (rules.some((r) => r.args.length === 0)) return 'always';
  return rules.map((r) => r.args.map(describeCondition).join(' && ')).join(' or ');
}

/** Every allowing clone rule masks the namespace flags to zero (arg0, or arg1 on s390). */
function cloneWithoutNamespaces(rules: Rule[]): boolean {
  return (
    rules.length > 0 &&
    rules.every((r) =>
      r.args.some(
        (c) =>
          c.op === 'masked-eq' && (c.index === 0 || c.index === 1) && (c.value & CLONE_NAMESPACE_FLAGS) === CLONE_NAMESPACE_FLAGS && (c.valueTwo & CLONE_NAMESPACE_FLAGS) === 0n,
      ),
    )
  );
}

/**
 * personality pinned to a few values cannot switch ASLR off unless one of
 * them does; 0xffffffff only queries the current persona.
 */
const ADDR_NO_RANDOMIZE = 0x0040000n;
const PERSONALITY_QUERY = 0xffffffffn;
function personalityPinned(rules: Rule[]): boolean {
  const safe = (v: bigint) => v === PERSONALITY_QUERY || (v & ADDR_NO_RANDOMIZE) === 0n;
  return rules.length > 0 && rules.every((r) => r.args.some((c) => c.index === 0 && c.op === 'eq' && safe(c.value)));
}

function riskOf(p: Profile, name: string): { risky?: RiskyAllowance; restricted?: RiskyAllowance } {
  const reason = dangerReason(name);
  if (!reason) return {};
  const rules = allowingRules(p, name);
  const item = { syscall: name, reason, when: describeRules(rules) };
  if ((name === 'clone' || name === 'unshare') && cloneWithoutNamespaces(rules)) return { restricted: { ...item, reason: 'allowed only without namespace flags' } };
  if (name === 'personality' && personalityPinned(rules)) return { restricted: { ...item, reason: 'allowed only for fixed values that keep ASLR on' } };
  return { risky: item };
}

export interface ExplainOptions {
  /** The runtime default, resolved for the same target (see resolveBaseline). */
  baseline?: Profile;
  recordings?: { file: string; recording: Recording }[];
  /** libseccomp's version: names it does not know are weighed against the default (as validate does). */
  libseccomp?: string;
}

export function explainProfile(profile: Profile, opts: ExplainOptions = {}): Explanation {
  const arches = profile.architectures;
  const denyList = isAllowingAction(profile.defaultAction.kind);
  const allowed = allowedNames(profile);
  const conditional = allowed.filter((n) => !allowingRules(profile, n).some((r) => r.args.length === 0));
  const targetArches = arches.length ? arches : [nativeArchName()];
  const ex: Explanation = { arches, denyList, allowed, conditional, risky: [], restricted: [], runtimeOnly: [], notes: [], equivalents: markedEquivalents(profile), args: explainArgs(profile, targetArches, opts.recordings) };
  if (opts.libseccomp)
    for (const u of unknownNameUses(profile, opts.libseccomp)) ex.notes.push(`${u.severity}: syscalls[${u.ruleIndex}].names[${u.nameIndex}]: ${u.message}`);

  if (opts.baseline) {
    const b = opts.baseline;
    const allowedByBase = (n: string) =>
      allowingRules(b, n).length > 0 ||
      (isAllowingAction(b.defaultAction.kind) && !rulesFor(b, n).some((r) => !isAllowingAction(r.action.kind) && r.args.length === 0));
    ex.baseline = {
      allowedCount: allowedNames(b).filter((n) => existsOnAny(n, targetArches)).length,
      alsoAllowedByBaseline: allowed.filter(allowedByBase).length,
      beyondBaseline: allowed.filter((n) => !allowedByBase(n)),
      looserThanBaseline: allowed.filter((n) => {
        const theirs = allowingRules(b, n);
        return allowingRules(profile, n).some((r) => r.args.length === 0) && theirs.length > 0 && theirs.every((r) => r.args.length > 0);
      }),
    };
  }

  if (denyList) {
    // Everything not denied outright is allowed: check the whole list.
    for (const [name, reason] of DANGEROUS) {
      if (!existsOnAny(name, targetArches)) continue;
      const deniedAlways = rulesFor(profile, name).some((r) => !isAllowingAction(r.action.kind) && r.args.length === 0);
      if (!deniedAlways) ex.risky.push({ syscall: name, reason, when: 'not denied' });
    }
  } else {
    for (const name of allowed) {
      const { risky, restricted } = riskOf(profile, name);
      if (risky) ex.risky.push(risky);
      if (restricted) ex.restricted.push(restricted);
    }
  }

  if (opts.recordings?.length) ex.coverage = coverageOf(opts.recordings.map((r) => r.recording));
  for (const { file, recording } of opts.recordings ?? []) {
    const workload = new Set(recording.observations.filter((o) => o.syscall && !o.runtimeOnly).map((o) => o.syscall!));
    const startup = new Set(recording.observations.filter((o) => o.syscall && o.runtimeOnly && !workload.has(o.syscall)).map((o) => o.syscall!));
    ex.runtimeOnly.push({ file, names: [...startup].sort() });
  }
  return ex;
}

/** Per syscall, how many of the recordings saw it; the partial ones sorted by runs, then name. */
export function coverageOf(recordings: Recording[]): { runs: number; partial: { syscall: string; runs: number }[] } {
  const seen = new Map<string, number>();
  for (const r of recordings) for (const n of new Set(r.observations.filter((o) => o.syscall).map((o) => o.syscall!))) seen.set(n, (seen.get(n) ?? 0) + 1);
  const partial = [...seen]
    .filter(([, n]) => n < recordings.length)
    .map(([syscall, runs]) => ({ syscall, runs }))
    .sort((a, b) => a.runs - b.runs || a.syscall.localeCompare(b.syscall));
  return { runs: recordings.length, partial };
}

/** The coverage lines explain prints (and `recordings show`'s wording). */
export function formatCoverage(c: { runs: number; partial: { syscall: string; runs: number }[] }, what = 'recordings'): string[] {
  if (c.runs === 1)
    return [
      `warning: this profile rests on a single recording: a call the next run makes and this one did not (a new WAL segment, a log rotation, a retry) ` +
        `is denied. Record more runs and merge them, and/or ship a canary first (generate --unrecorded log)`,
    ];
  if (!c.partial.length) return [`coverage: every syscall was seen in all ${c.runs} ${what}`];
  const lines = [`coverage: ${c.partial.length} syscalls seen in only some of the ${c.runs} ${what} (the next run may need what one run skipped):`];
  const byRuns = new Map<number, string[]>();
  for (const p of c.partial) byRuns.set(p.runs, [...(byRuns.get(p.runs) ?? []), p.syscall]);
  for (const [n, names] of byRuns) lines.push(`  in ${n} of ${c.runs}: ${names.join(', ')}`);
  return lines;
}

function list(names: string[]): string {
  return names.length ? names.join(', ') : 'none';
}

export function formatExplanation(ex: Explanation, ctx: { file: string; baselineLabel: string }): string {
  const lines: string[] = [];
  const arches = ex.arches.length ? ex.arches.join(', ') : 'the native arch';
  if (ex.denyList) {
    lines.push(`${ctx.file}: a deny-list (everything not listed is allowed), for ${arches}`);
  } else {
    lines.push(`${ctx.file}: ${ex.allowed.length} syscalls allowed, for ${arches}`);
    if (ex.conditional.length) lines.push(`  only under argument conditions: ${ex.conditional.join(', ')}`);
    if (ex.equivalents.length)
      lines.push(`  ${ex.equivalents.length} of them not recorded, allowed as equivalents of recorded calls: ${ex.equivalents.join(', ')}`);
  }
  if (ex.baseline) {
    const b = ex.baseline;
    lines.push(`compared with RuntimeDefault (${ctx.baselineLabel}):`);
    if (!ex.denyList) lines.push(`  ${b.alsoAllowedByBaseline} of ${b.allowedCount} allowed by RuntimeDefault are allowed here`);
    lines.push(`  allowed here but denied by RuntimeDefault: ${list(b.beyondBaseline)}`);
    if (b.looserThanBaseline.length) lines.push(`  allowed here without the conditions RuntimeDefault puts on them: ${list(b.looserThanBaseline)}`);
  } else {
    lines.push(`RuntimeDefault: ${ctx.baselineLabel}`);
  }
  if (ex.risky.length) {
    lines.push(`risky syscalls allowed (${ex.risky.length}):`);
    const w = Math.max(...ex.risky.map((r) => r.syscall.length));
    for (const r of ex.risky) lines.push(`  ${r.syscall.padEnd(w)}  ${r.reason}${r.when !== 'always' && r.when !== 'not denied' ? ` [when ${r.when}]` : ''}`);
  } else lines.push('risky syscalls allowed: none');
  for (const r of ex.restricted) lines.push(`  (${r.syscall}: ${r.reason})`);
  lines.push(...formatArgExplanation(ex.args));
  for (const r of ex.runtimeOnly)
    lines.push(`seen only during the runtime's start-up in ${r.file}: ${list(r.names)}`);
  if (ex.coverage) lines.push(...formatCoverage(ex.coverage));
  for (const n of ex.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
