// Loads a profile from a file (or `-` for stdin) in any format we read:
// OCI/Docker JSON, or SPO SeccompProfile YAML (a plain OCI document in YAML is
// accepted too). Every failure is an InputError naming the file.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { foldErrnoNames } from './errno-names.js';
import { isRecord, parseJsonDocument, Problems } from './json-input.js';
import type { Profile } from './model.js';
import { profileFromOciObject } from './oci.js';
import { isSpoDocument, parseYamlDocument, profileFromSpoObject } from './spo.js';

export type ProfileFormat = 'oci' | 'spo';

export interface LoadedProfile {
  profile: Profile;
  format: ProfileFormat;
  /** As given (`-` shows as `<stdin>`). */
  file: string;
  /** SPO metadata.name, when the input was SPO. */
  name?: string;
}

export function readInput(file: string): { text: string; label: string } {
  const label = file === '-' ? '<stdin>' : file;
  try {
    return { text: readFileSync(file === '-' ? 0 : file, 'utf8'), label };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new InputError(label, [`cannot read: ${why}`], err);
  }
}

export function parseProfileText(text: string, label: string): LoadedProfile {
  const trimmed = text.trimStart();
  if (!trimmed) throw new InputError(label, ['empty file']);
  if (trimmed.startsWith('{')) {
    const doc = parseJsonDocument(text, label);
    const problems = new Problems();
    const folded = isRecord(doc) ? foldErrnoNames(doc, problems) : doc;
    problems.throwIfAny(label);
    return { profile: profileFromOciObject(folded, label), format: 'oci', file: label };
  }
  const doc = parseYamlDocument(text, label);
  if (isSpoDocument(doc)) {
    const spo = profileFromSpoObject(doc, label);
    return { profile: spo.profile, format: 'spo', file: label, name: spo.name };
  }
  return { profile: profileFromOciObject(doc, label), format: 'oci', file: label };
}

export function loadProfile(file: string): LoadedProfile {
  const { text, label } = readInput(file);
  return parseProfileText(text, label);
}
