// Observations aggregated per image (workload calls, kept per namespace too so
// one tenant's containers never widen another's profile, with a breakdown per
// container name) and per runtime (calls the runtime itself makes after
// installing the filter). Pure: journal records in, snapshot out.
import { InputError } from '../errors.js';
import { isRecord } from '../profile/json-input.js';
import type { Observation } from '../profile/recording.js';
import { CallTable } from './call-table.js';
import type { JournalRecord } from './records.js';
import { isObservation } from './records.js';

export const SNAPSHOT_KIND = 'seccomp-recorder/agent-state';
export const SNAPSHOT_VERSION = 1;

export interface GroupAgg {
  namespace?: string;
  name?: string;
  containers: Set<string>;
  lastActivity: string;
  /** Call labels (`x86_64/read`) seen from this group. */
  calls: Set<string>;
  /** The Pods its containers ran in (from the CRI annotations; empty outside Kubernetes). */
  pods: Set<string>;
}

export interface ImageAgg {
  image: string;
  firstSeen: string;
  lastActivity: string;
  sources: Set<string>;
  runtimes: Set<string>;
  uncovered: Set<string>;
  containers: Set<string>;
  notifications: number;
  lost: number;
  calls: CallTable;
  /**
   * The same calls per Kubernetes namespace ('' for none or unknown: records
   * and snapshots older than this field load there), so a profile can be
   * built from chosen namespaces only.
   */
  byNamespace: Map<string, CallTable>;
  groups: Map<string, GroupAgg>;
  /** Containers of this image that ran privileged (no seccomp). */
  privileged: Set<string>;
  /** Intervals of live containers no agent saw (newest last, at most MAX_GAPS). */
  gaps: Gap[];
  runs: RunCoverage;
}

/**
 * Per call, how many containers (runs) of the image made it: the coverage
 * `recordings show` reports. Containers still running keep the set of calls
 * counted for them until their end record.
 */
export interface RunCoverage {
  /** Containers that made workload calls. */
  count: number;
  /** Call label -> how many of those containers made it. */
  perCall: Map<string, number>;
  /** Containers not ended yet -> the labels counted for them. */
  open: Map<string, Set<string>>;
  /** False when loaded from a snapshot older than this field: earlier runs were not counted. */
  complete: boolean;
}

const newRuns = (): RunCoverage => ({ count: 0, perCall: new Map(), open: new Map(), complete: true });

export interface Gap {
  container: string;
  from?: string;
  to: string;
}

/** Gaps kept per image: enough to show that and when recording missed something. */
export const MAX_GAPS = 32;

export interface RuntimeAgg {
  runtime: string;
  containers: Set<string>;
  lastActivity: string;
  calls: CallTable;
}

const groupKey = (namespace?: string, name?: string) => `${namespace ?? ''}\u0000${name ?? ''}`;
const later = (a: string, b: string) => (b > a ? b : a);

export class AgentState {
  readonly images = new Map<string, ImageAgg>();
  readonly runtimes = new Map<string, RuntimeAgg>();

  private image(name: string, at: string): ImageAgg {
    let img = this.images.get(name);
    if (!img) {
      img = {
        image: name,
        firstSeen: at,
        lastActivity: at,
        sources: new Set(),
        runtimes: new Set(),
        uncovered: new Set(),
        containers: new Set(),
        notifications: 0,
        lost: 0,
        calls: new CallTable(),
        byNamespace: new Map(),
        groups: new Map(),
        privileged: new Set(),
        gaps: [],
        runs: newRuns(),
      };
      this.images.set(name, img);
    }
    img.lastActivity = later(img.lastActivity, at);
    return img;
  }

  private group(img: ImageAgg, at: string, namespace?: string, name?: string): GroupAgg {
    const key = groupKey(namespace, name);
    let g = img.groups.get(key);
    if (!g) {
      g = { containers: new Set(), lastActivity: at, calls: new Set(), pods: new Set() };
      if (namespace) g.namespace = namespace;
      if (name) g.name = name;
      img.groups.set(key, g);
    }
    g.lastActivity = later(g.lastActivity, at);
    return g;
  }

  private runtime(name: string, at: string): RuntimeAgg {
    let rt = this.runtimes.get(name);
    if (!rt) this.runtimes.set(name, (rt = { runtime: name, containers: new Set(), lastActivity: at, calls: new CallTable() }));
    rt.lastActivity = later(rt.lastActivity, at);
    return rt;
  }

  apply(r: JournalRecord): void {
    switch (r.k) {
      case 'container': {
        const img = this.image(r.image, r.at);
        img.sources.add(r.source);
        img.runtimes.add(r.runtime);
        img.containers.add(r.container);
        for (const n of r.uncovered) img.uncovered.add(n);
        if (r.privileged) img.privileged.add(r.container);
        const g = this.group(img, r.at, r.namespace, r.name);
        g.containers.add(r.container);
        if (r.pod) g.pods.add(r.pod);
        this.runtime(r.runtime, r.at).containers.add(r.container);
        return;
      }
      case 'calls': {
        if (r.phase === 'runtime') {
          this.runtime(r.runtime, r.at).calls.add(r.calls);
          // The image saw activity, and must know which runtime's start-up its profile needs.
          this.image(r.image, r.at).runtimes.add(r.runtime);
          return;
        }
        const img = this.image(r.image, r.at);
        img.calls.add(r.calls);
        namespaceTable(img, r.namespace ?? '').add(r.calls);
        img.containers.add(r.container); // still counted when its image was reset while it ran
        const g = this.group(img, r.at, r.namespace, r.name);
        g.containers.add(r.container);
        for (const o of r.calls) g.calls.add(`${o.arch}/${o.syscall ?? `#${o.nr}`}`);
        countRun(img.runs, r.container, r.calls);
        return;
      }
      case 'end': {
        const img = this.images.get(r.image);
        if (!img) return; // reset while the container ran: its end changes nothing
        img.runs.open.delete(r.container);
        img.lastActivity = later(img.lastActivity, r.at);
        img.notifications += r.notifications;
        img.lost += r.lost;
        return;
      }
      case 'gap': {
        const img = this.image(r.image, r.at);
        img.gaps.push({ container: r.container, ...(r.from ? { from: r.from } : {}), to: r.to });
        if (img.gaps.length > MAX_GAPS) img.gaps.splice(0, img.gaps.length - MAX_GAPS);
        return;
      }
      case 'reset':
        this.images.delete(r.image);
        return;
    }
  }

  toSnapshot(generation: number): Record<string, unknown> {
    return {
      ...snapshotHead(generation),
      images: snapshotOrder(this.images).map((name) => imageEntry(this.images.get(name)!)),
      runtimes: snapshotOrder(this.runtimes).map((name) => runtimeEntry(this.runtimes.get(name)!)),
    };
  }

  /** Rebuilds the state from a snapshot document; InputError names the first bad field. */
  static fromSnapshot(doc: unknown, file: string): { state: AgentState; generation: number } {
    const bad = (path: string, why: string): never => {
      throw new InputError(file, [`${path}: ${why}`]);
    };
    if (!isRecord(doc)) return bad('', 'expected an object');
    if (doc.kind !== SNAPSHOT_KIND) bad('kind', `expected "${SNAPSHOT_KIND}"`);
    if (doc.version !== SNAPSHOT_VERSION) bad('version', `this agent reads version ${SNAPSHOT_VERSION}, the file has ${JSON.stringify(doc.version)}`);
    if (typeof doc.generation !== 'number' || !Number.isInteger(doc.generation) || doc.generation < 0) bad('generation', 'expected a count');
    const s = new AgentState();
    const strings = (v: unknown, path: string): string[] =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : bad(path, 'expected a list of strings');
    const calls = (v: unknown, path: string): Observation[] =>
      Array.isArray(v) && v.every(isObservation) ? (v as Observation[]) : bad(path, 'expected a list of observations');
    const text = (v: unknown, path: string): string => (typeof v === 'string' ? v : bad(path, 'expected a string'));
    const num = (v: unknown, path: string): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : bad(path, 'expected a count'));
    const list = (v: unknown, path: string): unknown[] => (Array.isArray(v) ? v : bad(path, 'expected a list'));
    const gapOf = (v: unknown, path: string): Gap => {
      if (!isRecord(v)) return bad(path, 'expected an object');
      const g: Gap = { container: text(v.container, `${path}.container`), to: text(v.to, `${path}.to`) };
      if (v.from !== undefined) g.from = text(v.from, `${path}.from`);
      return g;
    };

    const runsOf = (v: unknown, path: string): RunCoverage => {
      if (!isRecord(v) || !isRecord(v.perCall)) return bad(path, 'expected {count, complete, perCall, open}');
      const runs: RunCoverage = { count: num(v.count, `${path}.count`), perCall: new Map(), open: new Map(), complete: v.complete !== false };
      for (const [label, n] of Object.entries(v.perCall)) runs.perCall.set(label, num(n, `${path}.perCall.${label}`));
      list(v.open, `${path}.open`).forEach((o, j) => {
        if (!isRecord(o)) bad(`${path}.open[${j}]`, 'expected an object');
        const e = o as Record<string, unknown>;
        runs.open.set(text(e.container, `${path}.open[${j}].container`), new Set(strings(e.calls, `${path}.open[${j}].calls`)));
      });
      return runs;
    };

    list(doc.images, 'images').forEach((raw, i) => {
      const p = `images[${i}]`;
      if (!isRecord(raw)) bad(p, 'expected an object');
      const r = raw as Record<string, unknown>;
      const img: ImageAgg = {
        image: text(r.image, `${p}.image`),
        firstSeen: text(r.firstSeen, `${p}.firstSeen`),
        lastActivity: text(r.lastActivity, `${p}.lastActivity`),
        sources: new Set(strings(r.sources, `${p}.sources`)),
        runtimes: new Set(strings(r.runtimes, `${p}.runtimes`)),
        uncovered: new Set(strings(r.uncovered, `${p}.uncovered`)),
        containers: new Set(strings(r.containers, `${p}.containers`)),
        notifications: num(r.notifications, `${p}.notifications`),
        lost: num(r.lost, `${p}.lost`),
        calls: new CallTable(),
        byNamespace: new Map(),
        groups: new Map(),
        privileged: new Set(r.privileged === undefined ? [] : strings(r.privileged, `${p}.privileged`)),
        gaps: r.gaps === undefined ? [] : list(r.gaps, `${p}.gaps`).map((g, j) => gapOf(g, `${p}.gaps[${j}]`)),
        runs: r.runs === undefined ? { ...newRuns(), complete: false } : runsOf(r.runs, `${p}.runs`),
      };
      img.calls.add(calls(r.calls, `${p}.calls`));
      if (r.namespaces === undefined) {
        // A snapshot from before namespaces were kept: its calls are of no known namespace.
        if (img.calls.size) namespaceTable(img, '').add(img.calls.observations());
      } else {
        list(r.namespaces, `${p}.namespaces`).forEach((rn, j) => {
          const np = `${p}.namespaces[${j}]`;
          if (!isRecord(rn)) bad(np, 'expected an object');
          const n = rn as Record<string, unknown>;
          namespaceTable(img, text(n.namespace, `${np}.namespace`)).add(calls(n.calls, `${np}.calls`));
        });
      }
      list(r.groups, `${p}.groups`).forEach((rg, j) => {
        const gp = `${p}.groups[${j}]`;
        if (!isRecord(rg)) bad(gp, 'expected an object');
        const g = rg as Record<string, unknown>;
        const namespace = g.namespace === undefined ? undefined : text(g.namespace, `${gp}.namespace`);
        const name = g.name === undefined ? undefined : text(g.name, `${gp}.name`);
        const agg: GroupAgg = {
          ...nameOf({ namespace, name }),
          containers: new Set(strings(g.containers, `${gp}.containers`)),
          lastActivity: text(g.lastActivity, `${gp}.lastActivity`),
          calls: new Set(strings(g.calls, `${gp}.calls`)),
          // Snapshots from before pods were kept have none.
          pods: new Set(g.pods === undefined ? [] : strings(g.pods, `${gp}.pods`)),
        };
        img.groups.set(groupKey(namespace, name), agg);
      });
      s.images.set(img.image, img);
    });
    list(doc.runtimes, 'runtimes').forEach((raw, i) => {
      const p = `runtimes[${i}]`;
      if (!isRecord(raw)) bad(p, 'expected an object');
      const r = raw as Record<string, unknown>;
      const rt: RuntimeAgg = {
        runtime: text(r.runtime, `${p}.runtime`),
        containers: new Set(strings(r.containers, `${p}.containers`)),
        lastActivity: text(r.lastActivity, `${p}.lastActivity`),
        calls: new CallTable(),
      };
      rt.calls.add(calls(r.calls, `${p}.calls`));
      s.runtimes.set(rt.runtime, rt);
    });
    return { state: s, generation: doc.generation as number };
  }
}

/** What apply(r) may change: the image it names and, for some kinds, the runtime. */
export function touchedBy(r: JournalRecord): { image: string; runtime?: string } {
  if (r.k === 'container' || (r.k === 'calls' && r.phase === 'runtime')) return { image: r.image, runtime: r.runtime };
  return { image: r.image };
}

/** A snapshot's fields before its images and runtimes, in the order they are written. */
export function snapshotHead(generation: number): { kind: string; version: number; generation: number } {
  return { kind: SNAPSHOT_KIND, version: SNAPSHOT_VERSION, generation };
}

/** The keys of a map of images or runtimes in the order a snapshot lists them. */
export function snapshotOrder(m: Map<string, unknown>): string[] {
  return [...m.keys()].sort((a, b) => a.localeCompare(b));
}

/** One image as a snapshot lists it. */
export function imageEntry(img: ImageAgg): Record<string, unknown> {
  return {
    image: img.image,
    firstSeen: img.firstSeen,
    lastActivity: img.lastActivity,
    sources: [...img.sources].sort(),
    runtimes: [...img.runtimes].sort(),
    uncovered: [...img.uncovered].sort(),
    containers: [...img.containers].sort(),
    notifications: img.notifications,
    lost: img.lost,
    calls: img.calls.observations(),
    namespaces: [...img.byNamespace.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, t]) => ({ namespace, calls: t.observations() })),
    ...(img.privileged.size ? { privileged: [...img.privileged].sort() } : {}),
    ...(img.gaps.length ? { gaps: img.gaps.map((g) => ({ ...g })) } : {}),
    runs: {
      count: img.runs.count,
      complete: img.runs.complete,
      perCall: Object.fromEntries([...img.runs.perCall].sort(([a], [b]) => a.localeCompare(b))),
      open: [...img.runs.open].sort(([a], [b]) => a.localeCompare(b)).map(([container, labels]) => ({ container, calls: [...labels].sort() })),
    },
    groups: [...img.groups.values()]
      .map((g) => ({ ...nameOf(g), containers: [...g.containers].sort(), lastActivity: g.lastActivity, calls: [...g.calls].sort(), ...(g.pods.size ? { pods: [...g.pods].sort() } : {}) }))
      .sort((a, b) => groupKey(a.namespace, a.name).localeCompare(groupKey(b.namespace, b.name))),
  };
}

/** One runtime as a snapshot lists it. */
export function runtimeEntry(rt: RuntimeAgg): Record<string, unknown> {
  return { runtime: rt.runtime, containers: [...rt.containers].sort(), lastActivity: rt.lastActivity, calls: rt.calls.observations() };
}

/** Counts, once per container, each call it made. */
function countRun(runs: RunCoverage, container: string, calls: Observation[]): void {
  let seen = runs.open.get(container);
  if (!seen) {
    runs.open.set(container, (seen = new Set()));
    runs.count += 1;
  }
  for (const o of calls) {
    const label = `${o.arch}/${o.syscall ?? `#${o.nr}`}`;
    if (seen.has(label)) continue;
    seen.add(label);
    runs.perCall.set(label, (runs.perCall.get(label) ?? 0) + 1);
  }
}

function namespaceTable(img: ImageAgg, namespace: string): CallTable {
  let t = img.byNamespace.get(namespace);
  if (!t) img.byNamespace.set(namespace, (t = new CallTable()));
  return t;
}

function nameOf(g: { namespace?: string; name?: string }): { namespace?: string; name?: string } {
  const out: { namespace?: string; name?: string } = {};
  if (g.namespace) out.namespace = g.namespace;
  if (g.name) out.name = g.name;
  return out;
}
