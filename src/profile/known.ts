// Incremental recording (`record --known P`): the filter that lets what P
// already allows run at full speed and notifies everything else, and the
// output profile (P plus what was new). Pure: compiling is src/seccomp's job.
import { isAllowingAction } from './baseline.js';
import { allowsSome, coversName, RETRYING_NAMES, retryOf, servedVia } from './covered.js';
import type { Action, Profile, Rule } from './model.js';

/**
 * Always notified, even when P allows them: the launcher's own execve is the
 * call that waits until the supervisor holds the listener (an allowed execve
 * would close the close-on-exec listener before it was taken). exec is rare,
 * so this costs nothing measurable.
 */
export const ALWAYS_NOTIFIED = ['execve', 'execveat'];

/**
 * The recording filter for a known profile: every rule's action becomes ALLOW
 * when P lets the call through and NOTIFY otherwise, and so does the default.
 * Argument conditions are kept, so libseccomp evaluates them in the kernel:
 * a call outside P's conditions is notified, never allowed unrecorded. Rules
 * whose action then equals the default are dropped (libseccomp refuses them).
 * A name P serves through a retry (clone3 answered ENOSYS beside an allowed
 * clone; covered.ts) keeps P's answer unless some known profile lets it
 * through: the workload retries as it will under P, and the retried call
 * (clone) meets P's own rules for it, so one outside them is recorded.
 */
export function knownFilterProfile(known: Profile[]): Profile {
  if (known.length === 0) throw new Error('knownFilterProfile needs at least one profile');
  // Several known profiles: a call is known when any of them allows it, so
  // only a default that allows in every profile makes the default ALLOW.
  const defaultAllows = known.every((p) => isAllowingAction(p.defaultAction.kind));
  const defaultAction: Action = { kind: defaultAllows ? 'allow' : 'notify' };
  let rules: Rule[] = [];
  for (const p of known) {
    for (const r of p.rules) {
      const allows = isAllowingAction(r.action.kind);
      if (allows === defaultAllows) continue;
      const names = allows ? r.names.filter((n) => !ALWAYS_NOTIFIED.includes(n)) : [...r.names];
      if (names.length) rules.push({ names, action: { kind: allows ? 'allow' : 'notify' }, args: r.args.map((c) => ({ ...c })) });
    }
  }
  for (const name of RETRYING_NAMES) {
    if (!known.some((p) => servedVia(p, name)) || known.some((p) => allowsSome(p, name))) continue;
    rules = rules.map((r) => ({ ...r, names: r.names.filter((n) => n !== name) })).filter((r) => r.names.length > 0);
    rules.push({ names: [name], action: retryOf(name)!.answer, args: [] });
  }
  if (defaultAllows) rules.push({ names: [...ALWAYS_NOTIFIED], action: { kind: 'notify' }, args: [] });
  const architectures = [...new Set(known.flatMap((p) => p.architectures))];
  return { defaultAction, architectures, rules, flags: [] };
}

/**
 * Whether any known profile covers `name` on `arch` whatever its arguments
 * (covered.ts: a plain allow, or a retry): such a call is not new even when
 * it reached the supervisor (execve).
 */
export function knownUnconditionally(known: Profile[], arch: string, name: string): boolean {
  return known.some((p) => coversName(p, name, arch));
}

/**
 * The output of an incremental recording: the first known profile with every
 * new name added to its unconditional ALLOW rule (created when missing).
 * Names are kept sorted so the result diffs cleanly against P.
 */
export function withNewNames(base: Profile, newNames: string[]): Profile {
  const fresh = [...new Set(newNames)].sort();
  const freshSet = new Set(fresh);
  // A new name leaves any rule that denied it, so the result has one action per name.
  const rules = base.rules
    .map((r) => ({ ...r, names: isAllowingAction(r.action.kind) ? [...r.names] : r.names.filter((n) => !freshSet.has(n)), args: [...r.args] }))
    .filter((r) => r.names.length > 0);
  const out: Profile = { ...base, rules };
  if (fresh.length === 0) return out;
  let target = out.rules.find((r) => r.action.kind === 'allow' && r.args.length === 0 && r.action.ret === undefined);
  if (!target) {
    target = { names: [], action: { kind: 'allow' }, args: [] };
    out.rules.push(target);
  }
  target.names = [...new Set([...target.names, ...fresh])].sort();
  return out;
}
