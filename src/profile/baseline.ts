// The runtime default as a baseline: loads Docker/moby/containerd-shaped and
// containers-common profiles, and resolves their conditional rules (`includes`/
// `excludes` by caps, arches, minKernel; `archMap`) into plain rules for one
// target, the way moby's setupSeccomp does for one host.
import { InputError, UsageError } from '../errors.js';
import { archByAnyName, archesOfKernel } from '../seccomp/arch.js';
import { isAllowingAction } from '../seccomp/filter-model.js';
import { existsOnAny } from '../seccomp/syscall-exists.js';
import { argPosition } from '../seccomp/arg-positions.js';
import { parseProfileText, readInput } from './load.js';
import type { Profile, Rule, RuleFilter } from './model.js';

/** The capability set Docker (and containerd's CRI plugin) give a container by default. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_AUDIT_WRITE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

/** Linux capabilities up to 6.x, for checking `--caps`. */
export const KNOWN_CAPS: ReadonlySet<string> = new Set(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
    'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
    'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
    'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
    'CHECKPOINT_RESTORE',
  ].map((c) => `CAP_${c}`),
);

export interface BaselineTarget {
  /** Architectures the profile is for (libseccomp names; Go names such as amd64 are accepted). */
  arches: string[];
  /** Capability bounding set, e.g. DOCKER_DEFAULT_CAPS. `chown` and `CAP_CHOWN` both work. */
  caps: string[];
  /** Kernel release, e.g. "6.18" or "6.18.44-fc-v595". */
  kernel: string;
}

/**
 * Spellings an arch has in moby `includes.arches`/`excludes.arches`. moby
 * compares them with its host's GOARCH mapped through its own table
 * (386 -> "x86", mips64p32le -> "mips3l64n32", ...); we accept those and
 * the Go and libseccomp spellings.
 */
const FILTER_ARCH_SPELLINGS: Record<string, readonly string[]> = {
  x86_64: ['amd64', 'x86_64'],
  x86: ['x86', '386', 'i386'],
  x32: ['x32'],
  arm: ['arm'],
  aarch64: ['arm64', 'aarch64'],
  mips: ['mips'],
  mipsel: ['mipsel', 'mipsle'],
  mips64: ['mips64'],
  mips64n32: ['mips64n32', 'mips64p32'],
  mipsel64: ['mipsel64', 'mips64le'],
  mipsel64n32: ['mipsel64n32', 'mips3l64n32', 'mips64p32le'],
  ppc: ['ppc'],
  ppc64: ['ppc64'],
  ppc64le: ['ppc64le'],
  s390: ['s390'],
  s390x: ['s390x'],
  parisc: ['parisc'],
  parisc64: ['parisc64'],
  riscv64: ['riscv64'],
  loongarch64: ['loong64', 'loongarch64'],
};

const GO_ARCH_TO_LIBSECCOMP = new Map<string, string>();
for (const [name, spellings] of Object.entries(FILTER_ARCH_SPELLINGS)) {
  for (const s of spellings) if (!GO_ARCH_TO_LIBSECCOMP.has(s)) GO_ARCH_TO_LIBSECCOMP.set(s, name);
}

/** libseccomp's name for an arch given in any spelling we meet (x86_64, amd64, SCMP_ARCH_X86_64). */
export function normalizeArch(name: string): string | undefined {
  return archByAnyName(name)?.name ?? GO_ARCH_TO_LIBSECCOMP.get(name);
}

/** `sys_admin` / `CAP_SYS_ADMIN` -> `CAP_SYS_ADMIN`. */
export function normalizeCap(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** Re-exported for the profile code: defined with the filter's types. */
export { isAllowingAction };

/** Rules of a (resolved) profile that name `syscall`, narrowed to that one name, in profile order. */
export function rulesFor(profile: Profile, syscall: string): Rule[] {
  return profile.rules
    .filter((r) => r.names.includes(syscall))
    .map((r) => ({ ...r, names: [syscall], args: [...r.args] }));
}

function parseKernel(release: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function kernelAtLeast(kernel: [number, number, number], min: string): boolean {
  const want = parseKernel(min);
  if (!want) return false;
  for (let i = 0; i < 3; i++) if (kernel[i] !== want[i]) return kernel[i] > want[i];
  return true;
}

/** Sub-architectures of each main arch: the baseline's archMap, else the kernel's compat ABIs. */
function subArchesOf(profile: Profile, main: string): string[] {
  const entry = profile.archMap?.find((m) => m.architecture === main);
  if (entry) return entry.subArchitectures;
  return archesOfKernel(main).filter((a) => a !== main);
}

/**
 * The hosts moby would resolve for: each target arch that is not a compat ABI
 * of another target arch. moby decides `arches` filters by the host's arch
 * alone, so x86 and x32 follow x86_64 when they come with it.
 */
function hostsOf(profile: Profile, arches: string[]): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const a of arches) {
    const isSub = arches.some((b) => b !== a && subArchesOf(profile, b).includes(a));
    if (!isSub) hosts.set(a, [a]);
  }
  for (const a of arches) {
    if (hosts.has(a)) continue;
    for (const [h, group] of hosts) if (subArchesOf(profile, h).includes(a)) group.push(a);
  }
  return hosts;
}

function filterMatchesArch(list: string[] | undefined, host: string): boolean {
  const spellings = FILTER_ARCH_SPELLINGS[host] ?? [host];
  return (list ?? []).some((x) => spellings.includes(x));
}

/** moby's setupSeccomp test for one rule on one host. */
function ruleApplies(rule: Rule, host: string, caps: ReadonlySet<string>, kernel: [number, number, number]): boolean {
  const ex: RuleFilter = rule.excludes ?? {};
  const inc: RuleFilter = rule.includes ?? {};
  if (ex.arches?.length && filterMatchesArch(ex.arches, host)) return false;
  if (ex.caps?.length && ex.caps.some((c) => caps.has(normalizeCap(c)))) return false;
  if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) return false;
  if (inc.arches?.length && !filterMatchesArch(inc.arches, host)) return false;
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(normalizeCap(c)))) return false;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  return true;
}

export interface ResolvedBaseline {
  profile: Profile;
  /** What could not be carried over exactly (rules that differ between the target's hosts). */
  notes: string[];
}

/**
 * Resolves conditional rules for the target. With several hosts (x86_64 and
 * aarch64, say), one OCI profile cannot hold per-arch rules: a denying rule
 * that applies on any host is kept; an allowing rule that applies on only some
 * keeps just the names that exist on no other target arch, and the rest is
 * noted, so the result is never looser than the default on any host.
 */
export function resolveBaselineWithNotes(profile: Profile, target: BaselineTarget): ResolvedBaseline {
  const kernel = parseKernel(target.kernel);
  if (!kernel) throw new UsageError(`not a kernel version: ${JSON.stringify(target.kernel)}`);
  const arches: string[] = [];
  for (const a of target.arches) {
    const n = normalizeArch(a);
    if (!n) throw new UsageError(`unknown architecture ${JSON.stringify(a)}`);
    if (!arches.includes(n)) arches.push(n);
  }
  const caps = new Set(target.caps.map(normalizeCap));
  const hosts = hostsOf(profile, arches);
  const notes: string[] = [];
  const rules: Rule[] = [];
  for (const rule of profile.rules) {
    const applyOn = [...hosts.keys()].filter((h) => ruleApplies(rule, h, caps, kernel));
    if (!applyOn.length) continue;
    const plain: Rule = { names: [...rule.names], action: { ...rule.action }, args: [...rule.args] };
    if (rule.comment) plain.comment = rule.comment;
    if (applyOn.length === hosts.size || !isAllowingAction(rule.action.kind)) {
      rules.push(plain);
      continue;
    }
    const elsewhere = [...hosts].filter(([h]) => !applyOn.includes(h)).flatMap(([, group]) => group);
    const kept = plain.names.filter((n) => !existsOnAny(n, elsewhere));
    const dropped = plain.names.filter((n) => existsOnAny(n, elsewhere));
    if (dropped.length)
      notes.push(
        `the default allows ${dropped.join(', ')} on ${applyOn.join(', ')} only${rule.args.length ? ' (with argument conditions)' : ''}; ` +
          'one profile for all target arches cannot say that, so that rule was left out',
      );
    if (kept.length) rules.push({ ...plain, names: kept });
  }
  const out: Profile = {
    defaultAction: { ...profile.defaultAction },
    architectures: arches,
    rules,
    flags: [...profile.flags],
  };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  return { profile: out, notes };
}

/** The baseline resolved into plain rules for the target (no includes/excludes, no archMap). */
export function resolveBaseline(profile: Profile, target: BaselineTarget): Profile {
  return resolveBaselineWithNotes(profile, target).profile;
}

/** Whether a parsed profile uses Docker-only shape (needs resolving before use as OCI). */
export function isConditionalProfile(profile: Profile): boolean {
  return profile.archMap !== undefined || profile.rules.some((r) => r.includes || r.excludes);
}

/** Parses a runtime default profile (moby, containerd, containers-common or plain OCI; JSON or SPO YAML). */
export function parseBaselineText(text: string, file: string): Profile {
  const profile = parseProfileText(text, file).profile;
  if (profile.archMap?.length && profile.architectures.length)
    throw new InputError(file, ['architectures and archMap are both set; moby refuses that, use one of them']);
  return profile;
}

export function loadBaseline(file: string): Profile {
  const { text, label } = readInput(file);
  return parseBaselineText(text, label);
}

/** Recorded argument values by index on `arch` (seccomp/arg-positions.ts); undefined when the recording's names are not ones we place. */
export function recordedArgsByIndex(syscall: string, names: string[], values: string[], arch: string): Map<number, bigint> | undefined {
  const out = new Map<number, bigint>();
  for (let i = 0; i < names.length; i++) {
    const idx = argPosition(syscall, names[i], arch);
    if (idx === undefined || values[i] === undefined) return undefined;
    out.set(idx, BigInt(values[i]));
  }
  return out.size ? out : undefined;
}

const U64 = (1n << 64n) - 1n;

/** true/false when every condition's argument is known, else undefined. */
function conditionsHold(rule: Rule, args: Map<number, bigint>): boolean | undefined {
  let unknown = false;
  for (const c of rule.args) {
    const v = args.get(c.index);
    if (v === undefined) {
      unknown = true;
      continue;
    }
    const x = v & U64;
    let ok: boolean;
    switch (c.op) {
      case 'eq': ok = x === c.value; break;
      case 'ne': ok = x !== c.value; break;
      case 'lt': ok = x < c.value; break;
      case 'le': ok = x <= c.value; break;
      case 'gt': ok = x > c.value; break;
      case 'ge': ok = x >= c.value; break;
      case 'masked-eq': ok = (x & c.value) === c.valueTwo; break;
    }
    if (!ok) return false;
  }
  return unknown ? undefined : true;
}

export type CallVerdict = 'allowed' | 'denied' | 'unknown';

/**
 * What a (resolved) profile does with one call of `syscall` whose known
 * arguments are `args`. A matching denial wins over a matching allow (the
 * cautious reading where rules overlap); an argument the conditions need but
 * the recording did not keep makes the answer 'unknown'.
 */
export function callVerdict(profile: Profile, syscall: string, args: Map<number, bigint>): CallVerdict {
  const rules = rulesFor(profile, syscall);
  let allow: boolean | undefined = false;
  let deny: boolean | undefined = false;
  for (const r of rules) {
    const holds = conditionsHold(r, args);
    if (holds === false) continue;
    if (isAllowingAction(r.action.kind)) allow = allow === true ? true : holds;
    else deny = deny === true ? true : holds;
  }
  if (deny === true) return 'denied';
  if (deny === undefined) return 'unknown';
  if (allow === true) return 'allowed';
  if (allow === undefined) return 'unknown';
  return isAllowingAction(profile.defaultAction.kind) ? 'allowed' : 'denied';
}
