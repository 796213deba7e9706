// The OCI runtime-spec `listenerPath` receiver: runc and crun connect to our
// unix socket, send the container's state JSON and its seccomp listener fd
// (SCM_RIGHTS), and close. Receiving runs natively (Node's net cannot take
// SCM_RIGHTS), and so does serving: a received listener is served in C before
// JS hears of it. Each connection is reported once, served or refused; each
// served one's end later.
import { NativeError } from '../../errors.js';
import { auditArchOf } from '../../seccomp/arch.js';
import { archToken, syscallNumber } from '../../seccomp/libseccomp.js';
import { prepareSocketDir } from '../../util/socket-dir.js';
import type { OciServeOptions, OciStats, SessionHandle, SessionInfo } from '../native.js';
import { nativeAddon } from '../native.js';

export interface OciConnection {
  /** The raw JSON text the runtime sent (container process state). */
  stateText?: string;
  /** The session already serving the received listener (every notification answered CONTINUE and counted). */
  session?: { id: number; handle: SessionHandle };
  /** Why the connection was refused (no fd, several fds, not a listener, too large, stalled, cannot serve...). */
  error?: string;
  peerPid?: number;
  /** The connecting runtime's executable name, read at connect time. */
  peerExe?: string;
}

export interface OciHandlers {
  connection(c: OciConnection): void;
  /** A served session ended (always after its connection was reported). */
  end(sessionId: number, info: SessionInfo): void;
  /** accept4 started failing (errno, message) or works again (errno 0). */
  acceptState?(errno: number, error?: string): void;
}

export interface OciListener {
  readonly path: string;
  /**
   * Stops taking connections (new ones are refused at once), lets the ones in
   * progress finish (each reported), then resolves. Never blocks the event loop.
   */
  close(): Promise<void>;
  stats(): OciStats;
}

/**
 * Listens on `path` (its directory is created 0700, or must be one only root
 * can write: util/socket-dir.ts; the socket is 0600). A stale socket at `path`
 * is replaced; any other file there is an error.
 */
export function listenOciSocket(path: string, serve: OciServeOptions, handlers: OciHandlers): OciListener {
  const addon = nativeAddon();
  prepareSocketDir(path, '--socket');
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let handle;
  try {
    handle = addon.ociListen(path, serve, (e) => {
      switch (e.kind) {
        case 'connection': {
          const c: OciConnection = { peerPid: e.peerPid };
          if (e.stateText !== undefined) c.stateText = e.stateText;
          if (e.session !== undefined && e.sessionId !== undefined) c.session = { id: e.sessionId, handle: e.session };
          if (e.error !== undefined) c.error = e.error;
          if (e.peerExe !== undefined) c.peerExe = e.peerExe;
          handlers.connection(c);
          break;
        }
        case 'end':
          handlers.end(e.sessionId, e.info);
          break;
        case 'accept':
          handlers.acceptState?.(e.errno, e.error);
          break;
        case 'closed':
          resolveClosed();
          break;
      }
    });
  } catch (err) {
    throw new NativeError((err as Error).message, 0, err);
  }
  let closing: Promise<void> | undefined;
  return {
    path,
    close() {
      if (!closing) {
        addon.ociClose(handle);
        closing = closed;
      }
      return closing;
    },
    stats: () => addon.ociStats(handle),
  };
}

/** (audit arch, nr) of execve and execveat on each arch: the end of a runtime's own start-up calls. */
export function runtimeBoundary(arches: string[]): Int32Array {
  const pairs: number[] = [];
  for (const arch of arches) {
    const token = archToken(arch);
    const audit = auditArchOf(arch);
    if (token === undefined || audit === undefined) continue;
    for (const name of ['execve', 'execveat']) {
      const nr = syscallNumber(token, name);
      if (nr !== undefined && nr >= 0) pairs.push(audit | 0, nr);
    }
  }
  return Int32Array.from(pairs);
}
