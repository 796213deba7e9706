// The node agent: opens the state, serves the API, then records containers
// through one container source (notify, audit or bpf: src/record/) into the
// journal, each batch interval; on shutdown the source stops taking new
// containers and ends its live ones (notify serves them until they exit or the
// drain timeout passes), everything is flushed and compacted.
import type { Logger } from 'pino';
import type { AuditSourceOptions } from '../record/audit/source.js';
import type { BpfContainerSourceOptions } from '../record/bpf/container-source.js';
import type { ContainerSource } from '../record/container-source.js';
import { containerSource } from '../record/container-sources.js';
import type { ApiServer } from './api.js';
import { startApiServer } from './api.js';
import type { ApiAccessOptions } from './api-access.js';
import { BaselineCatalog } from './baselines.js';
import type { IdentityLookups } from './identity.js';
import { imageProfile, namespacesFromQuery, profileOptionsFromQuery } from './image-profile.js';
import type { PodmanOptions } from './lookups.js';
import { nodeLookups } from './lookups.js';
import type { MetricFamily } from './metrics.js';
import { AgentCounters, renderMetrics } from './metrics.js';
import { ContainerLedger } from './ledger.js';
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
  lookups?: IdentityLookups;
  compactBytes?: number;
  /** Where observations come from: a source name (src/record/container-sources.ts) or a source itself. */
  source?: string | ContainerSource;
  audit?: AuditSourceOptions;
  bpf?: BpfContainerSourceOptions;
  /** API clients allowed read-only requests besides root (api-access.ts). */
  apiAccess?: ApiAccessOptions;
  /** The directory whose files `recordings profile --baseline NAME` may name. */
  baselineDir?: string;
}

/** The newest record time in the state: no agent saw anything after it. */
function newestActivity(store: RecordingStore): string | undefined {
  let newest: string | undefined;
  for (const x of [...store.state.images.values(), ...store.state.runtimes.values()]) if (!newest || x.lastActivity > newest) newest = x.lastActivity;
  return newest;
}

export class Agent {
  private draining: Promise<void> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private resolveDone!: () => void;
  /** Resolves when the agent has stopped completely. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));
  readonly counters = new AgentCounters();
  private readonly ledger: ContainerLedger;
  private api: ApiServer | undefined;

  private constructor(
    private readonly opts: AgentOptions,
    private readonly store: RecordingStore,
    private readonly source: ContainerSource,
    lookups: IdentityLookups,
    private readonly baselines: BaselineCatalog,
  ) {
    this.ledger = new ContainerLedger(store, lookups, opts.log, this.counters, newestActivity(store));
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const log = opts.log;
    // Before anything listens: a bad --baseline-dir is a start-up error.
    const baselines = BaselineCatalog.open(opts.baselineDir, log);
    const source = typeof opts.source === 'object' ? opts.source : containerSource(opts.source ?? 'notify', { socketPath: opts.socketPath, audit: opts.audit, bpf: opts.bpf, logger: log });
    const store = await RecordingStore.open(opts.stateDir, log, { compactBytes: opts.compactBytes });
    const lookups = opts.lookups ?? nodeLookups(log, opts.podman);
    const agent = new Agent(opts, store, source, lookups, baselines);
    try {
      agent.api = await startApiServer(opts.apiSocketPath, agent.apiHandlers(), log, opts.apiAccess);
      // Last: from here on containers are recorded.
      await source.start(agent.ledger, log);
    } catch (err) {
      await agent.api?.close();
      await store.close();
      throw err;
    }
    agent.schedule();
    log.info(
      { source: source.name, ...source.describe(), api: opts.apiSocketPath, stateDir: opts.stateDir, images: store.state.images.size, batchIntervalMs: opts.batchIntervalMs },
      'agent ready',
    );
    return agent;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.opts.batchIntervalMs);
  }

  private async tick(): Promise<void> {
    try {
      if (!this.stopped) this.source.tick();
      await this.store.flush();
    } catch (err) {
      this.counters.journalWriteErrors++;
      this.opts.log.error({ reason: (err as Error).message, pending: this.store.lag().pending }, 'journal write failed; keeping the records for the next batch');
    }
  }

  /** Graceful stop; a second call returns the first one's promise. */
  shutdown(why: string): Promise<void> {
    if (this.draining) {
      this.opts.log.warn({ signal: why, liveContainers: this.source.liveCount }, 'already draining; only SIGKILL stops the agent at once');
      return this.draining;
    }
    this.draining = this.drain(why);
    return this.draining;
  }

  private async drain(why: string): Promise<void> {
    const log = this.opts.log;
    log.info({ signal: why, liveContainers: this.source.liveCount, drainTimeoutMs: this.opts.drainTimeoutMs }, 'draining: no new containers; serving live ones until they exit');
    try {
      await this.source.stop(this.opts.drainTimeoutMs);
    } catch (err) {
      log.error({ reason: (err as Error).message }, 'error while stopping the source');
    }
    await this.ledger.whenIdle();
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
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
        liveContainers: this.ledger.size,
        images: this.store.state.images.size,
        journalLagSeconds: this.store.lag().seconds,
      }),
      metrics: () => renderMetrics(this.metricFamilies()),
      list: () => ({
        images: listImages(this.store.state, this.liveByImage()),
        runtimes: [...this.store.state.runtimes.values()]
          .sort((a, b) => a.runtime.localeCompare(b.runtime))
          .map((rt) => ({ runtime: rt.runtime, containers: rt.containers.size, syscalls: rt.calls.size, lastActivity: rt.lastActivity })),
        live: this.ledger.summaries(),
      }),
      show: (image: string) => {
        const d = showImage(this.store.state, image, this.liveByImage());
        const liveLost = this.ledger.lostByImage().get(image) ?? 0;
        return d && liveLost ? { ...d, lost: d.lost + liveLost, incomplete: true } : d;
      },
      recording: (image: string, query: URLSearchParams) => this.recording(image, namespacesFromQuery(query)),
      profile: (image: string, query: URLSearchParams) => {
        const opts = profileOptionsFromQuery(query);
        const baseline = this.baselines.resolve(opts.baseline);
        const rec = this.recording(image, opts.fromNamespaces);
        if (!rec) return undefined;
        const { text, report } = imageProfile(rec, opts, baseline);
        const left = report.deniedByBaseline.length - report.allowedBeyondDefault.length;
        return {
          text,
          contentType: opts.format === 'oci' ? 'application/json' : 'application/yaml',
          summary: `${report.allowed.length} syscalls allowed (${report.runtimeOnly.length} only for the runtime's start-up)` +
            `${opts.fromNamespaces ? `; from namespace${opts.fromNamespaces.length > 1 ? 's' : ''} ${opts.fromNamespaces.join(', ')} only` : ''}` +
            `${left ? `; ${left} recorded but denied by the baseline, left out: ${report.deniedByBaseline.join(',')}` : ''}` +
            `${report.hasBaseline ? '' : '; no baseline'}` +
            `${this.store.state.images.get(image)?.privileged.size ? '; ran PRIVILEGED (no seccomp): this profile applies only once the container runs unprivileged' : ''}` +
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

  private liveByImage(): Map<string, number> {
    return this.ledger.liveByImage();
  }

  /** The image's recording; losses that hit its live containers count already. */
  private recording(image: string, namespaces?: readonly string[]) {
    const rec = imageRecording(this.store.state, image, namespaces);
    const liveLost = this.ledger.lostByImage().get(image) ?? 0;
    if (rec && liveLost) rec.stats.lost += liveLost;
    return rec;
  }

  private metricFamilies(): MetricFamily[] {
    const c = this.counters;
    const state = this.store.state;
    const lag = this.store.lag();
    const images = [...state.images.values()];
    return [
      { name: 'seccomp_recorder_containers_recorded_total', help: 'Containers attributed and recorded since the agent started.', type: 'counter', samples: [{ value: c.containersRecorded }] },
      // No per-image (or per-namespace) labels: their number grows with what tenants run. Per-image figures are in the API.
      { name: 'seccomp_recorder_images', help: 'Images in the recorded state.', type: 'gauge', samples: [{ value: images.length }] },
      { name: 'seccomp_recorder_live_containers', help: 'Containers being recorded now.', type: 'gauge', samples: [{ value: this.ledger.size }] },
      {
        name: 'seccomp_recorder_images_incomplete',
        help: 'Images whose recording missed calls (lost notifications or audit records); `recordings list`/`show` name them.',
        type: 'gauge',
        samples: [{ value: images.filter((i) => i.lost + (this.ledger.lostByImage().get(i.image) ?? 0) > 0).length }],
      },
      { name: 'seccomp_recorder_journal_lag_seconds', help: 'Age of the oldest record not yet fsynced to the journal.', type: 'gauge', samples: [{ value: lag.seconds }] },
      { name: 'seccomp_recorder_journal_pending_records', help: 'Records applied but not yet durable.', type: 'gauge', samples: [{ value: lag.pending }] },
      { name: 'seccomp_recorder_journal_bytes', help: 'Size of the journal since the last compaction.', type: 'gauge', samples: [{ value: this.store.journalBytes }] },
      {
        name: 'seccomp_recorder_api_refused_total',
        help: 'API clients refused: peer-not-allowed (per connection: neither root nor the configured reader), read-only (per request the reader may not make).',
        type: 'counter',
        samples: Object.entries(this.api?.refused ?? {}).map(([reason, value]) => ({ labels: { reason }, value })),
      },
      { name: 'seccomp_recorder_journal_write_errors_total', help: 'Journal flushes that failed (records kept for the next one).', type: 'counter', samples: [{ value: c.journalWriteErrors }] },
      ...this.source.metrics(),
    ];
  }
}
