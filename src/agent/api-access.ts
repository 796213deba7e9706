// Who may use the agent's API, from each connection's SO_PEERCRED: root for
// everything; a configured reader uid/gid (a metrics scraper, say) for GETs of
// health, metrics, list and show only; nobody else.
import type { Socket } from 'node:net';
import { nativeAddon } from '../record/native.js';

export interface ApiAccessOptions {
  /** A uid allowed read-only requests. */
  readerUid?: number;
  /** A gid (the peer's primary gid) allowed read-only requests. */
  readerGid?: number;
}

export type PeerAccess = { level: 'admin' | 'reader' | 'refused'; uid?: number; gid?: number; pid?: number; why?: string };

/** Refusals since start, by reason (the labels of seccomp_recorder_api_refused_total). */
export interface ApiRefusals {
  'peer-not-allowed': number;
  'read-only': number;
}

export const hasReaders = (o: ApiAccessOptions) => o.readerUid !== undefined || o.readerGid !== undefined;

/** The access of the peer of an accepted API connection; a peer whose credentials cannot be read is refused. */
export function peerAccess(socket: Socket, opts: ApiAccessOptions): PeerAccess {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { level: 'refused', why: 'the connection has no descriptor to read credentials from' };
  let cred: { pid: number; uid: number; gid: number };
  try {
    cred = nativeAddon().peerCred(fd);
  } catch (err) {
    return { level: 'refused', why: `cannot read the peer's credentials (${(err as Error).message})` };
  }
  if (cred.uid === 0) return { level: 'admin', ...cred };
  if (cred.uid === opts.readerUid || cred.gid === opts.readerGid) return { level: 'reader', ...cred };
  return { level: 'refused', ...cred, why: `uid ${cred.uid} (gid ${cred.gid}) is neither root nor the agent's --api-reader-uid/--api-reader-gid` };
}
