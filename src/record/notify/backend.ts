// The native side of the notify container source, behind one small
// interface: the runtime socket (listenerPath receiver), which starts one
// notify session per received listener in C, and the calls JS makes on those
// sessions. The real one wraps the addon.

import type { OciStats, RawEntry, SessionHandle, SessionInfo } from '../native.js';
import { nativeAddon } from '../native.js';
import type { OciConnection, OciHandlers } from './oci-listener.js';
import { listenOciSocket, runtimeBoundary } from './oci-listener.js';
import { resolveWatches, watchArray } from '../watches.js';

export type { OciConnection, OciHandlers, OciStats, RawEntry, SessionInfo };

export interface SessionRef {
  readonly handle: unknown;
}

export interface NotifyBackend {
  /**
   * Starts receiving runtime connections on `path` (dir 0700, socket 0600);
   * each received listener is served (every notification answered CONTINUE
   * and counted, on a native thread) before `connection` reports it.
   */
  listen(path: string, handlers: OciHandlers): { close(): Promise<void>; stats(): OciStats };
  /** The calls counted since the last drain (reset) or since the start. */
  drain(ref: SessionRef, reset: boolean): { entries: RawEntry[]; info: SessionInfo };
  /** Stops serving: the container's later notified calls fail with ENOSYS. */
  stop(ref: SessionRef): void;
  /** Frees the session (after its end). */
  destroy(ref: SessionRef): void;
}

export function nativeBackend(arches: string[]): NotifyBackend {
  const addon = nativeAddon();
  // (audit arch, nr, argA, argB) quadruples of the watched arguments, and the runtime's boundary calls.
  const serve = { watches: watchArray(resolveWatches(arches)), runtimeBoundary: runtimeBoundary(arches), syncWakeup: 1 };
  const h = (ref: SessionRef) => ref.handle as SessionHandle;
  return {
    listen: (path, handlers) => listenOciSocket(path, serve, handlers),
    drain: (ref, reset) => addon.drain(h(ref), reset),
    stop: (ref) => addon.stop(h(ref)),
    destroy: (ref) => addon.destroy(h(ref)),
  };
}
