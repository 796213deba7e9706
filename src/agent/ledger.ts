// The agent's side of a container source (the sink): names each container
// (identity lookups on the source's hints), journals its calls per image and
// phase, the interval it was not seen when it was picked up already running,
// and its end with what it lost. Calls that arrive before the identity is
// known wait here. Whatever the source, the journal records are the same.
import type { Logger } from 'pino';
import type { Observation } from '../profile/recording.js';
import type { ContainerHints, ContainerProgress, ContainerSink, EndNote, Phase } from '../record/container-source.js';
import type { ContainerIdentity, IdentityLookups } from './identity.js';
import { resolveHints } from './identity.js';
import type { AgentCounters } from './metrics.js';
import { callsRecord } from './records.js';
import type { RecordingStore } from './store.js';

interface Entry {
  key: string;
  hints: ContainerHints;
  startedAt: number;
  identity?: ContainerIdentity;
  ready: Promise<void>;
  waiting: { phase: Phase; calls: Observation[] }[];
  progress: ContainerProgress;
  ended: boolean;
  log: Logger;
}

export interface LiveSummary {
  container?: string;
  image?: string;
  runtime: string;
  since: string;
}

export class ContainerLedger implements ContainerSink {
  private readonly entries = new Map<string, Entry>();
  /** Ended containers whose end record waits for their identity. */
  private ending = 0;
  private idleWaiters: (() => void)[] = [];

  /**
   * `lastSeenAt`: the newest record time of the state as it was opened: the
   * previous agent saw nothing after it, so a container picked up already
   * running was unseen from then (or from its start, when later) until now.
   */
  constructor(
    private readonly store: RecordingStore,
    private readonly lookups: IdentityLookups,
    private readonly log: Logger,
    private readonly counters?: AgentCounters,
    private readonly lastSeenAt?: string,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  started(key: string, hints: ContainerHints): void {
    if (this.entries.has(key)) return;
    const e: Entry = {
      key,
      hints,
      startedAt: Date.now(),
      ready: Promise.resolve(),
      waiting: [],
      progress: { events: 0, lost: 0 },
      ended: false,
      log: this.log.child({ container: hints.containerId }),
    };
    this.entries.set(key, e);
    e.ready = resolveHints(hints, this.lookups).then(
      (identity) => this.attribute(e, identity),
      (err: Error) => this.attribute(e, { containerId: hints.containerId, image: hints.containerId, source: 'container-id' }, err),
    );
  }

  private attribute(e: Entry, identity: ContainerIdentity, err?: Error): void {
    e.identity = identity;
    e.log = this.log.child({ container: identity.containerId, image: identity.image });
    if (err) e.log.warn({ reason: err.message }, 'identity lookup failed; using the container id');
    if (this.counters) this.counters.containersRecorded++;
    const h = e.hints;
    const at = new Date().toISOString();
    this.store.record({
      k: 'container',
      at,
      container: identity.containerId,
      image: identity.image,
      source: identity.source,
      ...(identity.name ? { name: identity.name } : {}),
      ...(identity.namespace ? { namespace: identity.namespace } : {}),
      ...(identity.pod ? { pod: identity.pod } : {}),
      runtime: h.runtime,
      uncovered: h.uncovered ?? [],
      ...(h.privileged ? { privileged: true } : {}),
    });
    if (h.resumed) {
      const started = h.resumed.startedAt?.toISOString();
      const from = started && (!this.lastSeenAt || started > this.lastSeenAt) ? started : this.lastSeenAt;
      this.store.record({ k: 'gap', at, container: identity.containerId, image: identity.image, ...(from ? { from } : {}), to: new Date(e.startedAt).toISOString() });
      e.log.warn({ from: from ?? 'unknown', to: new Date(e.startedAt).toISOString() }, 'container was already running: its calls before now were not seen');
    }
    e.log.info(
      { runtime: h.runtime, source: identity.source, name: identity.name, namespace: identity.namespace, pod: identity.pod, privileged: h.privileged || undefined },
      'recording container',
    );
    for (const w of e.waiting.splice(0)) this.journal(e, w.phase, w.calls);
  }

  calls(key: string, phase: Phase, calls: Observation[]): void {
    const e = this.entries.get(key);
    if (!e || !calls.length) return;
    if (e.identity) this.journal(e, phase, calls);
    else e.waiting.push({ phase, calls });
  }

  private journal(e: Entry, phase: Phase, calls: Observation[]): void {
    this.store.record(callsRecord(e.identity!, e.hints.runtime, phase, calls, new Date().toISOString()));
  }

  progress(key: string, p: ContainerProgress): void {
    const e = this.entries.get(key);
    if (e) e.progress = { ...p };
  }

  ended(key: string, note?: EndNote): void {
    const e = this.entries.get(key);
    if (!e || e.ended) return;
    e.ended = true;
    // Out of the live set at once: a new container may reuse the key (a runc id) before the lookups end.
    this.entries.delete(key);
    this.ending++;
    void e.ready.then(() => {
      try {
        const identity = e.identity!;
        this.store.record({ k: 'end', at: new Date().toISOString(), container: identity.containerId, image: identity.image, notifications: e.progress.events, lost: e.progress.lost });
        if (note) e.log[note.level ?? 'info'](note.fields ?? {}, note.msg);
      } catch (err) {
        e.log.error({ reason: (err as Error).message }, 'error while finishing a container');
      } finally {
        this.ending--;
        if (!this.entries.size && !this.ending) for (const w of this.idleWaiters.splice(0)) w();
      }
    });
  }

  /** Resolves when every container has ended and been journaled. */
  whenIdle(): Promise<void> {
    if (!this.entries.size && !this.ending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Live containers per image (unattributed ones are not counted). */
  liveByImage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) if (e.identity) out.set(e.identity.image, (out.get(e.identity.image) ?? 0) + 1);
    return out;
  }

  /** Calls known lost by live containers, per image (not yet in their end records). */
  lostByImage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) if (e.identity && e.progress.lost) out.set(e.identity.image, (out.get(e.identity.image) ?? 0) + e.progress.lost);
    return out;
  }

  /** Events (notifications, records, calls) of live containers. */
  liveEvents(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.progress.events;
    return n;
  }

  summaries(): LiveSummary[] {
    return [...this.entries.values()].map((e) => {
      const s: LiveSummary = { container: e.hints.containerId, runtime: e.hints.runtime, since: new Date(e.startedAt).toISOString() };
      if (e.identity) s.image = e.identity.image;
      return s;
    });
  }
}
