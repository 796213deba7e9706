// The node agent: opens the state, serves the API, then records containers
// through one container source (notify, audit or bpf: src/record/) into the
// journal, each batch interval; on shutdown the source stops taking new
// containers and ends its live ones (notify serves them until they exit or the
// drain timeout passes), everything is flushed and compacted. The lifecycle
// only: the API's answers are in api-handlers.ts, the metrics in
// metric-catalogue.ts.
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
import type { PodmanOptions } from './lookups.js';
import { nodeLookups } from './lookups.js';
import { apiHandlers } from './api-handlers.js';
import { agentMetricFamilies } from './metric-catalogue.js';
import { AgentCounters, renderMetrics } from './metrics.js';
import { ContainerLedger } from './ledger.js';
import { RecordingStore } from './store.js';

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
  /** Why the last journal flush failed (a full disk, say); undefined once one succeeds. */
  private journalFailing: string | undefined;

  private constructor(
    private readonly opts: AgentOptions,
    private readonly store: RecordingStore,
    private readonly source: ContainerSource,
    lookups: IdentityLookups,
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
    const agent = new Agent(opts, store, source, lookups);
    try {
      const handlers = apiHandlers({
        store,
        ledger: agent.ledger,
        baselines,
        log,
        draining: () => agent.draining !== undefined,
        journalFailing: () => agent.journalFailing,
        metrics: () =>
          renderMetrics(agentMetricFamilies({ counters: agent.counters, store, ledger: agent.ledger, apiRefused: agent.api?.refused, sourceMetrics: () => source.metrics() })),
      });
      agent.api = await startApiServer(opts.apiSocketPath, handlers, log, opts.apiAccess);
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
      if (this.journalFailing !== undefined) {
        this.opts.log.info({ failedWith: this.journalFailing }, 'journal writes resumed; the records kept meanwhile are durable');
        this.journalFailing = undefined;
      }
    } catch (err) {
      this.counters.journalWriteErrors++;
      this.journalFailing = (err as Error).message;
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
}
