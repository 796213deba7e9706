// The OCI runtime-spec `listenerPath` receiver: runc and crun connect to our
// unix socket, send the container's state JSON and its seccomp listener fd
// (SCM_RIGHTS), and close. Receiving runs natively (Node's net cannot take
// SCM_RIGHTS); each connection is reported once, accepted or refused.
import { NativeError } from '../../errors.js';
import { auditArchOf } from '../../seccomp/arch.js';
import { archToken, syscallNumber } from '../../seccomp/libseccomp.js';
import { prepareSocketDir } from '../../util/socket-dir.js';
import { nativeAddon } from '../native.js';

export interface OciConnection {
  /** The raw JSON text the runtime sent (container process state). */
  stateText?: string;
  /** A verified seccomp listener fd, when exactly one was sent. The receiver owns it. */
  listenerFd?: number;
  /** Why the connection was refused (no fd, several fds, not a listener, too large, stalled...). */
  error?: string;
  peerPid?: number;
  /** The connecting runtime's executable name, read at connect time. */
  peerExe?: string;
}

export interface OciListener {
  readonly path: string;
  close(): void;
}

/**
 * Listens on `path` (its directory is created 0700, or must be one only root
 * can write: util/socket-dir.ts; the socket is 0600). A stale socket at `path`
 * is replaced; any other file there is an error.
 */
export function listenOciSocket(path: string, onConnection: (c: OciConnection) => void): OciListener {
  const addon = nativeAddon();
  prepareSocketDir(path, '--socket');
  let handle;
  try {
    handle = addon.ociListen(path, (raw) => {
      const c: OciConnection = { peerPid: raw.peerPid };
      if (raw.stateText !== undefined) c.stateText = raw.stateText;
      if (raw.listenerFd !== undefined) c.listenerFd = raw.listenerFd;
      if (raw.error !== undefined) c.error = raw.error;
      if (raw.peerExe !== undefined) c.peerExe = raw.peerExe;
      onConnection(c);
    });
  } catch (err) {
    throw new NativeError((err as Error).message, 0, err);
  }
  let closed = false;
  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      addon.ociClose(handle);
    },
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
