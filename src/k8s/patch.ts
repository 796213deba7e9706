// Sets `securityContext.seccompProfile: {type: Localhost, localhostProfile}` on
// every container whose image has a profile, through the `yaml` Document API:
// comments, key order, quoting and blank lines stay; documents with nothing to
// change are kept byte for byte. Reports, per container, what was done and
// which containers have no profile. A JSON manifest is written back as JSON.
import YAML from 'yaml';
import type { Document, ToStringOptions, YAMLMap } from 'yaml';
import type { Profile } from '../profile/model.js';
import type { ManifestFile } from './manifest.js';
import { documentSource, lineOf } from './manifest.js';
import { mapAt, pairOf, scalarAt, stringAt } from './nodes.js';
import type { ContainerKind, Workload } from './workloads.js';
import { workloadsOfDocument } from './workloads.js';
import { editScript, splitLines } from '../util/unified-diff.js';

export interface ProfileChoice {
  /** The image as the manifest writes it. */
  image: string;
  /** The profile's name (export's --name; SPO's metadata.name). */
  name: string;
  /** The value for the Pod: relative to <kubelet-root>/seccomp. */
  localhostProfile: string;
  /** Where it was found, for the report. */
  source: 'map' | 'agent' | 'kubelet-root';
  /** Its content, when known (needed for --format spo). */
  profile?: Profile;
}

export type ProfileResolver = (image: string) => ProfileChoice | undefined;

export type ContainerChange = 'set' | 'replaced' | 'unchanged' | 'no-profile' | 'no-image';

export interface ContainerReport {
  file: string;
  line: number;
  workload: Pick<Workload, 'kind' | 'namespace' | 'name'>;
  container: string;
  containerKind: ContainerKind;
  image?: string;
  change: ContainerChange;
  choice?: ProfileChoice;
  /** What the container had before (`RuntimeDefault`, `Localhost other.json`, ...), when replaced. */
  previous?: string;
  /** Privileged containers run without seccomp: the profile is set but has no effect. */
  privileged: boolean;
}

export interface PatchResult {
  file: string;
  before: string;
  after: string;
  containers: ContainerReport[];
}

function describeProfile(m: YAMLMap | undefined): string | undefined {
  if (!m) return undefined;
  const type = stringAt(m, 'type') ?? '?';
  const lp = stringAt(m, 'localhostProfile');
  return lp ? `${type} ${lp}` : type;
}

/** Sets the container's seccompProfile; the answer says whether it changed. */
function setProfile(doc: Document.Parsed, container: YAMLMap, localhostProfile: string): { change: 'set' | 'replaced' | 'unchanged'; previous?: string } {
  const ctx = mapAt(container, 'securityContext');
  const current = mapAt(ctx, 'seccompProfile');
  if (current && stringAt(current, 'type') === 'Localhost' && stringAt(current, 'localhostProfile') === localhostProfile) return { change: 'unchanged' };
  const value = doc.createNode({ type: 'Localhost', localhostProfile });
  if (ctx) ctx.set('seccompProfile', value);
  else {
    // securityContext absent, or present but empty/null: a fresh map in its place.
    const fresh = doc.createNode({ seccompProfile: { type: 'Localhost', localhostProfile } });
    if (pairOf(container, 'securityContext')) container.set('securityContext', fresh);
    else container.add(doc.createPair('securityContext', fresh));
  }
  const previous = describeProfile(current);
  return previous ? { change: 'replaced', previous } : { change: 'set' };
}

/**
 * How the file indents block sequences under a key: `key:\n- item` (as kubectl
 * writes) or `key:\n  - item`. The majority decides, so a rewritten document
 * keeps the file's style.
 */
export function indentsSequences(source: string): boolean {
  let indented = 0;
  let flush = 0;
  const lines = source.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const key = /^(\s*)(?:- )?[^\s#-][^:#]*:\s*(#.*)?$/.exec(lines[i]);
    if (!key) continue;
    const indent = key[1].length + (lines[i].trimStart().startsWith('- ') ? 2 : 0);
    const next = /^(\s*)- /.exec(lines[i + 1]);
    if (!next) continue;
    if (next[1].length === indent) flush++;
    else if (next[1].length > indent) indented++;
  }
  return indented >= flush;
}

/**
 * The changed document's text. The yaml printer normalises a little within
 * lines (the spaces before a trailing comment, `[ a ]`); so the same printer's
 * view of the unchanged source is compared with its view of the changed
 * document, and only the lines that differ are taken from the printer: every
 * other line is the source's own. When the printer changed the line count of
 * the untouched source (it never should), its whole output is used.
 */
function rewritten(source: string, changed: Document.Parsed): string {
  const options: ToStringOptions = { lineWidth: 0, flowCollectionPadding: false, indentSeq: indentsSequences(source) };
  const after = changed.toString(options);
  const sourceLines = splitLines(source);
  const printedSource = splitLines(YAML.parseDocument(source).toString(options));
  if (printedSource.length !== sourceLines.length) return after;
  const out: string[] = [];
  let at = 0;
  for (const op of editScript(printedSource, splitLines(after))) {
    if (op.kind === ' ') out.push(sourceLines[at++]);
    else if (op.kind === '-') at++;
    else out.push(op.line);
  }
  // A file that ended without a newline still does.
  return `${out.join('\n')}${source.endsWith('\n') ? '\n' : ''}`;
}

const isJson = (source: string) => /^\s*[{[]/.test(source);

/** A JSON manifest stays JSON (YAML's flow style is not), indented as it was. */
function rewrittenJson(source: string, changed: Document.Parsed): string {
  const indent = /\n([ \t]+)"/.exec(source)?.[1] ?? (source.includes('\n') ? '  ' : '');
  return `${JSON.stringify(changed.toJS(), null, indent)}${source.endsWith('\n') ? '\n' : ''}`;
}

/** The file with each container given its profile (see the header). */
export function patchManifest(m: ManifestFile, resolve: ProfileResolver): PatchResult {
  const containers: ContainerReport[] = [];
  const parts: string[] = [];
  m.docs.forEach((doc, i) => {
    let changed = false;
    for (const w of workloadsOfDocument(doc, i)) {
      for (const c of w.containers) {
        const report: ContainerReport = {
          file: m.file,
          line: lineOf(m, c.node),
          workload: { kind: w.kind, namespace: w.namespace, name: w.name },
          container: c.name,
          containerKind: c.kind,
          change: 'no-image',
          privileged: scalarAt(mapAt(c.node, 'securityContext'), 'privileged') === true,
        };
        if (c.image) report.image = c.image;
        const choice = c.image ? resolve(c.image) : undefined;
        if (c.image && !choice) report.change = 'no-profile';
        if (choice) {
          report.choice = choice;
          const r = setProfile(doc, c.node, choice.localhostProfile);
          report.change = r.change;
          if (r.previous) report.previous = r.previous;
          if (r.change !== 'unchanged') changed = true;
        }
        containers.push(report);
      }
    }
    const source = documentSource(m, i);
    parts.push(!changed ? source : isJson(source) ? rewrittenJson(source, doc) : rewritten(source, doc));
  });
  return { file: m.file, before: m.text, after: parts.join(''), containers };
}

/** The containers whose manifest changed or already pointed at their profile. */
export const isCovered = (c: ContainerReport) => c.change === 'set' || c.change === 'replaced' || c.change === 'unchanged';

