// `lint` results as text (one line per finding, then a summary), JSON (the
// findings and the summary), and SARIF 2.1.0 for code-scanning tools: one run,
// the rules as reportingDescriptors, accepted findings as results carrying an
// in-source suppression with the annotation's reason.
import { pathToFileURL } from 'node:url';
import { TOOL } from '../version.js';
import type { LintFinding, LintResult } from './lint.js';
import { ACCEPT_PREFIX } from './lint.js';
import { RULES } from './lint-rules.js';
import { objectLabel } from './workloads.js';

export const LINT_FORMATS = ['text', 'json', 'sarif'] as const;
export type LintFormat = (typeof LINT_FORMATS)[number];

export interface LintSummary {
  errors: number;
  warnings: number;
  notes: number;
  accepted: number;
  files: number;
  workloads: number;
  containers: number;
  otherDocuments: number;
}

export function summarize(r: LintResult): LintSummary {
  const open = r.findings.filter((f) => f.accepted === undefined);
  return {
    errors: open.filter((f) => f.severity === 'error').length,
    warnings: open.filter((f) => f.severity === 'warning').length,
    notes: open.filter((f) => f.severity === 'note').length,
    accepted: r.findings.length - open.length,
    files: r.files,
    workloads: r.workloads,
    containers: r.containers,
    otherDocuments: r.otherDocuments,
  };
}

function where(f: LintFinding): string {
  const container = f.container ? ` ${f.containerKind === 'container' ? 'container' : f.containerKind === 'initContainer' ? 'init container' : 'ephemeral container'} "${f.container}"` : '';
  return `${objectLabel(f.object)}${container}`;
}

export function renderText(r: LintResult): string {
  const lines = r.findings.map((f) => {
    const status = f.accepted === undefined ? f.severity : `accepted ${f.severity}`;
    const tail = f.accepted === undefined ? '' : ` (accepted: ${f.accepted})`;
    return `${f.file}:${f.line}: ${status} [${f.ruleId}] ${where(f)}: ${f.message}${tail}`;
  });
  const s = summarize(r);
  lines.push(
    `${s.errors} error(s), ${s.warnings} warning(s), ${s.notes} note(s), ${s.accepted} accepted; ` +
      `${s.workloads} workload(s), ${s.containers} container(s) in ${s.files} file(s)` +
      (s.otherDocuments ? `; ${s.otherDocuments} other document(s) not checked` : ''),
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(r: LintResult): string {
  return `${JSON.stringify({ findings: r.findings, summary: summarize(r) }, null, 2)}\n`;
}

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** SARIF wants a URI: relative paths stay relative (to the repository), absolute ones are file: URIs, stdin gets a name. */
function artifactUri(file: string): string {
  if (file === '<stdin>') return 'stdin';
  if (file.startsWith('/')) return pathToFileURL(file).href;
  return file.split('/').map(encodeURIComponent).join('/');
}

export function renderSarif(r: LintResult): string {
  const ruleIndex = new Map(RULES.map((rule, i) => [rule.id, i]));
  const doc = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL.name,
            version: TOOL.version,
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)(\w)/g, (_, __, ch: string) => ch.toUpperCase()),
              shortDescription: { text: rule.title },
              fullDescription: { text: rule.help },
              help: { text: `${rule.help} Accept for one object with the annotation ${ACCEPT_PREFIX}${rule.id}: "<reason>".` },
              defaultConfiguration: { level: rule.severity },
              properties: { tags: ['security', 'kubernetes', ...(rule.pss ? [`pod-security-standards/${rule.pss}`] : [])] },
            })),
          },
        },
        results: r.findings.map((f) => {
          const result: Record<string, unknown> = {
            ruleId: f.ruleId,
            ruleIndex: ruleIndex.get(f.ruleId),
            level: f.severity,
            message: { text: `${where(f)}: ${f.message}` },
            locations: [
              {
                physicalLocation: { artifactLocation: { uri: artifactUri(f.file) }, region: { startLine: f.line } },
                logicalLocations: [{ fullyQualifiedName: f.container ? `${objectLabel(f.object)}/${f.container}` : objectLabel(f.object), kind: 'object' }],
              },
            ],
          };
          if (f.accepted !== undefined) result.suppressions = [{ kind: 'inSource', justification: f.accepted }];
          return result;
        }),
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function renderLint(r: LintResult, format: LintFormat): string {
  return format === 'json' ? renderJson(r) : format === 'sarif' ? renderSarif(r) : renderText(r);
}
