// The native side of the notify container source, behind one small
// interface: the runtime socket (listenerPath receiver) and one notify session
// per received listener. The real one wraps the addon.

import type { RawEntry, SessionHandle, SessionInfo } from '../native.js';
import { nativeAddon } from '../native.js';
import type { OciConnection } from './oci-listener.js';
import { listenOciSocket, runtimeBoundary } from './oci-listener.js';
import { resolveWatches, watchArray } from '../watches.js';

export type { OciConnection, RawEntry, SessionInfo };

export interface SessionRef {
  readonly handle: unknown;
}

export interface NotifyBackend {
  /** Starts receiving runtime connections on `path` (dir 0700, socket 0600). */
  listen(path: string, onConnection: (c: OciConnection) => void): { close(): void };
  /** Serves a listener: every notification answered CONTINUE and counted, on a native thread. */
  start(listenerFd: number, onEnd: (info: SessionInfo) => void): SessionRef;
  /** The calls counted since the last drain (reset) or since the start. */
  drain(ref: SessionRef, reset: boolean): { entries: RawEntry[]; info: SessionInfo };
  /** Stops serving: the container's later notified calls fail with ENOSYS. */
  stop(ref: SessionRef): void;
  /** Frees the session (after its end). */
  destroy(ref: SessionRef): void;
}

/** The (audit arch, nr, argA, argB) quadruples of the watched arguments, for the addon. */
export function nativeBackend(arches: string[]): NotifyBackend {
  const addon = nativeAddon();
  const watches = watchArray(resolveWatches(arches));
  const boundary = runtimeBoundary(arches);
  const h = (ref: SessionRef) => ref.handle as SessionHandle;
  return {
    listen: (path, onConnection) => listenOciSocket(path, onConnection),
    start(listenerFd, onEnd) {
      return { handle: addon.start({ listenerFd, watches, runtimeBoundary: boundary, syncWakeup: 1 }, onEnd) };
    },
    drain: (ref, reset) => addon.drain(h(ref), reset),
    stop: (ref) => addon.stop(h(ref)),
    destroy: (ref) => addon.destroy(h(ref)),
  };
}
