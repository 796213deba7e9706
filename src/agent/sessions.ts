// The containers being recorded now: one native notify session per runtime
// connection, started before anything else is done (the container waits on
// us), attributed to an image asynchronously, drained into the store on each
// tick and once more when the container's last task exits.
import type { Logger } from 'pino';
import { nameEntries } from '../record/observations.js';
import type { NotifyBackend, OciConnection, RawEntry, SessionInfo, SessionRef } from './backend.js';
import type { ContainerIdentity, IdentityLookups } from './identity.js';
import { identityFromAnnotations, resolveIdentity } from './identity.js';
import { decodeMetadata } from './metadata.js';
import type { AgentCounters } from './metrics.js';
import { dropReason } from './metrics.js';
import type { Phase } from './records.js';
import { callsRecord } from './records.js';
import { parseStateMessage } from './state-message.js';
import type { RecordingStore } from './store.js';

interface LiveContainer {
  seq: number;
  ref: SessionRef;
  runtime: string;
  startedAt: number;
  containerId?: string;
  /** Set once attributed; undefined while the lookups run, or for good when the state was unreadable. */
  identity?: ContainerIdentity;
  identityDone: Promise<void>;
  uncovered: string[];
  log: Logger;
  notificationsSeen: number;
  lostSeen: number;
  ending: boolean;
}

export interface LiveSummary {
  container?: string;
  image?: string;
  runtime: string;
  since: string;
}

/**
 * The runtime binary that connected (`runc`, `crun`): the native receiver reads
 * the peer's executable name when it connects, while the runtime still waits
 * for its listener to be served; the metadata's `runtime=` is the fallback.
 */
function runtimeOf(peerExe: string | undefined, fallback: string | undefined): string {
  return peerExe || fallback || 'unknown';
}

export class ContainerSessions {
  private readonly live = new Map<number, LiveContainer>();
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly warnedArch = new Set<number>();

  constructor(
    private readonly backend: NotifyBackend,
    private readonly store: RecordingStore,
    private readonly lookups: IdentityLookups,
    private readonly counters: AgentCounters,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.live.size;
  }

  /** Live containers per image (unattributed ones are not counted). */
  liveByImage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.live.values()) if (l.identity) out.set(l.identity.image, (out.get(l.identity.image) ?? 0) + 1);
    return out;
  }

  summaries(): LiveSummary[] {
    return [...this.live.values()].map((l) => {
      const s: LiveSummary = { runtime: l.runtime, since: new Date(l.startedAt).toISOString() };
      if (l.containerId) s.container = l.containerId;
      if (l.identity) s.image = l.identity.image;
      return s;
    });
  }

  /** One runtime connection. Never throws: a bad one costs one log line. */
  onConnection(c: OciConnection): void {
    if (c.error !== undefined || c.listenerFd === undefined) {
      const reason = c.error ?? 'no listener';
      this.counters.drop(dropReason(reason));
      // Name the container when the state got through, so the refusal can be traced to it.
      const partial = parseStateMessage(c.stateText);
      const who = partial.ok ? { container: partial.state.containerId, image: identityFromAnnotations(partial.state.annotations)?.image } : {};
      this.log.warn({ peerPid: c.peerPid, ...who, reason }, 'runtime connection refused');
      return;
    }
    // Serve first: the container's next notified call waits for us.
    const seq = ++this.seq;
    let ref: SessionRef;
    try {
      ref = this.backend.start(c.listenerFd, (info) => this.onEnd(seq, info));
    } catch (err) {
      this.counters.drop('session-start');
      this.log.error({ peerPid: c.peerPid, reason: (err as Error).message }, 'cannot serve a received listener');
      return;
    }
    const parsed = parseStateMessage(c.stateText);
    const metadata = parsed.ok ? decodeMetadata(parsed.state.metadata) : undefined;
    const runtime = runtimeOf(c.peerExe, metadata?.runtime);
    const live: LiveContainer = {
      seq,
      ref,
      runtime,
      startedAt: Date.now(),
      identityDone: Promise.resolve(),
      uncovered: metadata?.uncovered ?? [],
      log: this.log,
      notificationsSeen: 0,
      lostSeen: 0,
      ending: false,
    };
    this.live.set(seq, live);
    if (!parsed.ok) {
      // Still served, so whatever holds this filter keeps running; nothing is recorded for it.
      this.counters.drop('bad-state');
      live.log = this.log.child({ peerPid: c.peerPid, runtime });
      live.log.warn({ reason: parsed.problem }, 'unreadable container state: serving its listener without recording');
      return;
    }
    const state = parsed.state;
    live.containerId = state.containerId;
    live.log = this.log.child({ container: state.containerId });
    live.identityDone = resolveIdentity(state, metadata, this.lookups).then(
      (identity) => this.attribute(live, identity),
      (err: Error) => this.attribute(live, { containerId: state.containerId, image: state.containerId, source: 'container-id' }, err),
    );
  }

  private attribute(live: LiveContainer, identity: ContainerIdentity, err?: Error): void {
    live.identity = identity;
    live.log = this.log.child({ container: identity.containerId, image: identity.image });
    if (err) live.log.warn({ reason: err.message }, 'identity lookup failed; using the container id');
    this.counters.containersRecorded++;
    this.store.record({
      k: 'container',
      at: new Date().toISOString(),
      container: identity.containerId,
      image: identity.image,
      source: identity.source,
      ...(identity.name ? { name: identity.name } : {}),
      ...(identity.namespace ? { namespace: identity.namespace } : {}),
      ...(identity.pod ? { pod: identity.pod } : {}),
      runtime: live.runtime,
      uncovered: live.uncovered,
    });
    live.log.info(
      { runtime: live.runtime, source: identity.source, name: identity.name, namespace: identity.namespace, pod: identity.pod },
      'recording container',
    );
  }

  /** Moves every attributed container's new calls into the store. */
  tick(): void {
    for (const live of this.live.values()) if (live.identity && !live.ending) this.drainInto(live);
  }

  private drainInto(live: LiveContainer): SessionInfo | undefined {
    let drained;
    try {
      drained = this.backend.drain(live.ref, true);
    } catch (err) {
      live.log.error({ reason: (err as Error).message }, 'cannot drain the notify session');
      return undefined;
    }
    const { entries, info } = drained;
    this.counters.notifications += info.notifications - live.notificationsSeen;
    this.counters.lostNotifications += info.lost - live.lostSeen;
    live.notificationsSeen = info.notifications;
    live.lostSeen = info.lost;
    const identity = live.identity;
    if (!identity || !entries.length) return info;
    const at = new Date().toISOString();
    for (const phase of ['runtime', 'workload'] as Phase[]) {
      const list = entries.filter((e: RawEntry) => e.phase === phase);
      if (!list.length) continue;
      const { observations, unknownArch } = nameEntries(list);
      for (const e of unknownArch) {
        if (this.warnedArch.has(e.arch)) continue;
        this.warnedArch.add(e.arch);
        live.log.warn({ auditArch: `0x${(e.arch >>> 0).toString(16)}`, nr: e.nr }, 'calls on an architecture this tool cannot name were not recorded');
      }
      if (!observations.length) continue;
      this.store.record(callsRecord(identity, live.runtime, phase, observations, at));
    }
    return info;
  }

  private onEnd(seq: number, info: SessionInfo): void {
    const live = this.live.get(seq);
    if (!live || live.ending) return;
    live.ending = true;
    void live.identityDone.then(() => this.finish(live, info));
  }

  private finish(live: LiveContainer, endInfo: SessionInfo): void {
    try {
      const info = this.drainInto(live) ?? endInfo;
      if (live.identity) {
        this.store.record({
          k: 'end',
          at: new Date().toISOString(),
          container: live.identity.containerId,
          image: live.identity.image,
          notifications: info.notifications,
          lost: info.lost,
        });
      }
      const level = info.reason === 'error' ? 'error' : 'info';
      live.log[level](
        { reason: info.reason, errno: info.errno || undefined, notifications: info.notifications, lost: info.lost, durationMs: Date.now() - live.startedAt },
        info.reason === 'stopped' ? 'stopped serving container (its later notified calls fail with ENOSYS)' : 'container finished',
      );
      this.backend.destroy(live.ref);
    } catch (err) {
      live.log.error({ reason: (err as Error).message }, 'error while finishing a container');
    } finally {
      this.live.delete(live.seq);
      if (!this.live.size) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no container is live (at once when none is). */
  whenIdle(): Promise<void> {
    if (!this.live.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops serving every live container (drain timeout reached). */
  stopAll(): void {
    for (const live of this.live.values()) {
      try {
        this.backend.stop(live.ref);
      } catch (err) {
        live.log.error({ reason: (err as Error).message }, 'cannot stop the notify session');
      }
    }
  }
}
