// The notify container source: one native notify session per runtime
// connection on the listenerPath socket, started in C before JS hears of the
// container (the container waits on nobody here), named here, drained into
// the sink on each tick and once more when the container's last task exits.
// Stopping it is ordered: the socket stops taking connections, the ones in
// progress are handed over, then live containers are waited for (leaving them
// would fail their notified calls: ENOSYS).
import type { Logger } from 'pino';
import { archesOfKernel } from '../../seccomp/arch.js';
import type { ContainerSink, ContainerSource, MetricFamily, Phase } from '../container-source.js';
import { nameEntries } from '../observations.js';
import type { NotifyBackend, OciConnection, OciStats, RawEntry, SessionInfo, SessionRef } from './backend.js';
import { nativeBackend } from './backend.js';
import { decodeMetadata } from './metadata.js';
import { parseStateMessage } from './state-message.js';
import { testBlockMs, blockEventLoop } from './test-hooks.js';

interface LiveSession {
  key: string;
  ref: SessionRef;
  /** False for a session served without recording (unreadable state). */
  recorded: boolean;
  startedAt: number;
  log: Logger;
  notificationsSeen: number;
  lostSeen: number;
  ending: boolean;
}

/**
 * The runtime binary that connected (`runc`, `crun`): the native receiver reads
 * the peer's executable name when it connects, while the runtime still waits
 * for its listener to be served; the metadata's `runtime=` is the fallback.
 */
function runtimeOf(peerExe: string | undefined, fallback: string | undefined): string {
  return peerExe || fallback || 'unknown';
}

/** A short, bounded label for why a runtime connection was refused. */
export function dropReason(error: string): string {
  const e = error.toLowerCase();
  if (e.includes('shutting down')) return 'shutdown';
  if (e.includes('peer is not root')) return 'peer-not-root';
  if (e.includes('no file descriptor')) return 'no-fd';
  if (e.includes('file descriptors were sent')) return 'several-fds';
  if (e.includes('not a seccomp listener')) return 'not-a-listener';
  if (e.includes('larger than')) return 'too-large';
  if (e.includes('within') || e.includes('timed out') || e.includes('stall')) return 'timeout';
  if (e.includes('no container state')) return 'no-state';
  if (e.includes('cannot serve the listener')) return 'session-start';
  if (e.includes('too many')) return 'overload';
  if (e.includes('does not start with a json')) return 'not-json';
  return 'other';
}

export class NotifyContainerSource implements ContainerSource {
  readonly name = 'notify';
  private readonly live = new Map<string, LiveSession>();
  private idleWaiters: (() => void)[] = [];
  private readonly warnedArch = new Set<number>();
  private socket: { close(): Promise<void>; stats(): OciStats } | undefined;
  /** Set when the drain timed out: a container handed over after that is let go at once. */
  private lettingGo = false;
  private readonly blockMs = testBlockMs();
  private sink!: ContainerSink;
  private log!: Logger;
  private readonly counts = { notifications: 0, lost: 0 };
  private readonly dropped = new Map<string, number>();

  constructor(
    private readonly socketPath: string,
    private readonly backend: NotifyBackend = nativeBackend(archesOfKernel()),
  ) {}

  get liveCount(): number {
    return this.live.size;
  }

  describe(): Record<string, unknown> {
    return { socket: this.socketPath };
  }

  async start(sink: ContainerSink, log: Logger): Promise<void> {
    this.sink = sink;
    this.log = log;
    if (this.blockMs) log.warn({ blockMs: this.blockMs }, 'test hook SECCOMP_RECORDER_TEST_BLOCK_MS: the event loop is blocked on every runtime connection');
    const guard = (what: string, f: () => void) => {
      try {
        f();
      } catch (err) {
        log.error({ reason: (err as Error).message }, `internal error handling ${what}`);
      }
    };
    this.socket = this.backend.listen(this.socketPath, {
      connection: (c) => guard('a runtime connection', () => this.onConnection(c)),
      end: (id, info) => guard('the end of a container', () => this.onEnd(`notify-${id}`, info)),
      acceptState: (errno, error) => {
        if (errno) log.warn({ reason: error, errno }, 'runtime socket: cannot accept connections; retrying with a back-off (waiting runtimes are served once descriptors free up)');
        else log.info({}, 'runtime socket: accepting connections again');
      },
    });
  }

  private drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** One runtime connection, its listener served already. Never throws: a bad one costs one log line. */
  private onConnection(c: OciConnection): void {
    if (this.blockMs) {
      blockEventLoop(this.blockMs);
      this.log.warn({ blockMs: this.blockMs }, 'test hook: the event loop was blocked');
    }
    if (c.session === undefined) {
      const reason = c.error ?? 'no listener';
      this.drop(dropReason(reason));
      // Name the container when the state got through, so the refusal can be traced to it.
      const partial = parseStateMessage(c.stateText);
      const who = partial.ok ? { container: partial.state.containerId } : {};
      this.log.warn({ peerPid: c.peerPid, ...who, reason }, 'runtime connection refused');
      return;
    }
    const key = `notify-${c.session.id}`;
    const ref: SessionRef = { handle: c.session.handle };
    const parsed = parseStateMessage(c.stateText);
    const metadata = parsed.ok ? decodeMetadata(parsed.state.metadata) : undefined;
    const runtime = runtimeOf(c.peerExe, metadata?.runtime);
    const live: LiveSession = { key, ref, recorded: parsed.ok, startedAt: Date.now(), log: this.log, notificationsSeen: 0, lostSeen: 0, ending: false };
    this.live.set(key, live);
    if (!parsed.ok) {
      // Still served, so whatever holds this filter keeps running; nothing is recorded for it.
      this.drop('bad-state');
      live.log = this.log.child({ peerPid: c.peerPid, runtime });
      live.log.warn({ reason: parsed.problem }, 'unreadable container state: serving its listener without recording');
    } else {
      const state = parsed.state;
      live.log = this.log.child({ container: state.containerId });
      this.sink.started(key, {
        containerId: state.containerId,
        runtime,
        annotations: state.annotations,
        ...(state.bundle ? { bundles: [state.bundle] } : {}),
        podman: state.annotations['io.container.manager'] === 'libpod',
        ...(metadata?.image ? { imageHint: metadata.image } : {}),
        ...(state.pid ? { pid: state.pid } : {}),
        uncovered: metadata?.uncovered ?? [],
      });
    }
    if (this.lettingGo) {
      live.log.warn({}, 'handed over after the drain timeout: stopping its listener (its notified syscalls now fail with ENOSYS)');
      this.stopSession(live);
    }
  }

  tick(): void {
    for (const live of this.live.values()) if (!live.ending) this.drainInto(live);
  }

  private drainInto(live: LiveSession): SessionInfo | undefined {
    let drained;
    try {
      drained = this.backend.drain(live.ref, true);
    } catch (err) {
      live.log.error({ reason: (err as Error).message }, 'cannot drain the notify session');
      return undefined;
    }
    const { entries, info } = drained;
    this.counts.notifications += info.notifications - live.notificationsSeen;
    this.counts.lost += info.lost - live.lostSeen;
    const changed = info.notifications !== live.notificationsSeen || info.lost !== live.lostSeen;
    live.notificationsSeen = info.notifications;
    live.lostSeen = info.lost;
    if (!live.recorded) return info;
    for (const phase of ['runtime', 'workload'] as Phase[]) {
      const list = entries.filter((e: RawEntry) => e.phase === phase);
      if (!list.length) continue;
      const { observations, unknownArch } = nameEntries(list);
      for (const e of unknownArch) {
        if (this.warnedArch.has(e.arch)) continue;
        this.warnedArch.add(e.arch);
        live.log.warn({ auditArch: `0x${(e.arch >>> 0).toString(16)}`, nr: e.nr }, 'calls on an architecture this tool cannot name were not recorded');
      }
      if (observations.length) this.sink.calls(live.key, phase, observations);
    }
    if (changed) this.sink.progress(live.key, { events: info.notifications, lost: info.lost });
    return info;
  }

  private onEnd(key: string, info: SessionInfo): void {
    const live = this.live.get(key);
    if (!live || live.ending) return;
    live.ending = true;
    try {
      const last = this.drainInto(live) ?? info;
      const note = {
        level: info.reason === 'error' ? ('error' as const) : ('info' as const),
        fields: { reason: info.reason, errno: info.errno || undefined, notifications: last.notifications, lost: last.lost, durationMs: Date.now() - live.startedAt },
        msg: info.reason === 'stopped' ? 'stopped serving container (its later notified calls fail with ENOSYS)' : 'container finished',
      };
      if (live.recorded) {
        this.sink.progress(key, { events: last.notifications, lost: last.lost });
        this.sink.ended(key, note);
      } else live.log[note.level](note.fields, note.msg);
      this.backend.destroy(live.ref);
    } catch (err) {
      live.log.error({ reason: (err as Error).message }, 'error while finishing a container');
    } finally {
      this.live.delete(key);
      if (!this.live.size) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no container is live (at once when none is). */
  private whenIdle(): Promise<void> {
    if (!this.live.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private stopSession(live: LiveSession): void {
    try {
      this.backend.stop(live.ref);
    } catch (err) {
      live.log.error({ reason: (err as Error).message }, 'cannot stop the notify session');
    }
  }

  /**
   * In order, and never blocking the event loop: the socket refuses new
   * connections at once; connections already accepted finish (a stalled one
   * at its deadline) and their containers are handed over; `closed` resolves
   * after the last of them, so "idle" is only judged once none can still come.
   * Live containers are served until they end or `drainMs` passes; then their
   * listeners are let go (ENOSYS from then on), late arrivals too.
   */
  async stop(drainMs: number): Promise<void> {
    const closed = this.socket?.close() ?? Promise.resolve();
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closed.then(() => this.whenIdle()).then(() => false),
      new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(true), drainMs))),
    ]);
    clearTimeout(deadline);
    if (timedOut) {
      this.lettingGo = true;
      if (this.live.size) {
        this.log.warn({ liveContainers: this.live.size }, 'drain timeout: stopping the listeners of containers still running (their notified syscalls now fail with ENOSYS)');
        for (const live of this.live.values()) this.stopSession(live);
      }
      await closed;
      await this.whenIdle();
    }
  }

  metrics(): MetricFamily[] {
    const stats = this.socket?.stats();
    return [
      { name: 'seccomp_recorder_live_listeners', help: 'Seccomp listeners being served now.', type: 'gauge', samples: [{ value: this.live.size }] },
      { name: 'seccomp_recorder_notifications_total', help: 'Notifications answered (CONTINUE) since the agent started.', type: 'counter', samples: [{ value: this.counts.notifications }] },
      { name: 'seccomp_recorder_lost_notifications_total', help: 'Notifications answered but not counted (native table out of memory).', type: 'counter', samples: [{ value: this.counts.lost }] },
      {
        name: 'seccomp_recorder_runtime_connections_in_progress',
        help: 'Runtime socket connections being read now (each has a 5 s deadline).',
        type: 'gauge',
        samples: [{ value: stats?.inProgress ?? 0 }],
      },
      {
        name: 'seccomp_recorder_runtime_accept_errors_total',
        help: 'Runtime socket accept failures for want of descriptors or memory (retried after a back-off; waiting runtimes are served once it works).',
        type: 'counter',
        samples: [{ value: stats?.acceptErrors ?? 0 }],
      },
      {
        name: 'seccomp_recorder_dropped_connections_total',
        help: 'Runtime connections refused or not recorded, by reason.',
        type: 'counter',
        samples: [...this.dropped].map(([reason, value]) => ({ labels: { reason }, value })),
      },
    ];
  }
}
