// The recording profile's `listenerMetadata`: a short query string the runtime
// hands back to the agent with every container (`metadata` in the state
// message). It says which runtime the profile was made for, which syscalls
// the profile could not route to the agent, and optionally the image.
export const METADATA_TAG = 'seccomp-recorder';
export const METADATA_VERSION = '1';

export interface ListenerMetadata {
  /** The runtime the recording profile was printed for. */
  runtime?: string;
  /** Syscalls the profile lets through without notifying (runc: write): never observed, always allowed. */
  uncovered: string[];
  /** An image name to use when the container carries no annotation naming one. */
  image?: string;
}

/** Deterministic text: fixed key order, names sorted. */
export function encodeMetadata(m: ListenerMetadata): string {
  const q = new URLSearchParams();
  q.set(METADATA_TAG, METADATA_VERSION);
  if (m.runtime) q.set('runtime', m.runtime);
  if (m.uncovered.length) q.set('uncovered', [...new Set(m.uncovered)].sort().join(','));
  if (m.image) q.set('image', m.image);
  return q.toString();
}

/**
 * Reads metadata written by encodeMetadata. Anything else (another tool's
 * profile, a hand-written string) gives undefined: it carries nothing we use.
 */
export function decodeMetadata(text: string | undefined): ListenerMetadata | undefined {
  if (!text || text.length > 4096) return undefined;
  let q: URLSearchParams;
  try {
    q = new URLSearchParams(text);
  } catch {
    return undefined;
  }
  if (q.get(METADATA_TAG) !== METADATA_VERSION) return undefined;
  const out: ListenerMetadata = {
    uncovered: (q.get('uncovered') ?? '')
      .split(',')
      .filter((n) => /^[a-z0-9_]+$/.test(n))
      .sort(),
  };
  const runtime = q.get('runtime');
  if (runtime && /^[a-z0-9_.-]{1,64}$/.test(runtime)) out.runtime = runtime;
  const image = q.get('image');
  if (image && image.length <= 512) out.image = image;
  return out;
}
