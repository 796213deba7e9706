// Kubernetes manifests as `yaml` Documents: every document of a file (or of
// stdin), node offsets turned into line numbers, a parse error reported with
// its file and line. Directories are read as the *.yaml/*.yml/*.json files
// under them, in sorted order, so `lint deploy/` sees one fixed list.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML, { LineCounter } from 'yaml';
import type { Document, Node } from 'yaml';
import { InputError } from '../errors.js';
import { readInput } from '../profile/load.js';

export interface ManifestFile {
  /** As the user named it (`<stdin>` for `-`). */
  file: string;
  text: string;
  docs: Document.Parsed[];
  lines: LineCounter;
}

/** Parses every document; YAML errors name the file and the line, all at once. */
export function parseManifest(text: string, file: string): ManifestFile {
  const lines = new LineCounter();
  const docs = YAML.parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const problems: string[] = [];
  for (const d of list)
    for (const e of d.errors) problems.push(`invalid YAML at line ${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  if (problems.length) throw new InputError(file, problems);
  return { file, text, docs: list as Document.Parsed[], lines };
}

export function readManifest(file: string): ManifestFile {
  const { text, label } = readInput(file);
  return parseManifest(text, label);
}

const MANIFEST_EXT = /\.(ya?ml|json)$/;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile() && MANIFEST_EXT.test(entry.name)) out.push(path);
  }
  return out;
}

/** The files named, directories expanded; `-` stays `-` (stdin). */
export function expandManifestPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      /* readInput reports a missing file with its name */
    }
    if (!isDir) out.push(p);
    else {
      const found = filesUnder(p);
      if (!found.length) throw new InputError(p, ['no *.yaml, *.yml or *.json files in this directory']);
      out.push(...found);
    }
  }
  return out;
}

/** 1-based line of a node's start (1 for a node without a position). */
export function lineOf(m: ManifestFile, node: Node | null | undefined): number {
  const start = node?.range?.[0];
  return start === undefined ? 1 : m.lines.linePos(start).line;
}

/** The source text of document `i` as it was read, separators and comments included. */
export function documentSource(m: ManifestFile, i: number): string {
  const start = i === 0 ? 0 : m.docs[i - 1].range[2];
  const end = i === m.docs.length - 1 ? m.text.length : m.docs[i].range[2];
  return m.text.slice(start, end);
}
