// A container's effective security settings: its own securityContext where it
// sets a field, else the Pod's (for the fields both levels have: seccomp,
// AppArmor, SELinux, runAsUser, runAsNonRoot), and the container-only and
// Pod-only fields as they are. Each value keeps the node it came from, so a
// finding points at the line that decides it.
import type { Node, YAMLMap } from 'yaml';
import { anchorOf, mapAt, nodeAt, scalarAt, seqAt, stringAt, stringsOf } from './nodes.js';
import type { ContainerRef, Workload } from './workloads.js';

export type Level = 'pod' | 'container';

export interface Located<T> {
  value: T;
  /** Where the value is written (its key). */
  node: Node | undefined;
  level: Level;
}

export interface ProfileRef {
  type: string;
  localhostProfile?: string;
}

export interface EffectiveSecurity {
  seccomp?: Located<ProfileRef>;
  appArmor?: Located<ProfileRef>;
  seLinuxType?: Located<string>;
  seLinuxUserOrRole?: Located<string>;
  runAsNonRoot?: Located<unknown>;
  runAsUser?: Located<unknown>;
  privileged?: Located<unknown>;
  allowPrivilegeEscalation?: Located<unknown>;
  capAdd: { value: string; node: Node }[];
  capDrop: { value: string; node: Node }[];
  procMount?: Located<unknown>;
}

const podContext = (w: Workload) => mapAt(w.podSpec, 'securityContext');
const containerContext = (c: ContainerRef) => mapAt(c.node, 'securityContext');

function profileAt(ctx: YAMLMap | undefined, key: string, level: Level): Located<ProfileRef> | undefined {
  const m = mapAt(ctx, key);
  if (!m) return undefined;
  const ref: ProfileRef = { type: stringAt(m, 'type') ?? '' };
  const lp = stringAt(m, 'localhostProfile');
  if (lp !== undefined) ref.localhostProfile = lp;
  return { value: ref, node: anchorOf(ctx, key), level };
}

function scalarLocated(ctx: YAMLMap | undefined, key: string, level: Level): Located<unknown> | undefined {
  if (!nodeAt(ctx, key)) return undefined;
  return { value: scalarAt(ctx, key), node: anchorOf(ctx, key), level };
}

function stringLocated(ctx: YAMLMap | undefined, key: string, level: Level): Located<string> | undefined {
  const v = stringAt(ctx, key);
  return v === undefined ? undefined : { value: v, node: anchorOf(ctx, key), level };
}

/** Container first, then Pod. */
function either<T>(get: (ctx: YAMLMap | undefined, level: Level) => Located<T> | undefined, c: ContainerRef, w: Workload): Located<T> | undefined {
  return get(containerContext(c), 'container') ?? get(podContext(w), 'pod');
}

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** The AppArmor profile: the field (1.30+) wins over the older per-container annotation. */
function appArmorOf(c: ContainerRef, w: Workload): Located<ProfileRef> | undefined {
  const field = either((ctx, level) => profileAt(ctx, 'appArmorProfile', level), c, w);
  if (field) return field;
  const ann = w.podAnnotations[`${APPARMOR_ANNOTATION}${c.name}`];
  if (ann === undefined) return undefined;
  const type = ann === 'unconfined' ? 'Unconfined' : ann === 'runtime/default' ? 'RuntimeDefault' : ann.startsWith('localhost/') ? 'Localhost' : ann;
  return { value: { type }, node: undefined, level: 'pod' };
}

export function effectiveSecurity(c: ContainerRef, w: Workload): EffectiveSecurity {
  const cc = containerContext(c);
  const caps = mapAt(cc, 'capabilities');
  const seLinux = (ctx: YAMLMap | undefined, level: Level) => stringLocated(mapAt(ctx, 'seLinuxOptions'), 'type', level);
  const seLinuxUserOrRole = (ctx: YAMLMap | undefined, level: Level) => {
    const o = mapAt(ctx, 'seLinuxOptions');
    return stringLocated(o, 'user', level) ?? stringLocated(o, 'role', level);
  };
  return {
    seccomp: either((ctx, level) => profileAt(ctx, 'seccompProfile', level), c, w),
    appArmor: appArmorOf(c, w),
    seLinuxType: either(seLinux, c, w),
    seLinuxUserOrRole: either(seLinuxUserOrRole, c, w),
    runAsNonRoot: either((ctx, level) => scalarLocated(ctx, 'runAsNonRoot', level), c, w),
    runAsUser: either((ctx, level) => scalarLocated(ctx, 'runAsUser', level), c, w),
    privileged: scalarLocated(cc, 'privileged', 'container'),
    allowPrivilegeEscalation: scalarLocated(cc, 'allowPrivilegeEscalation', 'container'),
    capAdd: stringsOf(seqAt(caps, 'add')),
    capDrop: stringsOf(seqAt(caps, 'drop')),
    procMount: scalarLocated(cc, 'procMount', 'container'),
  };
}

/** A Pod-level field (hostPID, hostUsers, ...) with where it is written. */
export function podField(w: Workload, key: string): Located<unknown> | undefined {
  return scalarLocated(w.podSpec, key, 'pod');
}
