// The bpf container source (`agent --source bpf`): the raw-tracepoint programs
// in agent mode record every cgroup v2 not ignored from its first call; each
// tick this maps new cgroups to containers (runtime state -> pid -> cgroup),
// hands each container's new calls (cumulative kernel counts minus what was
// handed before) to the sink, ignores and forgets cgroups that belong to no
// container after a grace period, and ends a container when its cgroups are
// empty (last read, then forget). Every cgroup is named as it is made (inotify
// on the v2 tree), so a container gone before any tick, its runtime state with
// it, is still attributed to the container its cgroup's path names. Nothing
// waits on the agent: stopping or killing it only detaches the programs.
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ContainerSink, ContainerSource, MetricFamily, Phase } from '../container-source.js';
import { containerIdOfPath } from '../audit/cgroup.js';
import { RuntimeContainers } from '../audit/runtime-state.js';
import type { RawEntry } from '../native.js';
import { nameEntries } from '../observations.js';
import { cgroup2Root, cgroupId, isPopulated } from './cgroup2.js';
import type { CgroupName, CgroupWatchThread } from './cgroup-watch.js';
import { startCgroupWatchThread } from './cgroup-watch.js';
import type { NodeContainer } from './containers.js';
import { bundleIsPrivileged, nodeContainers, readContainer, walkCgroups } from './containers.js';
import { StateWatcher } from './state-watch.js';
import { DEFAULT_STATE_ROOTS } from '../audit/runtime-state.js';
import { BpfPrograms } from './programs.js';

export interface BpfContainerSourceOptions {
  /** How long a recorded cgroup may stay unknown before it is ignored (its runtime may not have written its state yet). */
  graceMs?: number;
  maxCgroups?: number;
  /** Runtime state directories (tests); default runc, crun, containerd's runc. */
  stateRoots?: string[];
}

interface Last {
  count: number;
  tuples: Set<string>;
  overflowed: boolean;
}

interface Cgroup {
  dir: string;
  last: Map<string, Last>;
  outOfRange: number;
  argsDropped: number;
}

/** How many creation-time names are kept for cgroups not yet mapped. */
const MAX_NAMES = 4096;

interface Tracked {
  id: string;
  runtime: string;
  cgroups: Map<bigint, Cgroup>;
  /** Picked up already started: the kernel's runtime phase began at our start, so it is the workload's. */
  relabel: boolean;
  events: number;
  lost: number;
  log: Logger;
}

export class BpfContainerSource implements ContainerSource {
  readonly name = 'bpf';
  private programs: BpfPrograms | undefined;
  private root = '';
  private sink!: ContainerSink;
  private log!: Logger;
  private readonly tracked = new Map<string, Tracked>();
  private readonly byCgroup = new Map<bigint, Tracked>();
  private readonly ignored = new Set<bigint>();
  /** Recorded cgroups not yet known, with when they were first listed. */
  private readonly unknown = new Map<bigint, number>();
  private readonly runtimes: RuntimeContainers;
  private readonly graceMs: number;
  private readonly warnedArch = new Set<number>();
  private readonly stats = { recorded: 0, cgroupsFull: 0, argsDropped: 0, outOfRange: 0, calls: 0, foreign: 0, vanished: 0, ignoreFailed: 0, namedAfterExit: 0 };
  /** cgroupsFull grew: containers found in the next ticks may have lost their first calls. */
  private fullUntil = 0;
  private watcher: StateWatcher | undefined;
  private cgroupWatch: CgroupWatchThread | undefined;
  /** Cgroups made while the agent runs, by id, named when made (bounded: oldest first out). */
  private readonly names = new Map<bigint, CgroupName>();
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: BpfContainerSourceOptions = {}) {
    this.graceMs = opts.graceMs ?? 3000;
    this.runtimes = new RuntimeContainers(opts.stateRoots);
  }

  get liveCount(): number {
    return this.tracked.size;
  }

  describe(): Record<string, unknown> {
    return { cgroupRoot: this.root, containers: this.tracked.size, ignoredCgroups: this.ignored.size };
  }

  async start(sink: ContainerSink, log: Logger): Promise<void> {
    this.sink = sink;
    this.log = log;
    this.root = cgroup2Root();
    this.programs = BpfPrograms.open({ auto: true, ...(this.opts.maxCgroups ? { maxCgroups: this.opts.maxCgroups } : {}) });
    // Containers running now are picked up; every other cgroup that exists now is the node's own.
    for (const c of nodeContainers(this.root, this.opts.stateRoots)) this.track(c, true);
    for (const [id, dir] of walkCgroups(this.root)) {
      if (this.byCgroup.has(id)) continue;
      const owner = this.ownerByPath(dir);
      if (owner) this.mapCgroup(owner, id, dir);
      else this.ignore(id);
    }
    // Entries the programs made before the walk ignored their cgroups.
    for (const id of this.programs.list().cgroups) if (this.ignored.has(id)) this.programs.forget(id);
    this.watcher = new StateWatcher(this.opts.stateRoots ?? DEFAULT_STATE_ROOTS, (dir, runtime) => this.onNewState(dir, runtime, Date.now()));
    this.watcher.refresh();
    this.cgroupWatch = await startCgroupWatchThread(this.root, this.opts.stateRoots, (n) => this.onNewCgroup(n), (watched) =>
      this.log.warn({ watched }, 'too many cgroups to watch them all: a container under the others that ends within a tick, its runtime state with it, may go unrecorded'),
    );
  }

  /**
   * A cgroup was made: note its path and the container it names while the
   * runtime's state still exists. It is mapped later (tick, state watcher),
   * with the container's bundle when its state can be read; the name only
   * decides when the cgroup is gone before that.
   */
  private onNewCgroup(name: CgroupName): void {
    const { id, dir } = name;
    if (!this.programs || this.byCgroup.has(id) || this.ignored.has(id)) return;
    const owner = this.ownerByPath(dir);
    if (owner) return this.mapCgroup(owner, id, dir);
    this.names.delete(id);
    this.names.set(id, name);
    while (this.names.size > MAX_NAMES) this.names.delete(this.names.keys().next().value as bigint);
  }

  /** The id a cgroup directory had when made, once it is gone. */
  private idOfGoneDir(dir: string): bigint | undefined {
    for (const [id, n] of this.names) if (n.dir === dir) return id;
    return undefined;
  }

  /**
   * A runtime made a state directory: name the container as soon as its state
   * says where it runs (retrying briefly while the runtime writes it), so even
   * a container gone before the next tick is attributed.
   */
  private onNewState(dir: string, runtime: 'runc' | 'crun', since: number): void {
    if (!this.programs) return;
    const c = readContainer(dir, runtime, this.root);
    if (c && (c.cgroupDirs.length || c.pid)) {
      if (!this.tracked.has(c.id)) this.track(c, false);
      return;
    }
    if (Date.now() - since > 3000 || !existsSync(dir)) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.onNewState(dir, runtime, since);
    }, 5);
    this.pending.add(timer);
  }

  private ignore(id: bigint): void {
    try {
      this.programs!.ignore(id);
      this.ignored.add(id);
    } catch (err) {
      // The ignore set is bounded: such a cgroup is recorded and forgotten again each grace period.
      if (!this.stats.ignoreFailed++) this.log.warn({ reason: (err as Error).message, ignored: this.ignored.size }, 'cannot ignore more cgroups; host cgroups past the limit are recorded and dropped each grace period');
    }
  }

  private ownerByPath(dir: string): Tracked | undefined {
    for (const t of this.tracked.values()) for (const c of t.cgroups.values()) if (dir.startsWith(`${c.dir}/`)) return t;
    return undefined;
  }

  private mapCgroup(t: Tracked, id: bigint, dir: string): void {
    if (t.cgroups.has(id)) return;
    t.cgroups.set(id, { dir, last: new Map(), outOfRange: 0, argsDropped: 0 });
    this.byCgroup.set(id, t);
    this.unknown.delete(id);
    this.names.delete(id);
    if (this.ignored.delete(id)) this.programs!.ignore(id, false);
  }

  /** The recorded cgroup, not yet mapped, whose workload was started by this pid. */
  private entryStartedBy(pid: number): bigint | undefined {
    for (const id of this.programs!.list().cgroups) {
      if (this.byCgroup.has(id) || this.ignored.has(id)) continue;
      if (this.programs!.read(id)?.workloadTgid === pid) return id;
    }
    return undefined;
  }

  private track(c: NodeContainer, atStart: boolean): Tracked | undefined {
    const dirs: [bigint, string][] = [];
    for (const dir of c.cgroupDirs) {
      try {
        dirs.push([cgroupId(dir), dir]);
      } catch {
        // Gone already: the id it had when it was made, if the cgroup watcher saw that.
        const id = this.idOfGoneDir(dir);
        if (id !== undefined) dirs.push([id, dir]);
      }
    }
    if (!dirs.length && c.pid) {
      // The container ended (and its runtime removed its cgroup) before we could stat it: the kernel
      // entry outlives the directory, and the task that started its workload is the container's pid.
      const id = this.entryStartedBy(c.pid);
      if (id !== undefined) dirs.push([id, c.cgroupDirs[0] ?? '']);
    }
    if (!dirs.length) return undefined;
    const t: Tracked = { id: c.id, runtime: c.runtime, cgroups: new Map(), relabel: atStart && c.running, events: 0, lost: Date.now() < this.fullUntil ? 1 : 0, log: this.log.child({ container: c.id }) };
    this.tracked.set(c.id, t);
    for (const [id, dir] of dirs) this.mapCgroup(t, id, dir);
    const bundles = [...new Set([...(c.bundle ? [c.bundle] : []), ...this.runtimes.bundleCandidates(c.id)])];
    this.sink.started(c.id, {
      containerId: c.id,
      runtime: c.runtime,
      bundles,
      podman: c.cgroupDirs.some((d) => d.includes('libpod-')),
      ...(c.pid ? { pid: c.pid } : {}),
      uncovered: [],
      privileged: bundleIsPrivileged(c.bundle),
      ...(atStart ? { resumed: c.createdAt ? { startedAt: c.createdAt } : {} } : {}),
    });
    if (t.lost) t.log.warn({}, 'the kernel map of recorded cgroups was full when this container started: its first calls may be missing');
    return t;
  }

  tick(): void {
    const programs = this.programs;
    if (!programs) return;
    this.watcher?.refresh();
    const now = Date.now();
    const { cgroups, cgroupsFull } = programs.list();
    this.stats.recorded = cgroups.length;
    if (cgroupsFull > this.stats.cgroupsFull) {
      this.log.warn({ cgroupsFull, recorded: cgroups.length }, 'the kernel map of recorded cgroups is full: new containers are not recorded until entries are freed');
      this.fullUntil = now + 2 * this.graceMs;
    }
    this.stats.cgroupsFull = cgroupsFull;
    for (const id of cgroups) {
      if (this.byCgroup.has(id)) continue;
      if (this.ignored.has(id)) programs.forget(id);
      else if (!this.unknown.has(id)) this.unknown.set(id, now);
    }
    if (this.unknown.size) this.resolveUnknown(now);
    for (const t of [...this.tracked.values()]) this.collect(t, false);
  }

  /** Names recorded cgroups: new containers in the runtimes' state, else by path; past the grace period, ignores them. */
  private resolveUnknown(now: number): void {
    for (const c of nodeContainers(this.root, this.opts.stateRoots)) {
      const t = this.tracked.get(c.id);
      if (!t) {
        if (c.cgroupDirs.some((d) => this.isUnknownDir(d))) this.track(c, false);
      } else for (const d of c.cgroupDirs) if (this.isUnknownDir(d)) this.mapCgroup(t, cgroupId(d), d);
    }
    // Gone, its runtime's state with it, before the container could be found: named by the path it was made with.
    for (const id of [...this.unknown.keys()]) {
      const name = this.names.get(id);
      if (!name?.containerId || existsSync(name.dir)) continue;
      const t = this.tracked.get(name.containerId);
      if (t) this.mapCgroup(t, id, name.dir);
      else if (this.track({ id: name.containerId, runtime: name.runtime ?? 'unknown', stateDir: '', running: false, cgroupDirs: [name.dir] }, false)) this.stats.namedAfterExit++;
    }
    const overdue = [...this.unknown].filter(([, since]) => now - since >= this.graceMs).map(([id]) => id);
    if (!overdue.length) return;
    const paths = walkCgroups(this.root);
    for (const id of overdue) {
      const dir = paths.get(id);
      if (dir === undefined) {
        // Gone before it could be named: whatever ran there is lost to the recording.
        this.stats.vanished++;
        this.log.debug({ cgroup: String(id) }, 'a recorded cgroup went away before any container could be found for it');
        this.programs!.forget(id);
        this.unknown.delete(id);
        this.names.delete(id);
        continue;
      }
      const owner = this.ownerByPath(dir);
      const named = owner ? undefined : containerIdOfPath(dir.slice(this.root.length), (x) => this.runtimes.has(x));
      if (owner) this.mapCgroup(owner, id, dir);
      else if (named && !this.tracked.has(named)) {
        this.track({ id: named, runtime: dir.includes('libpod-') ? 'podman' : 'unknown', stateDir: '', running: false, cgroupDirs: [dir] }, false);
      } else {
        this.stats.foreign++;
        this.log.debug({ cgroup: dir }, 'not a container: ignored');
        this.unknown.delete(id);
        this.names.delete(id);
        this.ignore(id);
        this.programs!.forget(id);
      }
    }
  }

  private isUnknownDir(dir: string): boolean {
    try {
      return this.unknown.has(cgroupId(dir));
    } catch {
      return false;
    }
  }

  /** Hands over a container's new calls; ends it when its cgroups are empty (or `final`). */
  private collect(t: Tracked, final: boolean): void {
    const empty = [...t.cgroups.values()].every((c) => !isPopulated(c.dir));
    const delta: RawEntry[] = [];
    for (const [id, c] of t.cgroups) {
      const read = this.programs!.read(id);
      if (!read) continue;
      t.lost += read.outOfRange - c.outOfRange + read.argsDropped - c.argsDropped;
      this.stats.outOfRange += read.outOfRange - c.outOfRange;
      this.stats.argsDropped += read.argsDropped - c.argsDropped;
      c.outOfRange = read.outOfRange;
      c.argsDropped = read.argsDropped;
      for (const e of read.entries) {
        const phase: Phase = t.relabel ? 'workload' : e.phase;
        const key = `${e.phase}/${e.arch}/${e.nr}`;
        let last = c.last.get(key);
        if (!last) c.last.set(key, (last = { count: 0, tuples: new Set(), overflowed: false }));
        const count = e.count - last.count;
        const fresh = (e.args ?? []).filter((a) => !last.tuples.has(`${a[0]},${a[1]}`));
        const overflowed = e.overflowed === true && !last.overflowed;
        if (count <= 0 && !fresh.length && !overflowed) continue;
        last.count = e.count;
        for (const a of fresh) last.tuples.add(`${a[0]},${a[1]}`);
        last.overflowed ||= overflowed;
        const d: RawEntry = { ...e, phase, count: Math.max(0, count) };
        if (e.args) d.args = fresh;
        delta.push(d);
        t.events += Math.max(0, count);
        this.stats.calls += Math.max(0, count);
      }
    }
    for (const phase of ['runtime', 'workload'] as Phase[]) {
      const { observations, unknownArch } = nameEntries(delta.filter((e) => e.phase === phase));
      for (const e of unknownArch) if (!this.warnedArch.has(e.arch)) {
        this.warnedArch.add(e.arch);
        t.log.warn({ auditArch: `0x${(e.arch >>> 0).toString(16)}`, nr: e.nr }, 'calls on an architecture this tool cannot name were not recorded');
      }
      if (observations.length) this.sink.calls(t.id, phase, observations);
    }
    this.sink.progress(t.id, { events: t.events, lost: t.lost });
    if (!empty && !final) return;
    for (const id of t.cgroups.keys()) {
      this.byCgroup.delete(id);
      if (empty) this.programs!.forget(id);
    }
    this.tracked.delete(t.id);
    this.sink.ended(t.id, { msg: final && !empty ? 'stopped recording container (it keeps running)' : 'container finished', fields: { syscalls: t.events, lost: t.lost } });
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    await this.cgroupWatch?.close();
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    if (!this.programs) return;
    for (const t of [...this.tracked.values()]) this.collect(t, true);
    this.programs.close();
    this.programs = undefined;
  }

  metrics(): MetricFamily[] {
    const s = this.stats;
    const m = (name: string, help: string, type: 'counter' | 'gauge', value: number): MetricFamily => ({ name: `seccomp_recorder_bpf_${name}`, help, type, samples: [{ value }] });
    return [
      m('recorded_cgroups', 'Cgroups with an entry in the kernel map now (bound: 512 by default).', 'gauge', s.recorded),
      m('cgroups_full_total', 'Cgroups the kernel could not give an entry (map full): their calls were not recorded.', 'counter', s.cgroupsFull),
      m('args_dropped_total', 'Argument tuples dropped because the shared argument map was full.', 'counter', s.argsDropped),
      m('out_of_range_total', 'Calls whose number was past the kernel table (counted, not named).', 'counter', s.outOfRange),
      m('syscalls_total', 'Calls of containers counted since the agent started.', 'counter', s.calls),
      m('ignored_cgroups', 'Cgroups of the node itself the programs skip.', 'gauge', this.ignored.size),
      m('foreign_cgroups_total', 'Cgroups recorded, found to be no container after the grace period, then ignored.', 'counter', s.foreign),
      m('vanished_cgroups_total', 'Recorded cgroups gone before any container could be found for them.', 'counter', s.vanished),
      m('named_after_exit_total', 'Containers gone, runtime state and all, before a tick, attributed by the cgroup path seen when it was made.', 'counter', s.namedAfterExit),
    ];
  }
}
