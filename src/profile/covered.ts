// "Covered": whether a profile serves calls of a syscall by its name alone,
// whatever their arguments: a plain allow (a rule, or an allowing default),
// or a retry. The one place that knows clone3's retry: glibc answers a clone3
// that returns ENOSYS by calling clone, so a profile that answers clone3
// ENOSYS while it allows clone serves clone3 through clone (whose own rules
// then apply). generate, merge --check (and lint's coverage through it) and
// record --known all ask here, so they agree on what a profile covers.
import { isAllowingAction, rulesFor } from './baseline.js';
import type { Action, Profile } from './model.js';
import { actionsEqual } from './model.js';
import { effectiveDefaultAction, effectiveRuleAction } from '../seccomp/runc-policy.js';

const ENOSYS = 38;

/** The answer that makes the C library retry a call with another syscall, by name. */
const RETRIES: Readonly<Record<string, { answer: Action; via: string }>> = {
  clone3: { answer: { kind: 'errno', ret: ENOSYS }, via: 'clone' },
};

/** What a profile should answer `name` so that callers retry with `retry.via` (clone3 → ENOSYS → clone). */
export function retryOf(name: string): { answer: Action; via: string } | undefined {
  const r = RETRIES[name];
  return r ? { answer: { ...r.answer }, via: r.via } : undefined;
}

/** Names with a retry (clone3). */
export const RETRYING_NAMES: readonly string[] = Object.keys(RETRIES);

/** Whether `profile` lets `name` through at all (some allowing rule, or no rule and an allowing default). */
export function allowsSome(profile: Profile, name: string): boolean {
  const rules = rulesFor(profile, name);
  if (rules.some((r) => isAllowingAction(r.action.kind))) return true;
  return rules.length === 0 && isAllowingAction(profile.defaultAction.kind);
}

/**
 * The syscall through which `profile` serves `name` by the C library's retry:
 * `clone` when clone3 is always answered ENOSYS (every rule naming it, no
 * conditions; or, with no rule, the default) and clone is allowed
 * (conditions or not: they apply to the retry). Undefined otherwise.
 */
export function servedVia(profile: Profile, name: string): string | undefined {
  const retry = RETRIES[name];
  if (!retry) return undefined;
  const rules = rulesFor(profile, name);
  const answers = rules.length
    ? rules.every((r) => r.args.length === 0 && actionsEqual(effectiveRuleAction(r.action), retry.answer))
    : actionsEqual(effectiveDefaultAction(profile), retry.answer);
  return answers && allowsSome(profile, retry.via) ? retry.via : undefined;
}

/** Whether `profile` lets every call of `name` through by the name alone: a plain allow, no conditions. */
export function allowsPlainly(profile: Profile, name: string): boolean {
  const rules = rulesFor(profile, name);
  if (rules.some((r) => isAllowingAction(r.action.kind) && r.args.length === 0)) return true;
  return rules.length === 0 && isAllowingAction(profile.defaultAction.kind);
}

/**
 * Whether `profile` covers every call of `name` on `arch` whatever its
 * arguments: it lists the arch (or none), and allows the name plainly or
 * serves it through a retry.
 */
export function coversName(profile: Profile, name: string, arch?: string): boolean {
  if (arch !== undefined && profile.architectures.length && !profile.architectures.includes(arch)) return false;
  return allowsPlainly(profile, name) || servedVia(profile, name) !== undefined;
}
