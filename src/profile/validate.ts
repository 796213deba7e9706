// `validate`: a dry run of a profile through libseccomp. Parses (every schema
// problem at once), resolves Docker-shaped conditional rules for the target,
// lints, resolves every name on every arch, compiles as runc would and reports
// sizes; never loads a filter. Returns one report shape for valid and invalid.
import { release } from 'node:os';
import { InputError, RecorderError } from '../errors.js';
import { compileProfile } from '../seccomp/compile.js';
import type { NameReport } from '../seccomp/name-report.js';
import { resolveNames, unknownNameUses } from '../seccomp/name-report.js';
import { runcArches } from '../seccomp/runc-policy.js';
import { apiLevel, archToken, libseccompVersion } from '../seccomp/libseccomp.js';
import { checkAgainstBaseline } from './against-baseline.js';
import { parseBaselineText } from './baseline.js';
import type { Finding } from './lint.js';
import { lintProfile, sortFindings } from './lint.js';
import type { ProfileFormat } from './load.js';
import { parseProfileText } from './load.js';
import { machineTarget, resolveForTarget } from './machine.js';
import type { Profile } from './model.js';

/** The kernel's BPF_MAXINSNS: a longer program is refused at load time. */
const BPF_MAXINSNS = 4096;

export interface ValidateOptions {
  /** Architectures to resolve names on and compile for (libseccomp names); default as runc: native + the profile's. */
  arches?: string[];
  /** A runtime default to compare with (already parsed; resolved here for the same target). */
  baseline?: Profile;
  pfc?: boolean;
}

export interface ValidationReport {
  file: string;
  format?: ProfileFormat;
  valid: boolean;
  errors: Finding[];
  warnings: Finding[];
  /** Set when Docker-shaped conditional rules were resolved. */
  resolvedFor?: { arches: string[]; caps: string[]; kernel: string };
  /** The filter's architectures. */
  architectures: string[];
  names?: { total: number; perArch: { arch: string; resolved: number; absent: number }[]; unknown: string[] };
  bpf?: { instructions: number; bytes: number; optimized: boolean; perArch: { arch: string; instructions: number }[] };
  libseccomp?: string;
}

export interface ValidationResult {
  report: ValidationReport;
  /** The exported program; only when the profile is valid. */
  bpf?: Buffer;
  pfc?: string;
}

const PATH_RE = /^[A-Za-z_][\w.[\]]*$/;

/** `syscalls[4].op: unknown ...` → a finding with that path. */
function problemFinding(problem: string): Finding {
  const at = problem.indexOf(': ');
  const path = at > 0 ? problem.slice(0, at) : '';
  if (path && PATH_RE.test(path)) return { severity: 'error', path, message: problem.slice(at + 2), code: 'schema' };
  return { severity: 'error', path: '', message: problem, code: 'schema' };
}

/** Parses OCI/Docker JSON (containers-common's errno names too) or SPO YAML; throws InputError listing every problem. */
export function parseAnyProfile(text: string, label: string): { profile: Profile; format: ProfileFormat } {
  // JSON goes through the baseline reader, which also accepts containers-common's errno names.
  if (text.trimStart().startsWith('{')) return { profile: parseBaselineText(text, label), format: 'oci' };
  const loaded = parseProfileText(text, label);
  return { profile: loaded.profile, format: loaded.format };
}

function archFindings(names: NameReport, original: Profile, sourceRule: number[], resolved: Profile): Finding[] {
  const out: Finding[] = [];
  for (const u of unknownNameUses(resolved, libseccompVersion())) {
    const src = sourceRule[u.ruleIndex] ?? u.ruleIndex;
    const j = original.rules[src]?.names.indexOf(u.name) ?? -1;
    out.push({ severity: u.severity, path: `syscalls[${src}].names${j >= 0 ? `[${j}]` : ''}`, code: 'unknown-syscall', message: u.message });
  }
  for (const p of names.perArch) {
    if (!p.absent.length) continue;
    out.push({
      severity: 'warning',
      path: 'architectures',
      code: 'absent-on-arch',
      message: `${p.arch} lacks ${p.absent.length} named syscall${p.absent.length > 1 ? 's' : ''} (rules for ${p.absent.length > 1 ? 'them' : 'it'} do nothing there): ${p.absent.join(', ')}`,
    });
  }
  return out;
}

/** Maps `syscalls[k]` of the resolved profile to the file's rule, in the path and in the message. */
function toSource(f: Finding, sourceRule: number[]): Finding {
  const map = (text: string) => text.replace(/syscalls\[(\d+)\]/g, (_, k: string) => `syscalls[${sourceRule[Number(k)] ?? k}]`);
  return { ...f, path: map(f.path), message: map(f.message) };
}

export function validateProfileText(text: string, label: string, opts: ValidateOptions = {}): ValidationResult {
  const report: ValidationReport = { file: label, valid: false, errors: [], warnings: [], architectures: [] };
  let parsed: { profile: Profile; format: ProfileFormat };
  try {
    parsed = parseAnyProfile(text, label);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    report.errors = err.problems.map(problemFinding);
    return { report: ordered(report) };
  }
  report.format = parsed.format;
  report.libseccomp = libseccompVersion();
  // Findings on the resolved profile's rules; mapped to the file's rule numbers at the end.
  const findings: Finding[] = [];
  // Findings that already use the file's paths.
  const sourceFindings: Finding[] = [];
  const target = machineTarget(opts.arches);
  const { profile, sourceRule, notes, conditional } = resolveForTarget(parsed.profile, target);
  if (conditional) {
    report.resolvedFor = { arches: target.arches, caps: target.caps, kernel: target.kernel };
    sourceFindings.push({
      severity: 'warning',
      path: '',
      code: 'conditional-rules',
      message:
        `uses Docker-style conditional fields (includes/excludes/archMap); checked as Docker and podman resolve them for ${target.arches.join(', ')}, ` +
        `Docker's default capabilities and kernel ${release()}. runc, crun and containerd's Localhost profiles ignore these fields and apply every rule as written`,
    });
    for (const n of notes) sourceFindings.push({ severity: 'warning', path: '', code: 'baseline-note', message: n });
  }
  findings.push(...lintProfile(profile));

  const arches = opts.arches?.length ? opts.arches : runcArches(profile);
  report.architectures = arches;
  const unknownArches = arches.filter((a) => archToken(a) === undefined);
  if (unknownArches.length) {
    // runc fails the same way ("error validating Seccomp architecture"); nothing more can be checked.
    for (const a of unknownArches)
      sourceFindings.push({ severity: 'error', path: 'architectures', code: 'unknown-arch', message: `libseccomp ${libseccompVersion()} does not know the architecture ${a}: runc fails to start the container` });
    return finish(report, findings, sourceFindings, sourceRule, parsed.format);
  }
  const names = resolveNames(profile, arches);
  report.names = {
    total: new Set(profile.rules.flatMap((r) => r.names)).size,
    perArch: names.perArch.map((p) => ({ arch: p.arch, resolved: p.resolved, absent: p.absent.length })),
    unknown: names.unknown,
  };
  sourceFindings.push(...archFindings(names, parsed.profile, sourceRule, profile));

  const usesNotify = profile.defaultAction.kind === 'notify' || profile.rules.some((r) => r.action.kind === 'notify');
  if (usesNotify && apiLevel() < 6)
    findings.push({ severity: 'error', path: '', code: 'notify-unsupported', message: `SCMP_ACT_NOTIFY needs libseccomp API level 6 (this one has ${apiLevel()})` });

  let bpf: Buffer | undefined;
  let pfc: string | undefined;
  try {
    const compiled = compileProfile(profile, { arches: opts.arches?.length ? opts.arches : undefined, pfc: opts.pfc });
    // An EEXIST the lint already explained (same conditions, another action) is not repeated.
    const explained = new Set(findings.filter((f) => f.code === 'conflicting-actions' && f.severity === 'error').map((f) => f.path));
    for (const p of compiled.problems.filter((p) => !(explained.has(p.path) && p.message.endsWith('EEXIST')))) findings.push({ severity: 'error', path: p.path, code: 'compile', message: `${p.message} (runc would fail to start the container)` });
    for (const p of compiled.unsupportedFlags) findings.push({ severity: 'warning', path: p.path, code: 'flag-unsupported', message: `${p.message}; runc refuses the profile with this libseccomp` });
    if (compiled.instructions > BPF_MAXINSNS)
      findings.push({ severity: 'error', path: '', code: 'too-long', message: `the program has ${compiled.instructions} instructions; the kernel loads at most ${BPF_MAXINSNS}` });
    const perArch = compiled.arches.map((arch) => ({ arch, instructions: compileProfile(profile, { arches: [arch] }).instructions }));
    report.bpf = { instructions: compiled.instructions, bytes: compiled.bpf.length, optimized: compiled.optimized, perArch };
    bpf = compiled.bpf;
    pfc = compiled.pfc;
  } catch (err) {
    if (!(err instanceof RecorderError)) throw err;
    findings.push({ severity: 'error', path: err.message.startsWith('seccomp_arch_') ? 'architectures' : '', code: 'compile', message: err.message });
  }

  if (opts.baseline) {
    const base = resolveForTarget(opts.baseline, target).profile;
    findings.push(...checkAgainstBaseline(profile, base));
  }

  const done = finish(report, findings, sourceFindings, sourceRule, parsed.format);
  return done.report.valid ? { ...done, bpf, pfc } : done;
}

function finish(report: ValidationReport, findings: Finding[], sourceFindings: Finding[], sourceRule: number[], format: ProfileFormat): ValidationResult {
  const prefix = format === 'spo' ? 'spec.' : '';
  const all = sortFindings(
    [...findings.map((f) => toSource(f, sourceRule)), ...sourceFindings].map((f) => (prefix && f.path ? { ...f, path: `${prefix}${f.path}` } : f)),
  );
  report.errors = all.filter((f) => f.severity === 'error');
  report.warnings = all.filter((f) => f.severity === 'warning');
  report.valid = report.errors.length === 0;
  return { report: ordered(report) };
}

/** The same report with its keys in documented order (JSON output is stable). */
function ordered(r: ValidationReport): ValidationReport {
  return {
    file: r.file,
    format: r.format,
    valid: r.valid,
    libseccomp: r.libseccomp,
    resolvedFor: r.resolvedFor,
    architectures: r.architectures,
    names: r.names,
    bpf: r.bpf,
    errors: r.errors,
    warnings: r.warnings,
  };
}
