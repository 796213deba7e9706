// The audit container source: SCMP_ACT_LOG audit records attributed to
// containers through /proc/PID/cgroup, batched per container and phase each
// tick; a container with no record for a while, and unknown to its runtime,
// has ended. Loss marks every container live while it happened, since nobody
// can tell whose records those were. Fail-open: stopping never waits.
import type { Logger } from 'pino';
import type { Observation } from '../../profile/recording.js';
import { sortObservations } from '../../profile/recording.js';
import type { ContainerSink, ContainerSource, MetricFamily, Phase } from '../container-source.js';
import type { AuditObservation, AuditSource, AuditSourceOptions } from './source.js';
import { AuditSource as AuditSourceClass } from './source.js';

/** A container with no record for this long, and unknown to its runtime, has ended. */
export const IDLE_END_MS = 10_000;

interface Tracked {
  containerId: string;
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

export class AuditContainerSource implements ContainerSource {
  readonly name = 'audit';
  readonly source: AuditSource;
  private readonly tracked = new Map<string, Tracked>();
  private readonly counts = { unattributed: 0, host: 0, denials: 0 };
  private lossSeen = { lost: 0, incomplete: false };
  private sink!: ContainerSink;

  constructor(source: AuditSource | AuditSourceOptions = {}) {
    this.source = source instanceof AuditSourceClass ? source : new AuditSourceClass(source as AuditSourceOptions);
  }

  async start(sink: ContainerSink, log: Logger): Promise<void> {
    this.attach(sink, log);
    await this.source.start();
  }

  /** Takes the audit source's events into `sink` without starting to read (start() does both). */
  attach(sink: ContainerSink, log: Logger): void {
    this.sink = sink;
    const source = this.source;
    source.on('observation', (o) => this.onObservation(o));
    source.on('denial', (o) => {
      this.counts.denials++;
      log.warn({ pid: o.pid, exe: o.exe, syscall: o.syscall ?? o.nr, action: o.action, container: o.attribution.status === 'container' ? o.attribution.containerId : undefined }, 'seccomp denied a call (audit)');
    });
    source.on('loss', (l) => log.warn({ count: l.count }, `audit records lost: ${l.what}`));
    source.on('warning', (w) => log.warn({}, w));
  }

  describe(): Record<string, unknown> {
    const s = this.source.stats();
    return { auditMode: s.mode, auditLog: s.file };
  }

  stats(): AuditFeedStats {
    const loss = this.source.loss.summary();
    return { ...this.counts, lostAtLeast: loss.lostAtLeast, incomplete: loss.incomplete };
  }

  get liveCount(): number {
    return this.tracked.size;
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
      const id = a.containerId;
      const podman = a.cgroup.includes('libpod-');
      t = { containerId: id, pending: new Map(), records: 0, lost: 0, lastSeen: Date.now() };
      this.tracked.set(id, t);
      // podman containers sit in libpod-<id> cgroups whichever OCI runtime runs them.
      this.sink.started(id, {
        containerId: id,
        runtime: this.source.containers.get(id)?.runtime ?? (podman ? 'podman' : 'unknown'),
        bundles: this.source.containers.bundleCandidates(id),
        podman,
        pid: o.pid,
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

  /** Hands pending calls over, marks loss on the containers it may have hit, ends idle ones. */
  tick(now = Date.now()): void {
    const loss = this.source.loss.summary();
    const newLoss = loss.lostAtLeast - this.lossSeen.lost;
    const newlyIncomplete = loss.incomplete && (newLoss > 0 || !this.lossSeen.incomplete);
    this.lossSeen = { lost: loss.lostAtLeast, incomplete: loss.incomplete };
    for (const t of this.tracked.values()) {
      if (newlyIncomplete) t.lost += Math.max(1, newLoss);
      this.flush(t);
      if (now - t.lastSeen > IDLE_END_MS && !this.source.containers.has(t.containerId)) this.end(t);
    }
  }

  /** Stops reading; every tracked container gets its last calls and ends. */
  async stop(): Promise<void> {
    await this.source.stop();
    this.tick();
    for (const t of [...this.tracked.values()]) this.end(t);
  }

  private flush(t: Tracked): void {
    if (t.pending.size) {
      for (const phase of ['runtime', 'workload'] as Phase[]) {
        const calls = [...t.pending.values()].filter((o) => o.phase === phase).map(({ phase: _phase, ...o }) => o as Observation);
        if (calls.length) this.sink.calls(t.containerId, phase, sortObservations(calls));
      }
      t.pending.clear();
    }
    this.sink.progress(t.containerId, { events: t.records, lost: t.lost });
  }

  private end(t: Tracked): void {
    this.flush(t);
    this.sink.ended(t.containerId, { msg: 'container finished (audit)', fields: { records: t.records, lost: t.lost } });
    this.tracked.delete(t.containerId);
  }

  metrics(): MetricFamily[] {
    const a = this.stats();
    return [
      { name: 'seccomp_recorder_audit_unattributed_records_total', help: 'Audit records of processes gone before their container could be known.', type: 'counter', samples: [{ value: a.unattributed }] },
      { name: 'seccomp_recorder_audit_host_records_total', help: 'Audit records of host processes (no container in their cgroup).', type: 'counter', samples: [{ value: a.host }] },
      { name: 'seccomp_recorder_audit_denials_total', help: 'Audit records of seccomp actions other than log (kill, errno, ...).', type: 'counter', samples: [{ value: a.denials }] },
      { name: 'seccomp_recorder_audit_lost_records', help: 'Audit records lost since the agent started (lower bound).', type: 'gauge', samples: [{ value: a.lostAtLeast }] },
      { name: 'seccomp_recorder_audit_incomplete', help: '1 when audit records went missing since the agent started.', type: 'gauge', samples: [{ value: a.incomplete ? 1 : 0 }] },
    ];
  }
}
