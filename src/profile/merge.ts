// Union of recordings and allow-list profiles, with per-syscall coverage (how
// many inputs allowed it), and the superset check behind `merge --check`.
import { InputError, UsageError } from '../errors.js';
import { nativeArchName } from '../seccomp/arch.js';
import { callVerdict, isAllowingAction, recordedArgsByIndex, rulesFor } from './baseline.js';
import { EQUIVALENTS_COMMENT } from './equivalents.js';
import { servedVia } from './covered.js';
import { generateProfile, groupRules } from './generate.js';
import type { ArgLevel } from './arg-rules.js';
import { describe, isRecord, parseJsonDocument } from './json-input.js';
import { parseProfileText, readInput } from './load.js';
import type { Condition, Profile, Rule } from './model.js';
import { actionsEqual, allowListProfile, conditionListsEqual, conditionsEqual } from './model.js';
import { ACTION_TO_OCI } from './names.js';
import type { Recording } from './recording.js';
import { parseRecording, RECORDING_KIND } from './recording.js';

export type LoadedInput =
  | { file: string; kind: 'recording'; recording: Recording }
  | { file: string; kind: 'profile'; profile: Profile };

/** Reads a recording or a profile (OCI JSON or SPO YAML), told apart by the recording's `kind`. */
export function loadInputFile(file: string): LoadedInput {
  const { text, label } = readInput(file);
  if (text.trimStart().startsWith('{')) {
    const doc = parseJsonDocument(text, label);
    if (isRecord(doc) && doc.kind === RECORDING_KIND) return { file: label, kind: 'recording', recording: parseRecording(text, label) };
    if (isRecord(doc) && typeof doc.kind === 'string' && doc.kind.startsWith('seccomp-recorder/'))
      throw new InputError(label, [`kind: ${describe(doc.kind)} is neither a recording nor a profile`]);
  }
  return { file: label, kind: 'profile', profile: parseProfileText(text, label).profile };
}

/** A recording as the allow-list it implies (unnamed numbers cannot be written and are left out). */
export function inputAsProfile(input: LoadedInput): Profile {
  if (input.kind === 'profile') return input.profile;
  const names = input.recording.observations.filter((o) => o.syscall).map((o) => o.syscall!);
  return allowListProfile(input.recording.arches, names);
}

function checkMergeable(input: LoadedInput, p: Profile): void {
  const problems: string[] = [];
  if (isAllowingAction(p.defaultAction.kind))
    problems.push(`defaultAction: ${ACTION_TO_OCI[p.defaultAction.kind]} makes a deny-list; merge unions allow-lists (profiles that deny by default)`);
  if (p.defaultAction.kind === 'notify') problems.push('defaultAction: SCMP_ACT_NOTIFY is a recording profile, not one to merge');
  if (p.archMap !== undefined) problems.push('archMap: a Docker-only field; generate from a recording with --baseline to resolve it');
  p.rules.forEach((r, i) => {
    if (r.includes || r.excludes) problems.push(`syscalls[${i}]: includes/excludes must be resolved first (generate --baseline does that)`);
  });
  if (problems.length) throw new InputError(input.file, problems);
}

export interface MergeResult {
  profile: Profile;
  /** How many inputs allowed each name (recorded it, or had an allowing rule for it). */
  coverage: Record<string, number>;
  inputs: number;
  warnings: string[];
}

const unconditionalAllow = (r: Rule) => isAllowingAction(r.action.kind) && r.args.length === 0;

/**
 * The rules a name gets in the union: allowed when any input allows it. An
 * unconditional allow anywhere wins outright; conditional allows are kept
 * side by side (their OR is the union), with the conditional denials that
 * came with them; denials alone stay denials.
 */
function unionRulesFor(name: string, rules: Rule[]): Rule[] {
  const unique: Rule[] = [];
  for (const r of rules) {
    if (!unique.some((u) => actionsEqual(u.action, r.action) && conditionListsEqual(u.args, r.args))) unique.push({ ...r, names: [name] });
  }
  // Recorded (or allowed as such) in any input: no longer only an added equivalent.
  if (rules.some((r) => r.comment !== EQUIVALENTS_COMMENT)) for (const u of unique) delete u.comment;
  const plain = unique.find((r) => unconditionalAllow(r) && r.action.kind === 'allow') ?? unique.find(unconditionalAllow);
  if (plain) return [plain];
  if (unique.some((r) => isAllowingAction(r.action.kind))) return unique.filter((r) => r.args.length > 0);
  return unique.slice(0, 1).concat(unique.slice(1).filter((r) => r.args.length > 0));
}

/**
 * The recordings among the inputs as one profile with argument conditions
 * (generate --args, no baseline): their values and overflow flags are unioned
 * before any condition is written, so the conditions are the union's.
 */
function recordingsWithArgs(inputs: LoadedInput[], level: ArgLevel): Profile | undefined {
  const recordings = inputs.flatMap((i) => (i.kind === 'recording' ? [{ file: i.file, recording: i.recording }] : []));
  if (!recordings.length || level === 'off') return undefined;
  return generateProfile({ recordings, caps: [], kernel: '0.0', args: level }).profile;
}

export function mergeInputs(inputs: LoadedInput[], opts: { args?: ArgLevel } = {}): MergeResult {
  if (!inputs.length) throw new UsageError('nothing to merge');
  const profiles = inputs.map((i) => {
    const p = inputAsProfile(i);
    checkMergeable(i, p);
    return p;
  });
  // With --args, the recordings' rules are their combined conditioned profile; coverage still counts each input.
  const conditioned = recordingsWithArgs(inputs, opts.args ?? 'off');
  const ruleSources = conditioned ? [conditioned, ...profiles.filter((_, i) => inputs[i].kind === 'profile')] : profiles;
  const warnings: string[] = [];
  const first = profiles[0];
  profiles.forEach((p, i) => {
    const same = p.defaultAction.kind === first.defaultAction.kind && p.defaultErrnoRet === first.defaultErrnoRet;
    if (!same) warnings.push(`${inputs[i].file}: its default action differs from ${inputs[0].file}'s; the merged profile keeps the first one's`);
  });
  const architectures: string[] = [];
  for (const p of profiles) for (const a of p.architectures) if (!architectures.includes(a)) architectures.push(a);

  const byName = new Map<string, Rule[]>();
  const coverage: Record<string, number> = {};
  for (const p of ruleSources) {
    for (const r of p.rules) {
      for (const n of r.names) {
        if (!byName.has(n)) byName.set(n, []);
        byName.get(n)!.push(r);
      }
    }
  }
  for (const p of profiles) {
    const allowedHere = new Set<string>();
    for (const r of p.rules) if (isAllowingAction(r.action.kind)) for (const n of r.names) allowedHere.add(n);
    for (const n of allowedHere) coverage[n] = (coverage[n] ?? 0) + 1;
  }
  const rules: Rule[] = [];
  for (const name of [...byName.keys()].sort()) rules.push(...unionRulesFor(name, byName.get(name)!));
  const profile: Profile = { defaultAction: { ...first.defaultAction }, architectures, rules: groupRules(rules), flags: [] };
  if (first.defaultErrnoRet !== undefined) profile.defaultErrnoRet = first.defaultErrnoRet;
  const sorted = Object.fromEntries(Object.entries(coverage).sort(([a], [b]) => a.localeCompare(b)));
  return { profile, coverage: sorted, inputs: inputs.length, warnings };
}

export interface Shortfall {
  syscall: string;
  why: string;
}

export interface SupersetCheck {
  ok: boolean;
  missingArches: string[];
  missing: Shortfall[];
}

function describeConditions(args: Condition[]): string {
  return args.map((c) => `arg${c.index} ${c.op} 0x${c.value.toString(16)}${c.op === 'masked-eq' ? ` (== 0x${c.valueTwo.toString(16)})` : ''}`).join(' && ');
}

/** Does `base` allow everything `candidate` allows (or recorded)? Conditions compare conservatively. */
export function checkSuperset(base: Profile, candidate: LoadedInput): SupersetCheck {
  const baseArches = base.architectures.length ? base.architectures : [nativeArchName()];
  const cand = inputAsProfile(candidate);
  const missingArches = cand.architectures.filter((a) => !baseArches.includes(a));
  const missing: Shortfall[] = [];
  const names = new Set<string>();
  for (const r of cand.rules) if (isAllowingAction(r.action.kind)) for (const n of r.names) names.add(n);
  for (const name of [...names].sort()) {
    // Served by a retry (clone3 answered ENOSYS beside an allowed clone): the retry's name is checked as its own.
    if (servedVia(base, name)) continue;
    const have = rulesFor(base, name);
    const haveAllow = have.filter((r) => isAllowingAction(r.action.kind));
    const haveDeny = have.filter((r) => !isAllowingAction(r.action.kind) && r.args.length > 0);
    if (!haveAllow.length && !isAllowingAction(base.defaultAction.kind)) {
      missing.push({ syscall: name, why: 'not allowed' });
      continue;
    }
    if (candidate.kind === 'recording') {
      const why = recordedShortfall(base, candidate.recording, name, haveAllow);
      if (why) missing.push({ syscall: name, why });
      continue;
    }
    const candRules = rulesFor(cand, name);
    const candDeny = candRules.filter((r) => !isAllowingAction(r.action.kind) && r.args.length > 0);
    for (const want of candRules.filter((r) => isAllowingAction(r.action.kind))) {
      // base covers `want` when one of its allow rules asks no more than `want` does...
      const covered =
        isAllowingAction(base.defaultAction.kind) || haveAllow.some((h) => h.args.every((c) => want.args.some((d) => conditionsEqual(c, d))));
      if (!covered) {
        const why = want.args.length
          ? `not allowed when ${describeConditions(want.args)}`
          : `allowed only when ${haveAllow.map((h) => describeConditions(h.args)).join(' or ')}`;
        missing.push({ syscall: name, why });
        break;
      }
      // ...and it has no conditional denial the candidate lacks.
      const blocking = haveDeny.filter((d) => !candDeny.some((c) => actionsEqual(c.action, d.action) && conditionListsEqual(c.args, d.args)));
      if (blocking.length) {
        missing.push({ syscall: name, why: `denied when ${blocking.map((b) => describeConditions(b.args)).join(' or ')}` });
        break;
      }
    }
  }
  return { ok: !missingArches.length && !missing.length, missingArches, missing };
}

/** For a recorded name: whether base's conditions let the recorded argument values through. */
function recordedShortfall(base: Profile, rec: Recording, name: string, haveAllow: Rule[]): string | undefined {
  const conditionalOnly = !haveAllow.some((r) => r.args.length === 0) && !isAllowingAction(base.defaultAction.kind);
  const hasConditions = rulesFor(base, name).some((r) => r.args.length > 0);
  if (!hasConditions) return undefined;
  const denied: string[] = [];
  let unknown = false;
  for (const o of rec.observations) {
    if (o.syscall !== name) continue;
    if (!o.args) {
      unknown = true;
      continue;
    }
    for (const tuple of o.args.values) {
      const args = recordedArgsByIndex(name, o.args.names, tuple, o.arch);
      const verdict = args ? callVerdict(base, name, args) : 'unknown';
      if (verdict === 'denied') denied.push(o.args.names.map((n, i) => `${n}=${tuple[i]}`).join(', '));
      else if (verdict === 'unknown') unknown = true;
    }
  }
  if (denied.length) return `denied for recorded ${denied.join('; ')}`;
  if (unknown && conditionalOnly) return 'allowed only under argument conditions the recording cannot confirm';
  return undefined;
}
