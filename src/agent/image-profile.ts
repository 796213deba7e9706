// An image's profile, as the API serves it: the image's Recording through the
// generator (on the node's runtime default baseline unless told otherwise),
// rendered as OCI JSON, an SPO SeccompProfile or a Pod snippet. The options
// arrive as URL query parameters; a bad one is a UsageError naming it.
import { release } from 'node:os';
import { UsageError } from '../errors.js';
import { DOCKER_DEFAULT_CAPS, KNOWN_CAPS, normalizeArch, normalizeCap } from '../profile/baseline.js';
import type { ArgLevel } from '../profile/arg-rules.js';
import { ARG_LEVELS } from '../profile/arg-rules.js';
import type { Profile } from '../profile/model.js';
import type { GenerateReport } from '../profile/generate.js';
import { generateProfile } from '../profile/generate.js';
import { checkProfileName } from '../profile/pod.js';
import type { Recording } from '../profile/recording.js';
import { isValidK8sName } from '../profile/spo.js';
import { renderProfile } from '../profile/render.js';
import { BASELINE_NAME } from './baselines.js';

export const PROFILE_FORMATS = ['oci', 'spo', 'pod'] as const;
export type ProfileFormat = (typeof PROFILE_FORMATS)[number];

export interface ImageProfileOptions {
  format: ProfileFormat;
  name?: string;
  namespace?: string;
  spoVersion: 'v1' | 'v1beta1';
  /** `default` (the node's, when installed), `none`, or the name of a file in the agent's --baseline-dir (baselines.ts). */
  baseline: string;
  caps?: string[];
  arches: string[];
  allowBeyondDefault: boolean;
  /** Only what was recorded: no equivalents of recorded calls. */
  exact?: boolean;
  /** Argument conditions from the recorded values (`safe` unless asked), as `generate --args`. */
  args: ArgLevel;
  /** Build from the calls of these namespaces only (`-`: containers of no known namespace). */
  fromNamespaces?: string[];
}

const list = (v: string | null) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export function profileOptionsFromQuery(q: URLSearchParams): ImageProfileOptions {
  const format = q.get('format') ?? 'oci';
  if (!(PROFILE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`format must be one of ${PROFILE_FORMATS.join(', ')}, got "${format}"`);
  const spoVersion = q.get('spoVersion') ?? 'v1';
  if (spoVersion !== 'v1' && spoVersion !== 'v1beta1') throw new UsageError(`spoVersion must be v1 or v1beta1, got "${spoVersion}"`);
  const baseline = q.get('baseline') ?? 'default';
  if (!BASELINE_NAME.test(baseline))
    throw new UsageError(`baseline must be "default", "none" or the name of a file in the agent's --baseline-dir (never a path), got "${baseline}"`);
  const args = q.get('args') ?? 'safe';
  if (!(ARG_LEVELS as readonly string[]).includes(args)) throw new UsageError(`args must be one of ${ARG_LEVELS.join(', ')}, got "${args}"`);
  const opts: ImageProfileOptions = {
    format: format as ProfileFormat,
    args: args as ArgLevel,
    spoVersion,
    baseline,
    arches: list(q.get('arch')).map((a) => normalizeArch(a) ?? fail(`arch: unknown architecture "${a}"`)),
    allowBeyondDefault: q.get('allowBeyondDefault') === '1' || q.get('allowBeyondDefault') === 'true',
  };
  if (q.get('exact') === '1' || q.get('exact') === 'true') opts.exact = true;
  const fromNamespaces = namespacesFromQuery(q);
  if (fromNamespaces.length) opts.fromNamespaces = fromNamespaces;
  const name = q.get('name');
  if (name) opts.name = name;
  const namespace = q.get('namespace');
  if (namespace) opts.namespace = namespace;
  if (q.has('caps')) {
    opts.caps = list(q.get('caps')).map(normalizeCap);
    const unknown = opts.caps.filter((c) => !KNOWN_CAPS.has(c));
    if (unknown.length) throw new UsageError(`caps: unknown capabilities ${unknown.join(', ')}`);
  }
  if (opts.format === 'spo' && opts.name && !isValidK8sName(opts.name))
    throw new UsageError(`name "${opts.name}" is not a valid Kubernetes object name (lower case letters, digits, "-" and ".")`);
  if (opts.format === 'pod') checkProfileName(opts.name ?? fail('format pod needs a name (the file name export uses)'));
  return opts;
}

/** `fromNamespace` (repeatable): Kubernetes namespace names, or `-` for containers of no known namespace. */
export function namespacesFromQuery(q: URLSearchParams): string[] {
  const out = q.getAll('fromNamespace').map((n) => n.trim());
  for (const n of out) if (n !== '-' && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(n)) throw new UsageError(`fromNamespace: "${n}" is not a Kubernetes namespace name (or "-" for containers of no namespace)`);
  return [...new Set(out)].sort();
}

function fail(message: string): never {
  throw new UsageError(message);
}

/** A Kubernetes object name derived from an image reference: `docker.io/library/nginx:1.27` -> `nginx-1.27`. */
export function k8sNameForImage(image: string): string {
  const last = image.replace(/@.*$/, '').split('/').pop() ?? image;
  const name = last.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 200);
  return name || 'recorded';
}

export interface ImageProfile {
  text: string;
  report: GenerateReport;
}

/** `baseline` is opts.baseline as resolved by the agent's BaselineCatalog. */
export function imageProfile(recording: Recording, opts: ImageProfileOptions, baseline: Profile | undefined): ImageProfile {
  const { profile, report } = generateProfile({
    recordings: [{ file: recording.identity.image ?? 'recording', recording }],
    baseline,
    caps: opts.caps ?? [...DOCKER_DEFAULT_CAPS],
    kernel: release(),
    arches: opts.arches,
    allowBeyondDefault: opts.allowBeyondDefault,
    equivalents: !opts.exact,
    args: opts.args,
  });
  const name = opts.name ?? k8sNameForImage(recording.identity.image ?? 'recorded');
  const annotations: Record<string, string> = { 'seccomp-recorder/image': recording.identity.image ?? '' };
  if (opts.fromNamespaces) annotations['seccomp-recorder/from-namespaces'] = opts.fromNamespaces.join(',');
  const text = renderProfile(profile, { format: opts.format, spoVersion: opts.spoVersion, name, namespace: opts.namespace }, annotations);
  return { text, report };
}
