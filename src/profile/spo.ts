// Security Profiles Operator `SeccompProfile` YAML <-> the Profile model.
// The spec carries the OCI fields, so parsing reuses the OCI parser on it.
import YAML from 'yaml';
import { InputError } from '../errors.js';
import { describe, isRecord } from './json-input.js';
import { EQUIVALENTS_ANNOTATION, EQUIVALENTS_COMMENT } from './equivalents.js';
import type { Profile } from './model.js';
import { ociObject, profileFromOciObject } from './oci.js';

export const SPO_GROUP = 'security-profiles-operator.x-k8s.io';
export const SPO_VERSIONS = ['v1', 'v1beta1', 'v1alpha1'] as const;
export type SpoVersion = (typeof SPO_VERSIONS)[number];
/** SPO-only spec fields we accept and ignore when reading. */
const SPO_ONLY_SPEC_KEYS = new Set(['disabled']);

/** Parses YAML text into plain data; 64-bit integers stay exact. Errors name the line. */
export function parseYamlDocument(text: string, file: string): unknown {
  const docs = YAML.parseAllDocuments(text, { intAsBigInt: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const problems: string[] = [];
  for (const d of list) for (const e of d.errors) problems.push(`invalid YAML at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  if (problems.length) throw new InputError(file, problems);
  const nonEmpty = list.filter((d) => d.contents !== null);
  if (nonEmpty.length !== 1) throw new InputError(file, [`expected one YAML document, found ${nonEmpty.length}`]);
  return numbersFromBigints(nonEmpty[0].toJS());
}

function numbersFromBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(numbersFromBigints);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, numbersFromBigints(x)]));
  return v;
}

export function isSpoDocument(doc: unknown): boolean {
  return isRecord(doc) && doc.kind === 'SeccompProfile';
}

export interface SpoProfile {
  profile: Profile;
  name?: string;
  namespace?: string;
  apiVersion: string;
}

export function profileFromSpoObject(doc: unknown, file: string): SpoProfile {
  if (!isRecord(doc)) throw new InputError(file, [`expected a SeccompProfile object, got ${describe(doc)}`]);
  const problems: string[] = [];
  const api = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const [group, version] = api.split('/');
  if (group !== SPO_GROUP || !SPO_VERSIONS.includes(version as SpoVersion))
    problems.push(`apiVersion: expected ${SPO_GROUP}/{${SPO_VERSIONS.join(',')}}, got ${describe(doc.apiVersion)}`);
  if (doc.kind !== 'SeccompProfile') problems.push(`kind: expected "SeccompProfile", got ${describe(doc.kind)}`);
  if (!isRecord(doc.spec)) problems.push('spec: missing or not an object');
  if (problems.length) throw new InputError(file, problems);
  const spec = { ...(doc.spec as Record<string, unknown>) };
  if (spec.baseProfileName !== undefined)
    throw new InputError(file, ['spec.baseProfileName: a profile that inherits from another cannot be read alone; merge the base profile into it first']);
  for (const k of SPO_ONLY_SPEC_KEYS) delete spec[k];
  const profile = profileFromOciObject(spec, file, 'spec');
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  markEquivalents(profile, isRecord(meta.annotations) ? meta.annotations[EQUIVALENTS_ANNOTATION] : undefined);
  return {
    profile,
    apiVersion: api,
    name: typeof meta.name === 'string' ? meta.name : undefined,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
  };
}

export interface SpoOutputOptions {
  name: string;
  namespace?: string;
  version?: SpoVersion;
  annotations?: Record<string, string>;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isValidK8sName(name: string): boolean {
  return K8S_NAME.test(name);
}

/**
 * SPO's syscall entries have no comment field: the rules marked as added
 * equivalents are named in an annotation instead, and marked again on reading.
 */
function markEquivalents(profile: Profile, annotation: unknown): void {
  if (typeof annotation !== 'string') return;
  let names: unknown;
  try {
    names = JSON.parse(annotation);
  } catch {
    return;
  }
  if (!Array.isArray(names)) return;
  const set = new Set(names.filter((n) => typeof n === 'string'));
  for (const r of profile.rules) if (r.names.length && r.names.every((n) => set.has(n))) r.comment = EQUIVALENTS_COMMENT;
}

/** The profile as an SPO SeccompProfile manifest (deterministic YAML). */
export function serializeSpo(profile: Profile, opts: SpoOutputOptions): string {
  const metadata: Record<string, unknown> = { name: opts.name };
  if (opts.namespace) metadata.namespace = opts.namespace;
  const annotations = { ...(opts.annotations ?? {}) };
  const marked = [...new Set(profile.rules.filter((r) => r.comment === EQUIVALENTS_COMMENT).flatMap((r) => r.names))].sort();
  if (marked.length) annotations[EQUIVALENTS_ANNOTATION] = JSON.stringify(marked);
  if (Object.keys(annotations).length) {
    metadata.annotations = Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b)));
  }
  const spec = ociObject({ ...profile, rules: profile.rules.map(({ comment: _comment, ...r }) => r) });
  const doc = {
    apiVersion: `${SPO_GROUP}/${opts.version ?? 'v1'}`,
    kind: 'SeccompProfile',
    metadata,
    spec: bigintsFromMarkers(spec),
  };
  return YAML.stringify(doc, { lineWidth: 0 });
}

// ociObject marks 64-bit values for the JSON writer; YAML writes BigInt exactly.
function bigintsFromMarkers(v: unknown): unknown {
  if (typeof v === 'string' && v.startsWith('\u0000bigint:')) return BigInt(v.slice('\u0000bigint:'.length));
  if (Array.isArray(v)) return v.map(bigintsFromMarkers);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bigintsFromMarkers(x)]));
  return v;
}

/** SPO's ProfileBinding API version (the kind has no v1 yet). */
export const SPO_BINDING_VERSION = 'v1alpha1';

export interface BindingOptions {
  name: string;
  namespace?: string;
  /** The image as Pods write it: the operator's webhook sets the profile on containers running exactly this image. */
  image: string;
  /** The SeccompProfile's metadata.name. */
  profileName: string;
}

/** An SPO ProfileBinding manifest binding `image` to a SeccompProfile (deterministic YAML). */
export function serializeProfileBinding(opts: BindingOptions): string {
  const metadata: Record<string, unknown> = { name: opts.name };
  if (opts.namespace) metadata.namespace = opts.namespace;
  const doc = {
    apiVersion: `${SPO_GROUP}/${SPO_BINDING_VERSION}`,
    kind: 'ProfileBinding',
    metadata,
    spec: { profileRef: { kind: 'SeccompProfile', name: opts.profileName }, image: opts.image },
  };
  return YAML.stringify(doc, { lineWidth: 0 });
}
