// `agent --source audit`: feeds the audit source's observations (SCMP_ACT_LOG
// records attributed to containers through /proc/PID/cgroup) into the same
// journal records the notify path writes: a `container` record once its image
// is known, `calls` records each tick, an `end` record when the container is
// gone (its records counted as notifications; lost set when audit records went
// missing while it ran, since nobody can tell whose records those were).
import type { Logger } from 'pino';
import type { Observation } from '../profile/recording.js';
import { sortObservations } from '../profile/recording.js';
import type { AuditObservation, AuditSource } from '../record/audit/source.js';
import type { ContainerIdentity, IdentityLookups } from './identity.js';
import { identityFromAnnotations } from './identity.js';
import type { Phase } from './records.js';
import { callsRecord } from './records.js';
import type { RecordingStore } from './store.js';

/** A container with no record for this long, and unknown to its runtime, has ended. */
export const IDLE_END_MS = 10_000;

interface Tracked {
  containerId: string;
  runtime: string;
  cgroup: string;
  identity?: ContainerIdentity;
  /** Settles once the identity lookups are done. */
  ready: Promise<void>;
  /** (phase, arch, nr) -> pending count since the last tick. */
  pending: Map<string, Observation & { phase: Phase }>;
  records: number;
  lost: number;
  lastSeen: number;
}

export interface AuditFeedStats {
  /** Records of processes gone before their cgroup could be read. */
  unattributed: number;
  /** Records of host processes (no container in their cgroup path). */
  host: number;
  denials: number;
  lostAtLeast: number;
  incomplete: boolean;
}

export class AuditFeed {
  private readonly tracked = new Map<string, Tracked>();
  private readonly counts = { unattributed: 0, host: 0, denials: 0 };
  private lossSeen = { lost: 0, incomplete: false };

  constructor(
    readonly source: AuditSource,
    private readonly store: RecordingStore,
    private readonly lookups: IdentityLookups,
    private readonly log: Logger,
  ) {
    source.on('observation', (o) => this.onObservation(o));
    source.on('denial', (o) => {
      this.counts.denials++;
      this.log.warn({ pid: o.pid, exe: o.exe, syscall: o.syscall ?? o.nr, action: o.action, container: o.attribution.status === 'container' ? o.attribution.containerId : undefined }, 'seccomp denied a call (audit)');
    });
    source.on('loss', (l) => this.log.warn({ count: l.count }, `audit records lost: ${l.what}`));
    source.on('warning', (w) => this.log.warn({}, w));
  }

  start(): Promise<void> {
    return this.source.start();
  }

  stats(): AuditFeedStats {
    const loss = this.source.loss.summary();
    return { ...this.counts, lostAtLeast: loss.lostAtLeast, incomplete: loss.incomplete };
  }

  get size(): number {
    return this.tracked.size;
  }

  liveByImage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.tracked.values()) if (t.identity) out.set(t.identity.image, (out.get(t.identity.image) ?? 0) + 1);
    return out;
  }

  /** Records known lost while each image's live containers ran (not yet in their end records). */
  lostByImage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.tracked.values()) if (t.identity && t.lost) out.set(t.identity.image, (out.get(t.identity.image) ?? 0) + t.lost);
    return out;
  }

  private onObservation(o: AuditObservation): void {
    const a = o.attribution;
    if (a.status !== 'container') {
      if (a.status === 'gone') this.counts.unattributed++;
      else this.counts.host++;
      return;
    }
    let t = this.tracked.get(a.containerId);
    if (!t) {
      t = {
        containerId: a.containerId,
        runtime: this.source.containers.get(a.containerId)?.runtime ?? (a.cgroup.includes('libpod-') ? 'podman' : 'unknown'),
        cgroup: a.cgroup,
        pending: new Map(),
        records: 0,
        lost: 0,
        lastSeen: Date.now(),
        ready: Promise.resolve(),
      };
      this.tracked.set(a.containerId, t);
      const tracked = t;
      t.ready = this.resolve(tracked).catch((err: Error) => {
        this.log.warn({ container: tracked.containerId, reason: err.message }, 'identity lookup failed; using the container id');
        this.attribute(tracked, { containerId: tracked.containerId, image: tracked.containerId, source: 'container-id' });
      });
    }
    t.records++;
    t.lastSeen = Date.now();
    if (!o.arch) return; // an arch we cannot name: counted, not recorded
    const key = `${o.phase}/${o.arch}/${o.nr}`;
    const p = t.pending.get(key);
    if (p) p.count++;
    else {
      const obs: Observation & { phase: Phase } = { arch: o.arch, nr: o.nr, count: 1, phase: o.phase };
      if (o.syscall) obs.syscall = o.syscall;
      t.pending.set(key, obs);
    }
  }

  /** The image: the bundle's annotations (runc/crun state, containerd, CRI-O), podman, else the id. */
  private async resolve(t: Tracked): Promise<void> {
    const id = t.containerId;
    let identity: ContainerIdentity | undefined;
    for (const bundle of this.source.containers.bundleCandidates(id)) {
      const a = await this.lookups.bundleAnnotations(bundle);
      const found = a && identityFromAnnotations(a);
      if (found) {
        identity = { containerId: id, ...found, source: 'bundle-config' };
        break;
      }
    }
    // podman containers sit in libpod-<id> cgroups whichever OCI runtime runs them.
    if (!identity && t.cgroup.includes('libpod-')) {
      const bundle = this.source.containers.bundleOf(id);
      const p = (bundle ? await this.lookups.podmanStorage(bundle, id) : undefined) ?? (await this.lookups.podman(id));
      if (p?.image) identity = { containerId: id, image: p.image, source: 'podman', ...(p.name ? { name: p.name } : {}) };
    }
    this.attribute(t, identity ?? { containerId: id, image: id, source: 'container-id' });
  }

  private attribute(t: Tracked, identity: ContainerIdentity): void {
    const id = t.containerId;
    t.identity = identity;
    this.store.record({
      k: 'container',
      at: new Date().toISOString(),
      container: id,
      image: identity.image,
      source: identity.source,
      ...(identity.name ? { name: identity.name } : {}),
      ...(identity.namespace ? { namespace: identity.namespace } : {}),
      ...(identity.pod ? { pod: identity.pod } : {}),
      runtime: t.runtime,
      uncovered: [],
    });
    this.log.info({ container: id, image: identity.image, source: identity.source, runtime: t.runtime }, 'recording container (audit)');
  }

  /** Journals pending calls, marks loss on the containers it may have hit, ends idle ones. */
  tick(now = Date.now()): void {
    const loss = this.source.loss.summary();
    const newLoss = loss.lostAtLeast - this.lossSeen.lost;
    const newlyIncomplete = loss.incomplete && (newLoss > 0 || !this.lossSeen.incomplete);
    this.lossSeen = { lost: loss.lostAtLeast, incomplete: loss.incomplete };
    for (const t of this.tracked.values()) {
      if (newlyIncomplete) t.lost += Math.max(1, newLoss);
      this.flush(t);
      if (t.identity && now - t.lastSeen > IDLE_END_MS && !this.source.containers.has(t.containerId)) this.end(t);
    }
  }

  /** Stops the source; every tracked container gets its last calls and an end record. */
  async stop(): Promise<void> {
    await this.source.stop();
    await Promise.all([...this.tracked.values()].map((t) => t.ready));
    this.tick();
    for (const t of [...this.tracked.values()]) this.end(t);
  }

  private flush(t: Tracked): void {
    const identity = t.identity;
    if (!identity || !t.pending.size) return;
    const at = new Date().toISOString();
    for (const phase of ['runtime', 'workload'] as Phase[]) {
      const calls = [...t.pending.values()].filter((o) => o.phase === phase).map(({ phase: _phase, ...o }) => o as Observation);
      if (!calls.length) continue;
      this.store.record(callsRecord(identity, t.runtime, phase, sortObservations(calls), at));
    }
    t.pending.clear();
  }

  private end(t: Tracked): void {
    this.flush(t);
    if (t.identity) {
      this.store.record({ k: 'end', at: new Date().toISOString(), container: t.containerId, image: t.identity.image, notifications: t.records, lost: t.lost });
      this.log.info({ container: t.containerId, image: t.identity.image, records: t.records, lost: t.lost }, 'container finished (audit)');
    }
    this.tracked.delete(t.containerId);
  }
}
