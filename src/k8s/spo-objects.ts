// `patch --format spo`: instead of editing the manifests, the Security Profiles
// Operator's objects that make the same change in a cluster running it: per
// namespace and image, a SeccompProfile with the image's profile and a
// ProfileBinding that has the operator's webhook set it on the image's containers.
import { UsageError } from '../errors.js';
import { isValidK8sName, serializeProfileBinding, serializeSpo } from '../profile/spo.js';
import type { ContainerReport } from './patch.js';

export interface SpoObjectsOptions {
  /** For workloads whose manifest names no namespace. */
  namespace?: string;
}

/** The SPO objects as one multi-document YAML text, sorted by namespace and name. */
export function spoObjects(reports: readonly ContainerReport[], opts: SpoObjectsOptions = {}): string {
  const wanted = new Map<string, { namespace?: string; report: ContainerReport }>();
  for (const r of reports) {
    if (!r.choice) continue;
    if (!r.choice.profile)
      throw new UsageError(`--format spo needs the content of ${r.choice.localhostProfile} (for ${r.choice.image}): give --kubelet-root where it is exported, or --agent`);
    if (!isValidK8sName(r.choice.name))
      throw new UsageError(`--format spo: "${r.choice.name}" (for ${r.choice.image}) is not a valid Kubernetes object name (lower case letters, digits, "-" and ".")`);
    const namespace = r.workload.namespace ?? opts.namespace;
    wanted.set(`${namespace ?? ''}\u0000${r.choice.image}`, { namespace, report: r });
  }
  const docs: string[] = [];
  const keys = [...wanted.keys()].sort();
  for (const key of keys) {
    const { namespace, report } = wanted.get(key)!;
    const choice = report.choice!;
    docs.push(serializeSpo(choice.profile!, { name: choice.name, namespace, annotations: { 'seccomp-recorder/image': choice.image } }));
    docs.push(serializeProfileBinding({ name: choice.name, namespace, image: choice.image, profileName: choice.name }));
  }
  return docs.join('---\n');
}
