// The node agent: opens the state, serves the API, then takes runtime
// connections; drains every live container into the journal each batch
// interval; on shutdown stops accepting and keeps serving the live listeners
// until their containers exit or the drain timeout passes. With source
// 'audit' no runtime socket is opened: SCMP_ACT_LOG audit records are read
// instead (src/agent/audit-feed.ts) into the same journal.
import type { Logger } from 'pino';
import type { AuditSourceOptions } from '../record/audit/source.js';
import { AuditSource } from '../record/audit/source.js';
import { archesOfKernel } from '../seccomp/arch.js';
import type { ApiServer } from './api.js';
import { startApiServer } from './api.js';
import { AuditFeed } from './audit-feed.js';
import type { NotifyBackend } from './backend.js';
import { nativeBackend } from './backend.js';
import type { IdentityLookups } from './identity.js';
import { imageProfile, profileOptionsFromQuery } from './image-profile.js';
import type { PodmanOptions } from './lookups.js';
import { nodeLookups } from './lookups.js';
import type { MetricFamily } from './metrics.js';
import { AgentCounters, renderMetrics } from './metrics.js';
import { ContainerSessions } from './sessions.js';
import { RecordingStore } from './store.js';
import { imageRecording, listImages, showImage } from './views.js';

export interface AgentOptions {
  stateDir: string;
  /** The runtime socket recording profiles name as listenerPath. */
  socketPath: string;
  apiSocketPath: string;
  drainTimeoutMs: number;
  /** How often live calls are drained and fsync'd (at most 1000 ms). */
  batchIntervalMs: number;
  log: Logger;
  podman?: PodmanOptions;
  backend?: NotifyBackend;
  lookups?: IdentityLookups;
  compactBytes?: number;
  /** Where observations come from: runtime listeners (notify, the default) or SCMP_ACT_LOG audit records. */
  source?: 'notify' | 'audit';
  audit?: AuditSourceOptions;
}

/** Audit mode never serves a listener: a backend that says so if it is ever asked to. */
const notInAuditMode = (): never => {
  throw new Error('no runtime socket or listener in audit mode');
};
const noNotifyBackend: NotifyBackend = { listen: notInAuditMode, start: notInAuditMode, drain: notInAuditMode, stop: notInAuditMode, destroy: notInAuditMode };

/** Sums two per-image counts. */
function addCounts(a: Map<string, number>, b: Map<string, number> | undefined): Map<string, number> {
  const out = new Map(a);
  for (const [k, v] of b ?? []) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

export class Agent {
  private draining: Promise<void> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private runtimeSocket: { close(): void } | undefined;
  private resolveDone!: () => void;
  /** Resolves when the agent has stopped completely. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));
  readonly counters = new AgentCounters();
  private readonly sessions: ContainerSessions;
  private api: ApiServer | undefined;
  private audit: AuditFeed | undefined;

  private constructor(
    private readonly opts: AgentOptions,
    private readonly store: RecordingStore,
    backend: NotifyBackend,
    lookups: IdentityLookups,
  ) {
    this.sessions = new ContainerSessions(backend, store, lookups, this.counters, opts.log);
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const log = opts.log;
    const audit = opts.source === 'audit';
    const backend = opts.backend ?? (audit ? noNotifyBackend : nativeBackend(archesOfKernel()));
    const store = await RecordingStore.open(opts.stateDir, log, { compactBytes: opts.compactBytes });
    const lookups = opts.lookups ?? nodeLookups(log, opts.podman);
    const agent = new Agent(opts, store, backend, lookups);
    try {
      agent.api = await startApiServer(opts.apiSocketPath, agent.apiHandlers(), log);
      // Last: from here on containers are recorded.
      if (audit) {
        agent.audit = new AuditFeed(new AuditSource({ ...opts.audit, logger: log }), store, lookups, log);
        await agent.audit.start();
      } else
        agent.runtimeSocket = backend.listen(opts.socketPath, (c) => {
          try {
            agent.sessions.onConnection(c);
          } catch (err) {
            log.error({ peerPid: c.peerPid, reason: (err as Error).message }, 'internal error handling a runtime connection');
          }
        });
    } catch (err) {
      await agent.api?.close();
      await store.close();
      throw err;
    }
    agent.schedule();
    const auditStats = agent.audit?.source.stats();
    log.info(
      {
        source: audit ? 'audit' : 'notify',
        ...(audit ? { auditMode: auditStats?.mode, auditLog: auditStats?.file } : { socket: opts.socketPath }),
        api: opts.apiSocketPath,
        stateDir: opts.stateDir,
        images: store.state.images.size,
        batchIntervalMs: opts.batchIntervalMs,
      },
      'agent ready',
    );
    return agent;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        if (!this.draining || this.sessions.size) this.schedule();
      });
    }, this.opts.batchIntervalMs);
  }

  private async tick(): Promise<void> {
    try {
      this.sessions.tick();
      this.audit?.tick();
      await this.store.flush();
    } catch (err) {
      this.counters.journalWriteErrors++;
      this.opts.log.error({ reason: (err as Error).message, pending: this.store.lag().pending }, 'journal write failed; keeping the records for the next batch');
    }
  }

  /** Graceful stop; a second call returns the first one's promise. */
  shutdown(why: string): Promise<void> {
    if (this.draining) {
      this.opts.log.warn({ signal: why, liveContainers: this.sessions.size }, 'already draining; only SIGKILL stops the agent at once');
      return this.draining;
    }
    this.draining = this.drain(why);
    return this.draining;
  }

  private async drain(why: string): Promise<void> {
    const log = this.opts.log;
    this.runtimeSocket?.close();
    log.info({ signal: why, liveContainers: this.sessions.size, drainTimeoutMs: this.opts.drainTimeoutMs }, 'draining: no new containers; serving live ones until they exit');
    let timedOut = false;
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      this.sessions.whenIdle(),
      new Promise<void>((resolve) => {
        deadline = setTimeout(() => {
          timedOut = true;
          resolve();
        }, this.opts.drainTimeoutMs);
      }),
    ]);
    clearTimeout(deadline);
    if (timedOut && this.sessions.size) {
      log.warn({ containers: this.sessions.summaries() }, 'drain timeout: stopping the listeners of containers still running (their notified syscalls now fail with ENOSYS)');
      this.sessions.stopAll();
      await this.sessions.whenIdle();
    }
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.audit?.stop();
    await this.tick();
    await this.store.close();
    await this.api?.close();
    log.info({}, 'agent stopped');
    this.resolveDone();
  }

  private apiHandlers() {
    return {
      health: () => ({
        status: this.draining ? ('draining' as const) : ('ok' as const),
        liveContainers: this.sessions.size + (this.audit?.size ?? 0),
        images: this.store.state.images.size,
        journalLagSeconds: this.store.lag().seconds,
      }),
      metrics: () => renderMetrics(this.metricFamilies()),
      list: () => ({
        images: listImages(this.store.state, this.liveByImage()),
        runtimes: [...this.store.state.runtimes.values()]
          .sort((a, b) => a.runtime.localeCompare(b.runtime))
          .map((rt) => ({ runtime: rt.runtime, containers: rt.containers.size, syscalls: rt.calls.size, lastActivity: rt.lastActivity })),
        live: this.sessions.summaries(),
      }),
      show: (image: string) => {
        const d = showImage(this.store.state, image, this.liveByImage());
        const liveLost = this.audit?.lostByImage().get(image) ?? 0;
        return d && liveLost ? { ...d, lost: d.lost + liveLost, incomplete: true } : d;
      },
      recording: (image: string) => this.recording(image),
      profile: (image: string, query: URLSearchParams) => {
        const opts = profileOptionsFromQuery(query);
        const rec = this.recording(image);
        if (!rec) return undefined;
        const { text, report } = imageProfile(rec, opts);
        const left = report.deniedByBaseline.length - report.allowedBeyondDefault.length;
        return {
          text,
          contentType: opts.format === 'oci' ? 'application/json' : 'application/yaml',
          summary: `${report.allowed.length} syscalls allowed (${report.runtimeOnly.length} only for the runtime's start-up)` +
            `${left ? `; ${left} recorded but denied by the baseline, left out: ${report.deniedByBaseline.join(',')}` : ''}` +
            `${report.hasBaseline ? '' : '; no baseline'}` +
            `${rec.stats.lost ? `; INCOMPLETE: at least ${rec.stats.lost} records lost while recording, re-record to be sure` : ''}`,
        };
      },
      reset: async (image: string) => {
        if (!this.store.state.images.has(image)) return false;
        this.store.record({ k: 'reset', at: new Date().toISOString(), image });
        await this.store.flush();
        this.opts.log.info({ image }, 'recording reset');
        return true;
      },
      similar: (image: string) => {
        const needle = image.toLowerCase();
        return [...this.store.state.images.keys()].filter((k) => k.toLowerCase().includes(needle) || needle.includes(k.toLowerCase())).sort().slice(0, 10);
      },
    };
  }

  /** Live containers per image, from both sources. */
  private liveByImage(): Map<string, number> {
    return addCounts(this.sessions.liveByImage(), this.audit?.liveByImage());
  }

  /** The image's recording; losses that hit its live audit-recorded containers count already. */
  private recording(image: string) {
    const rec = imageRecording(this.store.state, image);
    const liveLost = this.audit?.lostByImage().get(image) ?? 0;
    if (rec && liveLost) rec.stats.lost += liveLost;
    return rec;
  }

  private auditFamilies(): MetricFamily[] {
    if (!this.audit) return [];
    const a = this.audit.stats();
    return [
      { name: 'seccomp_recorder_audit_unattributed_records_total', help: 'Audit records of processes gone before their container could be known.', type: 'counter', samples: [{ value: a.unattributed }] },
      { name: 'seccomp_recorder_audit_host_records_total', help: 'Audit records of host processes (no container in their cgroup).', type: 'counter', samples: [{ value: a.host }] },
      { name: 'seccomp_recorder_audit_denials_total', help: 'Audit records of seccomp actions other than log (kill, errno, ...).', type: 'counter', samples: [{ value: a.denials }] },
      { name: 'seccomp_recorder_audit_lost_records', help: 'Audit records lost since the agent started (lower bound).', type: 'gauge', samples: [{ value: a.lostAtLeast }] },
      { name: 'seccomp_recorder_audit_incomplete', help: '1 when audit records went missing since the agent started.', type: 'gauge', samples: [{ value: a.incomplete ? 1 : 0 }] },
    ];
  }

  private metricFamilies(): MetricFamily[] {
    const c = this.counters;
    const state = this.store.state;
    const lag = this.store.lag();
    const images = [...state.images.values()];
    return [
      { name: 'seccomp_recorder_containers_recorded_total', help: 'Containers attributed and recorded since the agent started.', type: 'counter', samples: [{ value: c.containersRecorded }] },
      { name: 'seccomp_recorder_image_containers', help: 'Distinct containers recorded per image (all time, from the state).', type: 'gauge', samples: images.map((i) => ({ labels: { image: i.image }, value: i.containers.size })) },
      { name: 'seccomp_recorder_live_listeners', help: 'Seccomp listeners being served now.', type: 'gauge', samples: [{ value: this.sessions.size }] },
      { name: 'seccomp_recorder_notifications_total', help: 'Notifications answered (CONTINUE) since the agent started.', type: 'counter', samples: [{ value: c.notifications }] },
      { name: 'seccomp_recorder_lost_notifications_total', help: 'Notifications answered but not counted (native table out of memory).', type: 'counter', samples: [{ value: c.lostNotifications }] },
      {
        name: 'seccomp_recorder_image_incomplete',
        help: '1 for an image whose recording missed calls (lost notifications or audit records).',
        type: 'gauge',
        samples: images.map((i) => ({ labels: { image: i.image }, value: i.lost + (this.audit?.lostByImage().get(i.image) ?? 0) > 0 ? 1 : 0 })),
      },
      { name: 'seccomp_recorder_image_unique_syscalls', help: 'Distinct (arch, syscall) pairs recorded per image.', type: 'gauge', samples: images.map((i) => ({ labels: { image: i.image }, value: i.calls.size })) },
      {
        name: 'seccomp_recorder_dropped_connections_total',
        help: 'Runtime connections refused or not recorded, by reason.',
        type: 'counter',
        samples: [...c.dropped].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      { name: 'seccomp_recorder_journal_lag_seconds', help: 'Age of the oldest record not yet fsynced to the journal.', type: 'gauge', samples: [{ value: lag.seconds }] },
      { name: 'seccomp_recorder_journal_pending_records', help: 'Records applied but not yet durable.', type: 'gauge', samples: [{ value: lag.pending }] },
      { name: 'seccomp_recorder_journal_bytes', help: 'Size of the journal since the last compaction.', type: 'gauge', samples: [{ value: this.store.journalBytes }] },
      { name: 'seccomp_recorder_journal_write_errors_total', help: 'Journal flushes that failed (records kept for the next one).', type: 'counter', samples: [{ value: c.journalWriteErrors }] },
      ...this.auditFamilies(),
    ];
  }
}
