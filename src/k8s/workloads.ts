// Finds the Pod specs in Kubernetes objects: Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate and
// List items, with their containers, init and ephemeral containers. Anything
// else (other kinds, custom resources, a known kind in another API group) is
// not a workload and is left alone. Shared by `patch` and `lint`.
import { isMap } from 'yaml';
import type { Document, YAMLMap } from 'yaml';
import type { ManifestFile } from './manifest.js';
import { mapAt, seqAt, stringAt, stringMap } from './nodes.js';

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';

export interface ContainerRef {
  kind: ContainerKind;
  name: string;
  image?: string;
  node: YAMLMap;
}

export interface Workload {
  /** Index of the document in its file. */
  docIndex: number;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** The object's own metadata.annotations (where findings are accepted). */
  annotations: Record<string, string>;
  /** The Pod template's (or the Pod's) annotations. */
  podAnnotations: Record<string, string>;
  object: YAMLMap;
  podSpec: YAMLMap;
  containers: ContainerRef[];
}

/** Where each kind keeps its Pod: the path of the Pod's metadata and spec, and the API groups it belongs to. */
const POD_PATHS: Record<string, { groups: string[]; pod: string[] }> = {
  Pod: { groups: [''], pod: [] },
  PodTemplate: { groups: [''], pod: ['template'] },
  ReplicationController: { groups: [''], pod: ['spec', 'template'] },
  Deployment: { groups: ['apps', 'extensions'], pod: ['spec', 'template'] },
  StatefulSet: { groups: ['apps'], pod: ['spec', 'template'] },
  DaemonSet: { groups: ['apps', 'extensions'], pod: ['spec', 'template'] },
  ReplicaSet: { groups: ['apps', 'extensions'], pod: ['spec', 'template'] },
  Job: { groups: ['batch'], pod: ['spec', 'template'] },
  CronJob: { groups: ['batch'], pod: ['spec', 'jobTemplate', 'spec', 'template'] },
};

export const WORKLOAD_KINDS = Object.keys(POD_PATHS);

const CONTAINER_LISTS: [string, ContainerKind][] = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function containersOf(podSpec: YAMLMap): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const [key, kind] of CONTAINER_LISTS) {
    for (const item of seqAt(podSpec, key)?.items ?? []) {
      if (!isMap(item)) continue;
      const node = item as YAMLMap;
      out.push({ kind, name: stringAt(node, 'name') ?? '(unnamed)', image: stringAt(node, 'image'), node });
    }
  }
  return out;
}

function workloadOf(object: YAMLMap, docIndex: number): Workload | undefined {
  const kind = stringAt(object, 'kind');
  const apiVersion = stringAt(object, 'apiVersion') ?? '';
  const where = kind === undefined ? undefined : POD_PATHS[kind];
  if (!kind || !where || !where.groups.includes(groupOf(apiVersion))) return undefined;
  const pod = where.pod.length ? mapAt(object, ...where.pod) : object;
  const podSpec = mapAt(pod, 'spec');
  if (!podSpec) return undefined;
  const meta = mapAt(object, 'metadata');
  const w: Workload = {
    docIndex,
    apiVersion,
    kind,
    name: stringAt(meta, 'name') ?? stringAt(meta, 'generateName') ?? '(unnamed)',
    annotations: stringMap(mapAt(meta, 'annotations')),
    podAnnotations: stringMap(mapAt(pod, 'metadata', 'annotations')),
    object,
    podSpec,
    containers: containersOf(podSpec),
  };
  const ns = stringAt(meta, 'namespace');
  if (ns) w.namespace = ns;
  return w;
}

function objectsOf(root: unknown): YAMLMap[] {
  if (!isMap(root)) return [];
  const map = root as YAMLMap;
  if (stringAt(map, 'kind') === 'List' || (stringAt(map, 'kind') ?? '').endsWith('List')) {
    const items = seqAt(map, 'items')?.items ?? [];
    return items.filter((i) => isMap(i)) as YAMLMap[];
  }
  return [map];
}

/** The workloads of one document. */
export function workloadsOfDocument(doc: Document.Parsed, docIndex: number): Workload[] {
  const out: Workload[] = [];
  for (const o of objectsOf(doc.contents)) {
    const w = workloadOf(o, docIndex);
    if (w) out.push(w);
  }
  return out;
}

/** Every workload of a file, in document order. */
export function workloadsOf(m: ManifestFile): Workload[] {
  return m.docs.flatMap((d, i) => workloadsOfDocument(d, i));
}

/** `Deployment/shop/web` (namespace left out when the manifest sets none). */
export function objectLabel(w: Pick<Workload, 'kind' | 'namespace' | 'name'>): string {
  return w.namespace ? `${w.kind}/${w.namespace}/${w.name}` : `${w.kind}/${w.name}`;
}
