// Which image a recorded container belongs to. Tried in order: the state's
// annotations (containerd CRI, CRI-O), podman (its containers/storage record,
// else `podman inspect`), the
// recording profile's metadata, the bundle's config.json annotations; failing
// all, the container id itself. Lookups are injected so the order is testable.
import type { ContainerHints } from '../record/container-source.js';
import type { ListenerMetadata } from '../record/notify/metadata.js';
import type { ContainerProcessState } from '../record/notify/state-message.js';

export type IdentitySource = 'cri-annotations' | 'crio-annotations' | 'podman' | 'profile-metadata' | 'bundle-config' | 'container-id';

export interface ContainerIdentity {
  containerId: string;
  /** The aggregation key: an image reference, or the container id when nothing names one. */
  image: string;
  source: IdentitySource;
  /** Container name (Kubernetes container name, podman name). */
  name?: string;
  pod?: string;
  namespace?: string;
}

/** The image key pod sandboxes ("pause" containers) share: they carry no image annotation. */
export const SANDBOX_IMAGE = '(pod sandbox)';

const CRI = {
  image: 'io.kubernetes.cri.image-name',
  name: 'io.kubernetes.cri.container-name',
  pod: 'io.kubernetes.cri.sandbox-name',
  namespace: 'io.kubernetes.cri.sandbox-namespace',
  type: 'io.kubernetes.cri.container-type',
};
const CRIO = {
  image: 'io.kubernetes.cri-o.ImageName',
  name: 'io.kubernetes.container.name',
  pod: 'io.kubernetes.pod.name',
  namespace: 'io.kubernetes.pod.namespace',
  type: 'io.kubernetes.cri-o.ContainerType',
};
export const PODMAN_MANAGER = { key: 'io.container.manager', value: 'libpod' };

type Found = Omit<ContainerIdentity, 'containerId'>;

function clean(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t && t.length <= 512 ? t : undefined;
}

function fromKeys(a: Record<string, string>, keys: typeof CRI, source: IdentitySource): Found | undefined {
  const sandbox = a[keys.type] === 'sandbox';
  const image = clean(a[keys.image]) ?? (sandbox ? SANDBOX_IMAGE : undefined);
  if (!image) return undefined;
  const found: Found = { image, source };
  const name = clean(a[keys.name]);
  const pod = clean(a[keys.pod]);
  const namespace = clean(a[keys.namespace]);
  if (name) found.name = name;
  if (pod) found.pod = pod;
  if (namespace) found.namespace = namespace;
  return found;
}

/** The identity the annotations of one container name, if any. */
export function identityFromAnnotations(a: Record<string, string>): Found | undefined {
  return fromKeys(a, CRI, 'cri-annotations') ?? fromKeys(a, CRIO, 'crio-annotations');
}

export interface IdentityLookups {
  /**
   * podman's own record of the container in containers/storage (next to its
   * bundle): read without podman's locks, so it works while `podman run`
   * holds them and before a `--rm` container is gone.
   */
  podmanStorage(bundle: string, containerId: string): Promise<{ image?: string; name?: string } | undefined>;
  /** `podman inspect` of the container: its image and name; undefined when podman does not know it. */
  podman(containerId: string): Promise<{ image?: string; name?: string } | undefined>;
  /** The annotations of `<bundle>/config.json`; undefined when unreadable. */
  bundleAnnotations(bundle: string): Promise<Record<string, string> | undefined>;
}

/** The identity of a container the notify source received (its state message and listener metadata). */
export function resolveIdentity(state: ContainerProcessState, metadata: ListenerMetadata | undefined, lookups: IdentityLookups): Promise<ContainerIdentity> {
  const hints: ContainerHints = { containerId: state.containerId, runtime: metadata?.runtime ?? 'unknown', annotations: state.annotations };
  if (state.bundle) hints.bundles = [state.bundle];
  if (state.annotations[PODMAN_MANAGER.key] === PODMAN_MANAGER.value) hints.podman = true;
  if (metadata?.image) hints.imageHint = metadata.image;
  return resolveHints(hints, lookups);
}

/**
 * The identity of a container from whatever its source knows: annotations it
 * handed over, podman, an image named by the recording profile, the bundles'
 * config.json annotations, else the container id.
 */
export async function resolveHints(hints: ContainerHints, lookups: IdentityLookups): Promise<ContainerIdentity> {
  const id = hints.containerId;
  const fromState = hints.annotations && identityFromAnnotations(hints.annotations);
  if (fromState) return { containerId: id, ...fromState };
  const bundles = hints.bundles ?? [];

  if (hints.podman) {
    let p: { image?: string; name?: string } | undefined;
    for (const b of bundles) if ((p = await lookups.podmanStorage(b, id))) break;
    p ??= await lookups.podman(id);
    const image = clean(p?.image);
    if (image) {
      const found: ContainerIdentity = { containerId: id, image, source: 'podman' };
      const name = clean(p?.name);
      if (name) found.name = name;
      return found;
    }
  }
  if (hints.imageHint) return { containerId: id, image: hints.imageHint, source: 'profile-metadata' };
  for (const b of bundles) {
    const a = await lookups.bundleAnnotations(b);
    const fromBundle = a && identityFromAnnotations(a);
    if (fromBundle) return { containerId: id, ...fromBundle, source: 'bundle-config' };
  }
  return { containerId: id, image: id, source: 'container-id' };
}
