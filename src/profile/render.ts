// Rendering a generated profile in the format asked for (OCI JSON, SPO
// SeccompProfile, Pod snippet), shared by generate, merge and the agent's API.
import { serializeOci } from './oci.js';
import type { Profile } from './model.js';
import { podSnippet } from './pod.js';
import type { SpoVersion } from './spo.js';
import { serializeSpo } from './spo.js';

/** The node's runtime default when containers-common is installed (podman, CRI-O). */
export const NODE_DEFAULT_BASELINE = '/usr/share/containers/seccomp.json';

export interface OutputChoice {
  format: string;
  spoVersion: string;
  name?: string;
  namespace?: string;
}

export function renderProfile(profile: Profile, o: OutputChoice, annotations: Record<string, string> = {}): string {
  if (o.format === 'spo')
    return serializeSpo(profile, { name: o.name!, namespace: o.namespace, version: o.spoVersion as SpoVersion, annotations });
  if (o.format === 'pod') return podSnippet(o.name!);
  return serializeOci(profile);
}
