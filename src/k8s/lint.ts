// Runs the lint rules over every workload of the manifests read, turns each
// result into a finding with its file, line, object and container, and applies
// acceptance: an annotation `seccomp-recorder.io/accept-RULE: "reason"` on the
// object marks that rule's findings for it as accepted (still listed, never
// failing the run).
import type { ManifestFile } from './manifest.js';
import { lineOf } from './manifest.js';
import type { RawFinding, Severity } from './lint-rules.js';
import { containerChecks, podChecks, RULE_BY_ID } from './lint-rules.js';
import type { ProfileContext } from './localhost-profiles.js';
import { ProfileChecker } from './localhost-profiles.js';
import { effectiveSecurity } from './security-context.js';
import type { ContainerKind, Workload } from './workloads.js';
import { workloadsOf } from './workloads.js';

export const ACCEPT_PREFIX = 'seccomp-recorder.io/accept-';

export interface LintObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface LintFinding {
  ruleId: string;
  severity: Severity;
  file: string;
  line: number;
  object: LintObject;
  container?: string;
  containerKind?: ContainerKind;
  message: string;
  /** The reason given by the acceptance annotation, when accepted. */
  accepted?: string;
}

export interface LintResult {
  findings: LintFinding[];
  files: number;
  workloads: number;
  containers: number;
  /** Documents that hold no workload (other kinds, custom resources): not checked. */
  otherDocuments: number;
}

function acceptances(w: Workload, m: ManifestFile, push: (f: LintFinding) => void, object: LintObject): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, reason] of Object.entries(w.annotations)) {
    if (!key.startsWith(ACCEPT_PREFIX)) continue;
    const ruleId = key.slice(ACCEPT_PREFIX.length);
    const bad = !RULE_BY_ID.has(ruleId) ? `${key}: no rule "${ruleId}"` : !reason.trim() ? `${key}: a reason is required` : undefined;
    if (bad) push({ ruleId: 'accept-annotation-invalid', severity: 'warning', file: m.file, line: lineOf(m, w.object), object, message: bad });
    else out.set(ruleId, reason.trim());
  }
  return out;
}

function lintWorkload(w: Workload, m: ManifestFile, checker: ProfileChecker): LintFinding[] {
  const out: LintFinding[] = [];
  const object: LintObject = { apiVersion: w.apiVersion, kind: w.kind, name: w.name };
  if (w.namespace) object.namespace = w.namespace;
  const accepted = acceptances(w, m, (f) => out.push(f), object);
  const add = (raw: RawFinding, container?: { name: string; kind: ContainerKind }) => {
    const rule = RULE_BY_ID.get(raw.ruleId)!;
    const f: LintFinding = { ruleId: raw.ruleId, severity: raw.severity ?? rule.severity, file: m.file, line: lineOf(m, raw.node), object, message: raw.message };
    if (container) {
      f.container = container.name;
      f.containerKind = container.kind;
    }
    const reason = accepted.get(raw.ruleId);
    if (reason !== undefined) f.accepted = reason;
    out.push(f);
  };
  for (const raw of podChecks(w)) add(raw);
  for (const c of w.containers) {
    const s = effectiveSecurity(c, w);
    for (const raw of [...containerChecks(c, s), ...checker.check(c, s)]) add(raw, c);
  }
  return out;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, note: 2 };

export function lintManifests(files: readonly ManifestFile[], ctx: ProfileContext = {}): LintResult {
  const checker = new ProfileChecker(ctx);
  const findings: LintFinding[] = [];
  let workloads = 0;
  let containers = 0;
  let otherDocuments = 0;
  for (const m of files) {
    const ws = workloadsOf(m);
    const withWorkload = new Set(ws.map((w) => w.docIndex));
    otherDocuments += m.docs.filter((d, i) => d.contents !== null && !withWorkload.has(i)).length;
    for (const w of ws) {
      workloads++;
      containers += w.containers.length;
      findings.push(...lintWorkload(w, m, checker));
    }
  }
  // Stable order: as the files were given, then by line, severity and rule.
  const fileOrder = new Map(files.map((f, i) => [f.file, i]));
  findings.sort(
    (a, b) =>
      fileOrder.get(a.file)! - fileOrder.get(b.file)! ||
      a.line - b.line ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.ruleId.localeCompare(b.ruleId) ||
      (a.container ?? '').localeCompare(b.container ?? ''),
  );
  return { findings, files: files.length, workloads, containers, otherDocuments };
}

/** Errors not accepted: what makes `lint` exit 1. */
export function failingFindings(r: LintResult): LintFinding[] {
  return r.findings.filter((f) => f.severity === 'error' && f.accepted === undefined);
}
