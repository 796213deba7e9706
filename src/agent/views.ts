// What the API shows of the aggregated state: the list of images, one image
// in detail (per container name and namespace too), and an image's Recording
// in the format `generate` reads. Deterministic: sorted, stable keys.
import { UsageError } from '../errors.js';
import type { Observation, Recording } from '../profile/recording.js';
import { RECORDING_KIND, RECORDING_VERSION, sortObservations } from '../profile/recording.js';
import { archToken, syscallNumber } from '../seccomp/libseccomp.js';
import { TOOL } from '../version.js';
import type { AgentState, Gap, ImageAgg } from './aggregate.js';
import { CallTable, callLabel, unionArgValues } from './call-table.js';

export interface ImageSummary {
  image: string;
  containers: number;
  liveContainers: number;
  /** Distinct (arch, syscall) pairs the workload made. */
  syscalls: number;
  firstSeen: string;
  lastActivity: string;
  runtimes: string[];
  sources: string[];
}

function summarize(img: ImageAgg, live: Map<string, number>): ImageSummary {
  return {
    image: img.image,
    containers: img.containers.size,
    liveContainers: live.get(img.image) ?? 0,
    syscalls: img.calls.size,
    firstSeen: img.firstSeen,
    lastActivity: img.lastActivity,
    runtimes: [...img.runtimes].sort(),
    sources: [...img.sources].sort(),
  };
}

export function listImages(state: AgentState, live: Map<string, number>): ImageSummary[] {
  return [...state.images.values()].sort((a, b) => a.image.localeCompare(b.image)).map((img) => summarize(img, live));
}

export interface GroupView {
  namespace?: string;
  name?: string;
  containers: number;
  lastActivity: string;
  syscalls: number;
  /** Calls no other group of this image made (only when there are several groups). */
  onlyHere: string[];
  /** The Kubernetes Pods its containers ran in, when known (CRI annotations). */
  pods?: string[];
}

export interface ImageDetail extends ImageSummary {
  notifications: number;
  lost: number;
  /** Calls were missed (lost notifications or audit records): the recording may lack some. */
  incomplete: boolean;
  /** Never observed (the recording profile let them through): always allowed in generated profiles. */
  assumed: string[];
  calls: Observation[];
  /** The start-up calls of the runtimes this image ran under, attributed to them, not to the image. */
  runtimeCalls: Record<string, string[]>;
  groups: GroupView[];
  /** The namespaces whose containers contributed workload calls ('' for none or unknown: older records). */
  namespaces: string[];
  /** Some of its containers ran privileged: seccomp is off for them, so a profile applies only once they are not. */
  privileged: boolean;
  /** Intervals of live containers no agent saw (the agent was not running): calls made then are missing. */
  gaps: Gap[];
  /**
   * Coverage across runs (containers that made workload calls): the calls only
   * one of them made. `complete` false: runs before this agent version were not counted.
   */
  runs?: { count: number; onlyOnce: string[]; complete: boolean };
}

export function showImage(state: AgentState, image: string, live: Map<string, number>): ImageDetail | undefined {
  const img = state.images.get(image);
  if (!img) return undefined;
  const groups = [...img.groups.values()];
  const runtimeCalls: Record<string, string[]> = {};
  for (const rt of [...img.runtimes].sort()) runtimeCalls[rt] = state.runtimes.get(rt)?.calls.labels() ?? [];
  return {
    ...summarize(img, live),
    notifications: img.notifications,
    lost: img.lost,
    incomplete: img.lost > 0,
    assumed: [...img.uncovered].sort(),
    calls: img.calls.observations(),
    runtimeCalls,
    namespaces: [...img.byNamespace.keys()].sort(),
    privileged: img.privileged.size > 0,
    gaps: img.gaps.map((g) => ({ ...g })),
    runs: {
      count: img.runs.count,
      onlyOnce: img.runs.count > 1 ? [...img.runs.perCall].filter(([, n]) => n === 1).map(([label]) => label).sort() : [],
      complete: img.runs.complete,
    },
    groups: groups
      .map((g) => {
        const others = new Set<string>();
        for (const o of groups) if (o !== g) for (const c of o.calls) others.add(c);
        const v: GroupView = {
          containers: g.containers.size,
          lastActivity: g.lastActivity,
          syscalls: g.calls.size,
          onlyHere: groups.length > 1 ? [...g.calls].filter((c) => !others.has(c)).sort() : [],
        };
        if (g.namespace) v.namespace = g.namespace;
        if (g.name) v.name = g.name;
        if (g.pods.size) v.pods = [...g.pods].sort();
        return v;
      })
      .sort((a, b) => (a.namespace ?? '').localeCompare(b.namespace ?? '') || (a.name ?? '').localeCompare(b.name ?? '')),
  };
}

/** How a namespace is named to users: '' (none or unknown) as `-`. */
export const namespaceLabel = (ns: string) => ns || '-';

/** The image's workload calls, from the given namespaces only when some are given. */
function workloadCalls(img: ImageAgg, namespaces: readonly string[] | undefined): Observation[] {
  if (!namespaces?.length) return img.calls.observations();
  const recorded = [...img.byNamespace.keys()].sort();
  const missing = namespaces.filter((n) => !img.byNamespace.has(n === '-' ? '' : n));
  if (missing.length)
    throw new UsageError(
      `no calls of ${img.image} were recorded in namespace ${missing.map((n) => `"${n}"`).join(', ')}; ` +
        `recorded in: ${recorded.map(namespaceLabel).join(', ') || 'none'} ("-": no namespace known)`,
    );
  if (namespaces.length === 1) return img.byNamespace.get(namespaces[0] === '-' ? '' : namespaces[0])!.observations();
  const union = new CallTable();
  for (const n of new Set(namespaces)) union.add(img.byNamespace.get(n === '-' ? '' : n)!.observations());
  return union.observations();
}

/**
 * The image as one Recording: its workload calls (of the given namespaces
 * only, when some are given), the start-up calls of its runtimes (marked
 * runtimeOnly), and the calls its recording profile could not observe (count
 * 0) on each recorded arch.
 */
export function imageRecording(state: AgentState, image: string, namespaces?: readonly string[]): Recording | undefined {
  const img = state.images.get(image);
  if (!img) return undefined;
  const byKey = new Map<string, Observation>();
  for (const o of workloadCalls(img, namespaces)) byKey.set(callLabel(o), o);
  for (const rt of img.runtimes) {
    for (const o of state.runtimes.get(rt)?.calls.observations() ?? []) {
      const have = byKey.get(callLabel(o));
      if (have) {
        have.count += o.count;
        joinRuntimeArgs(have, o);
      } else byKey.set(callLabel(o), { ...o, runtimeOnly: true });
    }
  }
  const arches = [...new Set([...byKey.values()].map((o) => o.arch))].sort();
  addAssumed(img, arches, byKey);
  return {
    kind: RECORDING_KIND,
    version: RECORDING_VERSION,
    identity: { image },
    arches,
    startedAt: img.firstSeen,
    endedAt: img.lastActivity,
    tool: { ...TOOL },
    observations: sortObservations([...byKey.values()]),
    stats: { notifications: img.notifications, lost: img.lost },
  };
}

/**
 * A call both the workload and its runtime's start-up made: the argument values
 * of both belong to it (runc drops capabilities with prctl under the filter), so
 * they are unioned (bounded as a CallTable is: past the bound, overflowed, so
 * no condition); when the runtime's values are unknown, none are kept, and
 * generate leaves the call without argument conditions instead of pinning it
 * to the workload's values alone.
 */
function joinRuntimeArgs(have: Observation, runtime: Observation): void {
  if (!have.args) return;
  if (!runtime.args) {
    delete have.args;
    return;
  }
  have.args = unionArgValues(have.args, runtime.args);
}

function addAssumed(img: ImageAgg, arches: string[], byKey: Map<string, Observation>): void {
  for (const name of img.uncovered) {
    for (const arch of arches) {
      const token = archToken(arch);
      const nr = token === undefined ? undefined : syscallNumber(token, name);
      if (nr === undefined || nr < 0) continue;
      const o: Observation = { arch, syscall: name, nr, count: 0 };
      if (!byKey.has(callLabel(o))) byKey.set(callLabel(o), o);
    }
  }
}
