// Argument conditions in words: the allowed values of each restricted syscall
// by name (`socket: AF_UNIX SOCK_STREAM, AF_INET SOCK_DGRAM`), the security
// risks they close or leave open (packet and raw sockets, AF_ALG, AF_VSOCK,
// netlink, user and mount namespaces, TIOCSTI/TIOCLINUX, PR_SET_MM), and the
// generate report's lines for --args. Shared by generate and explain.
import { argPosition, argPositionOnAll, placedArgs } from '../seccomp/arg-positions.js';
import { CLONE_NAMESPACE_MASK, CLONE_NEWNS, CLONE_NEWUSER, flagNames, CLONE_FLAGS, valueName } from './arg-names.js';
import { ARG_POLICIES, mergeRecordedArgs, planArgRules } from './arg-rules.js';
import { callVerdict, isAllowingAction, rulesFor } from './baseline.js';
import type { ArgReport } from './generate.js';
import type { Condition, Profile } from './model.js';
import type { Observation } from './recording.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The argument name at `index` of `syscall` on all the arches, if one. */
function argNameAt(syscall: string, index: number, arches: readonly string[]): string | undefined {
  return placedArgs(syscall).find((n) => argPositionOnAll(syscall, n, arches) === index);
}

function describeOne(syscall: string, c: Condition, arches: readonly string[], context: Map<string, bigint>): string {
  const arg = argNameAt(syscall, c.index, arches);
  const label = arg ?? `arg${c.index}`;
  if (!arg) {
    if (c.op === 'masked-eq') return `${label} & ${hex(c.value)} == ${hex(c.valueTwo)}`;
    return `${label} ${c.op} ${hex(c.value)}`;
  }
  if (c.op === 'eq') {
    context.set(arg, c.value);
    return valueName(syscall, arg, c.value, context);
  }
  if (c.op === 'masked-eq') {
    if ((syscall === 'clone' || syscall === 'unshare') && (c.value & CLONE_NAMESPACE_MASK) === CLONE_NAMESPACE_MASK)
      return c.valueTwo === 0n ? 'no new namespaces' : `namespaces ${flagNames(c.valueTwo, CLONE_FLAGS)} only`;
    const policy = ARG_POLICIES[syscall]?.args[arg];
    if (policy?.op === 'masked' && policy.mask === c.value) return valueName(syscall, arg, c.valueTwo, context);
    return `${arg} & ${hex(c.value)} == ${hex(c.valueTwo)}`;
  }
  const sym: Record<string, string> = { ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
  return `${arg} ${sym[c.op]} ${valueName(syscall, arg, c.value, context)}`;
}

/** The allowed values of one syscall by name, or undefined when some allowing rule has no condition. */
export function describeAllowedValues(profile: Profile, syscall: string): string | undefined {
  const arches = profile.architectures;
  const allows = rulesFor(profile, syscall).filter((r) => isAllowingAction(r.action.kind));
  if (!allows.length || allows.some((r) => r.args.length === 0)) return undefined;
  const parts = allows.map((r) => {
    const context = new Map<string, bigint>();
    return [...r.args].sort((a, b) => a.index - b.index).map((c) => describeOne(syscall, c, arches, context)).join(' ');
  });
  return [...new Set(parts)].join(', ');
}

export interface ArgRisk {
  /** What a reviewer recognises: `packet sockets (AF_PACKET)`. */
  label: string;
  syscall: string;
  /** The argument values that make the call dangerous. */
  args: Record<string, bigint>;
}

export const ARG_RISKS: readonly ArgRisk[] = [
  { label: 'packet sockets (AF_PACKET)', syscall: 'socket', args: { domain: 17n } },
  { label: 'raw sockets (SOCK_RAW)', syscall: 'socket', args: { type: 3n } },
  { label: 'kernel crypto sockets (AF_ALG, CVE-2026-31431)', syscall: 'socket', args: { domain: 38n } },
  { label: 'VM host sockets (AF_VSOCK)', syscall: 'socket', args: { domain: 40n } },
  { label: 'netlink sockets (AF_NETLINK)', syscall: 'socket', args: { domain: 16n } },
  { label: 'user namespaces (clone CLONE_NEWUSER)', syscall: 'clone', args: { flags: CLONE_NEWUSER } },
  { label: 'mount namespaces (clone CLONE_NEWNS)', syscall: 'clone', args: { flags: CLONE_NEWNS } },
  { label: 'user namespaces (unshare CLONE_NEWUSER)', syscall: 'unshare', args: { flags: CLONE_NEWUSER } },
  { label: 'mount namespaces (unshare CLONE_NEWNS)', syscall: 'unshare', args: { flags: CLONE_NEWNS } },
  { label: 'terminal input injection (ioctl TIOCSTI)', syscall: 'ioctl', args: { request: 0x5412n } },
  { label: 'console control (ioctl TIOCLINUX)', syscall: 'ioctl', args: { request: 0x541cn } },
  { label: 'rewriting the memory map (prctl PR_SET_MM)', syscall: 'prctl', args: { option: 35n } },
];

export type RiskStatus = 'closed' | 'open' | 'not allowed';

export interface RiskVerdict {
  label: string;
  status: RiskStatus;
  /** For open risks: whether any condition on the syscall exists (else it is allowed for any value). */
  why: string;
}

/**
 * Whether the profile lets the dangerous call through on each of its arches:
 * 'not allowed' when the syscall itself is denied, 'closed' when its
 * conditions deny these values, else 'open' (also when it depends on
 * arguments the risk does not fix).
 */
export function argRisks(profile: Profile, arches: readonly string[]): RiskVerdict[] {
  const out: RiskVerdict[] = [];
  for (const risk of ARG_RISKS) {
    const rules = rulesFor(profile, risk.syscall);
    const allowsAtAll = rules.some((r) => isAllowingAction(r.action.kind)) || (isAllowingAction(profile.defaultAction.kind) && !rules.some((r) => !isAllowingAction(r.action.kind) && !r.args.length));
    if (!allowsAtAll) {
      out.push({ label: risk.label, status: 'not allowed', why: `${risk.syscall} is not allowed` });
      continue;
    }
    const verdicts = arches.map((arch) => {
      const args = new Map<number, bigint>();
      for (const [name, v] of Object.entries(risk.args)) {
        const i = argPosition(risk.syscall, name, arch);
        if (i !== undefined) args.set(i, v);
      }
      return callVerdict(profile, risk.syscall, args);
    });
    if (verdicts.every((v) => v === 'denied')) out.push({ label: risk.label, status: 'closed', why: `${risk.syscall}'s conditions deny it` });
    else {
      const conditioned = rules.some((r) => r.args.length > 0);
      out.push({ label: risk.label, status: 'open', why: conditioned ? `${risk.syscall}'s conditions let it through` : `${risk.syscall} is allowed for any value` });
    }
  }
  return out;
}

/** The generate report's lines for the argument level. */
export function formatArgReport(r: ArgReport): string[] {
  if (r.level === 'off') return ['  arguments: --args off: names only, no argument conditions'];
  const lines: string[] = [];
  const combos = r.restricted.reduce((n, x) => n + x.combinations, 0);
  if (r.restricted.length)
    lines.push(
      `  arguments (--args ${r.level}): ${r.restricted.length} syscall(s) allowed only for recorded values, ${combos} combination(s): ` +
        r.restricted.map((x) => `${x.syscall} (${x.combinations})`).join(', '),
    );
  else lines.push(`  arguments (--args ${r.level}): no syscall could be restricted`);
  for (const x of r.restricted) if (x.combinations === 0) lines.push(`    ${x.syscall}: every recorded value is denied by the baseline, so it stays denied`);
  const closes = [...new Set(r.restricted.filter((x) => x.combinations > 0).map((x) => `${x.syscall}: ${x.closes}`))];
  if (closes.length) lines.push(`    closed: ${closes.join('; ')}`);
  for (const o of r.open) lines.push(`    left open: ${o.syscall}: ${o.why}`);
  if (r.clone3) lines.push(`    ${r.clone3}`);
  if (r.level === 'safe') lines.push('    ioctl requests, fcntl commands and socket options stay open at this level (--args strict restricts them)');
  return lines;
}

/** The argument's name (or `argN`) and the value a condition pins, in words. */
function pinnedValue(syscall: string, c: Condition, arches: readonly string[]): { arg: string; value: string } {
  const arg = argNameAt(syscall, c.index, arches) ?? `arg${c.index}`;
  return { arg, value: describeOne(syscall, c, arches, new Map()) };
}

/** Allowed values per argument of a treatment's allowing clauses; undefined when something is allowed for any value. */
function valueSets(
  syscall: string,
  clauses: readonly { action: { kind: string }; conditions: readonly Condition[] }[],
  unconditionallyAllowed: boolean,
  arches: readonly string[],
): Map<string, Set<string>> | undefined {
  if (unconditionallyAllowed) return undefined;
  const out = new Map<string, Set<string>>();
  for (const c of clauses) {
    if (c.action.kind !== 'allow' && c.action.kind !== 'log') continue;
    for (const cond of c.conditions) {
      const { arg, value } = pinnedValue(syscall, cond, arches);
      if (!out.has(arg)) out.set(arg, new Set());
      out.get(arg)!.add(value);
    }
  }
  return out;
}

interface TreatmentLike {
  unconditional?: { kind: string };
  clauses: { action: { kind: string }; conditions: Condition[] }[];
}

/**
 * Per argument, the values one side allows that the other does not:
 * `domain: +AF_PACKET -AF_INET6`, `request: any -> TCGETS, TIOCGWINSZ`.
 * Empty when neither side pins values or nothing changed per argument.
 */
export function valueSetChanges(syscall: string, before: TreatmentLike, after: TreatmentLike, arches: readonly string[]): string[] {
  const runs = (t: TreatmentLike) => t.unconditional !== undefined && (t.unconditional.kind === 'allow' || t.unconditional.kind === 'log');
  const a = valueSets(syscall, before.clauses, runs(before), arches);
  const b = valueSets(syscall, after.clauses, runs(after), arches);
  if (!a && !b) return [];
  const lines: string[] = [];
  if (!a || !b) {
    const pinned = (a ?? b)!;
    for (const [arg, set] of pinned) {
      const values = [...set].sort().join(', ');
      lines.push(a ? `${arg}: ${values} → any value (widened)` : `${arg}: any value → ${values} (narrowed)`);
    }
    return lines;
  }
  for (const arg of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const was = a.get(arg) ?? new Set<string>();
    const now = b.get(arg) ?? new Set<string>();
    const added = [...now].filter((v) => !was.has(v)).sort();
    const removed = [...was].filter((v) => !now.has(v)).sort();
    if (!added.length && !removed.length) continue;
    const parts = [...added.map((v) => `+${v}`), ...removed.map((v) => `-${v}`)];
    const how = added.length && removed.length ? 'changed' : added.length ? 'widened' : 'narrowed';
    lines.push(`${arg}: ${parts.join(' ')} (${how})`);
  }
  return lines;
}

export interface ArgExplanation {
  /** Allowed values by name, per restricted syscall. */
  values: { syscall: string; values: string }[];
  /** Watched syscalls allowed for any value, with why when recordings tell. */
  open: { syscall: string; why: string }[];
  risks: RiskVerdict[];
  /** Recordings from a source that keeps no argument values. */
  noValues: string[];
}

/** What explain says about argument conditions: values by name, what stays open and why, the risk report. */
export function explainArgs(
  profile: Profile,
  arches: readonly string[],
  recordings: readonly { file: string; recording: { source?: string; observations: Observation[] } }[] = [],
): ArgExplanation {
  const out: ArgExplanation = { values: [], open: [], risks: argRisks(profile, arches), noValues: [] };
  const plans = planArgRules(mergeRecordedArgs(recordings.flatMap((r) => r.recording.observations)), 'strict', arches);
  for (const r of recordings) if (r.recording.source === 'audit') out.noValues.push(r.file);
  for (const syscall of Object.keys(ARG_POLICIES).sort()) {
    const allows = rulesFor(profile, syscall).filter((r) => isAllowingAction(r.action.kind));
    if (!allows.length) continue;
    const values = describeAllowedValues({ ...profile, architectures: [...arches] }, syscall);
    if (values !== undefined) {
      out.values.push({ syscall, values });
      continue;
    }
    const plan = plans.get(syscall);
    const why = plan?.open ?? (plan ? `recorded values would restrict it${ARG_POLICIES[syscall].level === 'strict' ? ' (--args strict)' : ''}` : 'allowed for any value');
    out.open.push({ syscall, why });
  }
  return out;
}

/** explain's lines for the argument conditions and the risk report. */
export function formatArgExplanation(a: ArgExplanation): string[] {
  const lines: string[] = [];
  if (a.values.length) {
    lines.push('allowed argument values:');
    const w = Math.max(...a.values.map((v) => v.syscall.length));
    for (const v of a.values) lines.push(`  ${v.syscall.padEnd(w)}  ${v.values}`);
  }
  if (a.open.length) {
    lines.push('allowed for any argument value:');
    for (const o of a.open) lines.push(`  ${o.syscall}: ${o.why}`);
  }
  for (const f of a.noValues) lines.push(`note: ${f} came from the audit source, which keeps no argument values: profiles from it get no argument conditions`);
  const by = (s: RiskStatus) => a.risks.filter((r) => r.status === s).map((r) => r.label);
  lines.push('argument risks:');
  const closed = by('closed');
  const open = a.risks.filter((r) => r.status === 'open');
  const denied = by('not allowed');
  lines.push(`  closed by conditions: ${closed.length ? closed.join(', ') : 'none'}`);
  if (open.length) {
    lines.push('  open:');
    for (const r of open) lines.push(`    ${r.label}: ${r.why}`);
  } else lines.push('  open: none');
  if (denied.length) lines.push(`  syscall not allowed at all: ${denied.join(', ')}`);
  const netlinkOpen = a.risks.some((r) => r.label.includes('AF_NETLINK') && r.status === 'open');
  if (netlinkOpen) lines.push('  note: netlink protocol families are not told apart (the recorder keeps socket domain and type, not protocol)');
  return lines;
}
