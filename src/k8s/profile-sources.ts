// Where `patch` finds each image's profile, in this order: an explicit
// `--map IMAGE=NAME`; the node agent's recordings (`--agent`: the image's
// profile as `recordings profile` generates it); a profile already exported
// under <kubelet-root>/seccomp/seccomp-recorder/ by the name derived from the
// image (`nginx:1.27` -> nginx-1.27.json, the name `recordings profile` gives).
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';
import { apiRequest, checkResponse, imagePath } from '../agent/client.js';
import { k8sNameForImage } from '../agent/image-profile.js';
import { loadProfile, parseProfileText } from '../profile/load.js';
import { checkProfileName, KUBELET_SUBDIR, localhostProfileFor, profileFileName } from '../profile/pod.js';
import { imageCandidates } from './image-ref.js';
import type { ProfileChoice, ProfileResolver } from './patch.js';
import { splitImageAssignment } from './recordings.js';

export interface SourceOptions {
  /** `IMAGE=NAME` entries. */
  map?: readonly string[];
  kubeletRoot?: string;
  /** Ask the agent at this API socket. */
  agentSocket?: string;
}

/** The exported file of a profile name, under the kubelet root. */
export function exportedPath(kubeletRoot: string, name: string): string {
  return join(kubeletRoot, 'seccomp', KUBELET_SUBDIR, profileFileName(name));
}

function fromKubeletRoot(kubeletRoot: string, image: string, name: string, source: ProfileChoice['source']): ProfileChoice | undefined {
  const file = exportedPath(kubeletRoot, name);
  if (!existsSync(file)) return undefined;
  return { image, name, localhostProfile: localhostProfileFor(name), source, profile: loadProfile(file).profile };
}

async function fromAgent(socket: string, image: string): Promise<ProfileChoice | undefined> {
  for (const form of imageCandidates(image)) {
    const res = await apiRequest(socket, 'GET', `${imagePath(form, 'profile')}?format=oci`);
    if (res.status === 404) continue;
    checkResponse(res);
    const name = k8sNameForImage(form);
    return { image, name, localhostProfile: localhostProfileFor(name), source: 'agent', profile: parseProfileText(res.body, `the agent's profile of ${form}`).profile };
  }
  return undefined;
}

/** Resolves every image once (the agent is asked here), then answers synchronously. */
export async function profileResolver(images: Iterable<string>, opts: SourceOptions): Promise<ProfileResolver> {
  const mapped = new Map<string, string>();
  for (const entry of opts.map ?? []) {
    const [image, name] = splitImageAssignment(entry, '--map');
    checkProfileName(name);
    mapped.set(image, name);
  }
  const chosen = new Map<string, ProfileChoice | undefined>();
  for (const image of new Set(images)) {
    const forms = imageCandidates(image);
    const mappedName = forms.map((f) => mapped.get(f)).find((n) => n !== undefined);
    let choice: ProfileChoice | undefined;
    if (mappedName !== undefined) {
      choice = opts.kubeletRoot ? fromKubeletRoot(opts.kubeletRoot, image, mappedName, 'map') : undefined;
      if (opts.kubeletRoot && !choice) throw new InputError(exportedPath(opts.kubeletRoot, mappedName), [`--map ${image}=${mappedName}: no such profile (export it first)`]);
      choice ??= { image, name: mappedName, localhostProfile: localhostProfileFor(mappedName), source: 'map' };
    } else if (opts.agentSocket) choice = await fromAgent(opts.agentSocket, image);
    if (!choice && mappedName === undefined && opts.kubeletRoot) choice = fromKubeletRoot(opts.kubeletRoot, image, k8sNameForImage(image), 'kubelet-root');
    chosen.set(image, choice);
  }
  // Two images must not land on one file: the second would overwrite the first's profile.
  const byName = new Map<string, ProfileChoice>();
  for (const c of chosen.values()) {
    if (!c || c.source === 'map') continue;
    const other = byName.get(c.name);
    if (other && other.profile !== c.profile && imageCandidates(other.image).at(-1) !== imageCandidates(c.image).at(-1))
      throw new UsageError(`images ${other.image} and ${c.image} would share the profile name ${c.name}; name them apart with --map IMAGE=NAME`);
    byName.set(c.name, c);
  }
  return (image) => chosen.get(image);
}

/** The name a profile for this image is looked for under (for the "no profile" list). */
export const expectedProfileFor = (image: string) => localhostProfileFor(k8sNameForImage(image));
