// Enforcement, not a recording source: sits beside record/ (it uses the launcher) and under cli/.
// `run --profile P [--complain] -- CMD`: compiles P as runc would and has the
// launcher install it just before exec. In complain mode every denying action
// (and a denying default, and calls of arches P lacks) becomes user-notify; the
// native session continues each such call and counts it with its first caller's
// pid and executable, so the run behaves as if unconfined and the report says
// what P would have denied.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NativeError, SeccompError, UsageError } from '../errors.js';
import { formatAction } from '../profile/lint.js';
import type { Action, Profile, Rule } from '../profile/model.js';
import { archOfCall } from '../seccomp/arch.js';
import { compileProfile } from '../seccomp/compile.js';
import type { RuleAdd } from '../seccomp/runc-policy.js';
import { effectiveDefaultAction, runcArches, runcRuleAdds } from '../seccomp/runc-policy.js';
import { archToken, libseccompVersion, syscallName } from '../seccomp/libseccomp.js';
import { unknownNameUses } from '../seccomp/name-report.js';
import type { LaunchResult } from '../record/launch.js';
import { launch } from '../record/launch.js';
import type { RawEntry } from '../record/native.js';

/**
 * The launcher's own execve must notify whenever a listener is requested:
 * the listener it hands over is close-on-exec, so the supervisor has to take
 * it while that execve waits for an answer (see native/launcher.c).
 */
const HANDOVER_SYSCALLS = ['execve', 'execveat'];

/** seccomp(2) flag bits the launcher passes for the profile's `flags`. TSYNC is moot: the launcher is single-threaded. */
const FLAG_BITS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_LOG: 1 << 1,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
};

/** The flag bits to install the profile with; WAIT_KILLABLE_RECV only means something with a listener. */
export function seccompFlagBits(profile: Profile, listener: boolean): number {
  return profile.flags.reduce((bits, f) => (f === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' && !listener ? bits : bits | (FLAG_BITS[f] ?? 0)), 0);
}

/** The profile's filter flags the launcher does not pass to seccomp(2). */
export function flagsNotApplied(profile: Profile, listener: boolean): string[] {
  return profile.flags.filter((f) => f !== 'SECCOMP_FILTER_FLAG_TSYNC' && !(FLAG_BITS[f] && (listener || f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')));
}

export interface EnforceOptions {
  /** A plain (resolved) profile. */
  profile: Profile;
  command: string[];
  complain: boolean;
  logger: Logger;
  onWaitingForDescendants?: () => void;
}

export interface NotifiedCall {
  syscall: string;
  arch: string;
  nr: number;
  count: number;
  pid: number;
  exe?: string;
  /** What P does with it: `SCMP_ACT_ERRNO(EPERM)`, or why it is denied. */
  action: string;
}

export interface EnforceResult {
  result: LaunchResult;
  /** Complain mode: calls P would have denied, one entry per (arch, syscall). */
  wouldDeny: NotifiedCall[];
  /** Calls P itself sends to a user-notify listener; run answered CONTINUE. */
  notified: NotifiedCall[];
  /** Profile flags the launcher could not apply. */
  ignoredFlags: string[];
}

const isDenying = (a: Action) => a.kind !== 'allow' && a.kind !== 'log' && a.kind !== 'notify';
const NOTIFY: Action = { kind: 'notify' };

/** P with every denying action turned into NOTIFY (what complain mode installs). */
export function complainProfile(profile: Profile): Profile {
  const out: Profile = {
    ...profile,
    defaultAction: isDenying(profile.defaultAction) ? NOTIFY : { ...profile.defaultAction },
    rules: profile.rules.map((r) => ({ ...r, action: isDenying(r.action) ? NOTIFY : { ...r.action } })),
  };
  if (isDenying(profile.defaultAction)) delete out.defaultErrnoRet;
  return out;
}

function usesNotify(p: Profile): boolean {
  return p.defaultAction.kind === 'notify' || p.rules.some((r) => r.action.kind === 'notify');
}

/** Makes `names` notify unconditionally; other rules for them are removed. */
function forceNotify(p: Profile, names: string[]): Profile {
  if (!names.length) return p;
  const rules: Rule[] = p.rules.map((r) => ({ ...r, names: r.names.filter((n) => !names.includes(n)) })).filter((r) => r.names.length);
  return { ...p, rules: [...rules, { names: [...names], action: NOTIFY, args: [] }] };
}

/**
 * The hand-over syscalls that must be made to notify in `installed`: those it
 * allows. Where it already notifies there is nothing to do; where it denies,
 * the command cannot start anyway. With argument conditions only complain mode
 * can notify them all (it continues every call); enforcing cannot.
 */
function handoverToForce(installed: Profile, complain: boolean): string[] {
  const adds = runcRuleAdds(installed);
  const out: string[] = [];
  for (const name of HANDOVER_SYSCALLS) {
    const mine = adds.filter((a) => a.name === name && !a.equalsDefault);
    const uncond = mine.find((a) => a.conditions.length === 0);
    const action = uncond ? uncond.action : mine.length ? undefined : effectiveDefaultAction(installed);
    if (action === undefined) {
      if (!complain)
        throw new UsageError(`run cannot enforce this profile: it uses SCMP_ACT_NOTIFY and has argument conditions on ${name}, which the launcher needs to hand the listener over; try --complain`);
      out.push(name);
    } else if (action.kind === 'allow' || action.kind === 'log') {
      out.push(name);
    }
  }
  return out;
}

/** The actions that can have made a notified call of `name` under the installed filter, as P states them. */
function notifyingActions(adds: RuleAdd[], profile: Profile, name: string): { actions: Action[]; conditional: boolean } {
  const mine = adds.filter((a) => a.name === name && !a.equalsDefault);
  const uncond = mine.find((a) => a.conditions.length === 0);
  // libseccomp: the first unconditional rule wins over everything else for that syscall.
  const candidates = uncond ? [uncond.action] : [...mine.map((a) => a.action), effectiveDefaultAction(profile)];
  return { actions: candidates.filter((a) => a.kind !== 'allow' && a.kind !== 'log'), conditional: !uncond && mine.length > 0 };
}

function classify(profile: Profile, entries: RawEntry[], forced: Set<string>): { wouldDeny: NotifiedCall[]; notified: NotifiedCall[] } {
  const adds = runcRuleAdds(profile);
  const filterArches = new Set(runcArches(profile));
  const wouldDeny: NotifiedCall[] = [];
  const notified: NotifiedCall[] = [];
  for (const e of entries) {
    const arch = archOfCall(e.arch >>> 0, e.nr);
    const token = arch ? archToken(arch.name) : undefined;
    const name = (token !== undefined && syscallName(token, e.nr)) || `#${e.nr}`;
    // Keys in the order the JSON report shows them.
    const call: NotifiedCall = { syscall: name, arch: arch?.name ?? `0x${(e.arch >>> 0).toString(16)}`, nr: e.nr, count: e.count, pid: e.firstPid, exe: e.firstExe, action: '' };
    if (!e.firstExe) delete call.exe;
    if (!arch || !filterArches.has(arch.name)) {
      wouldDeny.push({ ...call, action: `architecture ${call.arch} is not in the profile: SCMP_ACT_KILL_THREAD` });
      continue;
    }
    const { actions, conditional } = notifyingActions(adds, profile, name);
    // A hand-over call P allows was made to notify by us, not by P.
    if (forced.has(name) && !actions.length) continue;
    const denying = actions.filter(isDenying);
    const labels = [...new Set(denying.map(formatAction))].join(' or ') + (conditional ? ' (depending on its arguments)' : '');
    if (denying.length) wouldDeny.push({ ...call, action: labels });
    else notified.push({ ...call, action: 'SCMP_ACT_NOTIFY' });
  }
  const order = (a: NotifiedCall, b: NotifiedCall) => (a.syscall < b.syscall ? -1 : a.syscall > b.syscall ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0);
  return { wouldDeny: wouldDeny.sort(order), notified: notified.sort(order) };
}

/** Runs the command under the profile (or its complain version) and reports what was notified. */
export async function runUnderProfile(opts: EnforceOptions): Promise<EnforceResult> {
  // The profile itself must compile as runc would build it, complain mode or not.
  const original = compileProfile(opts.profile);
  if (original.problems.length) {
    throw new SeccompError(
      `the profile does not compile: ${original.problems.map((p) => `${p.path}: ${p.message}`).join('; ')} (run \`seccomp-recorder validate\` for details)`,
      original.problems[0].message.replace(/^.*failed: /, ''),
    );
  }
  // runc skips names libseccomp does not know; in a rule that denies what the default allows that loosens the profile.
  const loosening = unknownNameUses(opts.profile, libseccompVersion()).filter((u) => u.severity === 'error');
  if (loosening.length)
    throw new SeccompError(`the profile cannot be enforced as written: ${loosening.map((u) => `syscalls[${u.ruleIndex}].names[${u.nameIndex}]: ${u.message}`).join('; ')}`, 'EINVAL');
  let installed = opts.complain ? complainProfile(opts.profile) : opts.profile;
  const listener = usesNotify(installed);
  const forced = new Set(listener ? handoverToForce(installed, opts.complain) : []);
  installed = forceNotify(installed, [...forced]);
  const compiled = opts.complain || forced.size ? compileProfile(installed, { badArch: opts.complain ? NOTIFY : undefined }) : original;
  if (compiled.problems.length) {
    throw new SeccompError(`the ${opts.complain ? 'complain-mode ' : ''}filter does not compile: ${compiled.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, 'EINVAL');
  }
  if (compiled.skippedUnknown.length) opts.logger.warn({ names: compiled.skippedUnknown }, 'names libseccomp does not know were skipped, as runc does');
  const dir = mkdtempSync(join(tmpdir(), 'seccomp-recorder-run-'));
  try {
    const bpfFile = join(dir, 'filter.bpf');
    writeFileSync(bpfFile, compiled.bpf, { mode: 0o600 });
    const result = await launch({
      command: opts.command,
      bpfFile,
      listener,
      seccompFlags: seccompFlagBits(opts.profile, listener),
      captureExe: listener,
      logger: opts.logger,
      onWaitingForDescendants: opts.onWaitingForDescendants,
    });
    if (listener && result.session?.attached !== 1) throw new NativeError('the command ended before its listener could be taken; nothing was checked');
    const { wouldDeny, notified } = listener ? classify(opts.profile, result.entries, forced) : { wouldDeny: [], notified: [] };
    return { result, wouldDeny, notified, ignoredFlags: flagsNotApplied(opts.profile, listener) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
