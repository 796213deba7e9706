// The one typed wrapper around the native addon and the launcher executable
// (built by node-gyp into build/Release). A missing build is an UnsupportedError
// naming what was looked for.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../errors.js';

const BUILD_DIR = fileURLToPath(new URL('../../build/Release/', import.meta.url));
const ADDON_PATH = `${BUILD_DIR}seccomp_recorder.node`;
export const LAUNCHER_PATH = `${BUILD_DIR}seccomp-recorder-launcher`;

export type EndReason = 'hangup' | 'stopped' | 'target-gone' | 'attach-timeout' | 'error' | 'none';

export interface SessionInfo {
  reason: EndReason;
  errno: number;
  notifications: number;
  lost: number;
  /** 1 when SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is in effect. */
  syncWakeup: number;
  /** 1 when the loop blocks in RECV (the kernel wakes it when the filter's last user goes away); 0: poll, then RECV. */
  blockingRecv: number;
  attached: number;
}

export interface RawEntry {
  arch: number;
  nr: number;
  count: number;
  /** pid of the first caller, and its executable when the session captured it. */
  firstPid: number;
  firstExe?: string;
  args?: [bigint, bigint][];
  overflowed?: boolean;
  /** `runtime`: seen before the first runtime-boundary call (see SessionOptions.runtimeBoundary). */
  phase: 'runtime' | 'workload';
}

export interface SessionOptions {
  /** Take the listener from this child... */
  pid?: number;
  /** ...where it sits on this descriptor number. */
  targetFd?: number;
  /** Or serve this listener descriptor (ownership passes to the session). */
  listenerFd?: number;
  /** Quadruples: audit arch, syscall nr, arg index, second arg index or -1. */
  watches?: Int32Array;
  syncWakeup?: number;
  attachTimeoutMs?: number;
  /** 1: read /proc/PID/exe of each syscall's first caller (complain mode). */
  captureExe?: number;
  /**
   * Pairs (audit arch, nr): when given, calls are counted as the runtime's own
   * until the first of these (execve, execveat: the runtime starting the workload).
   */
  runtimeBoundary?: Int32Array;
}

/**
 * What the native OCI socket server reports, in order per container: its
 * connection (served already when `session` is there), later its end; once
 * after ociClose, 'closed'; and 'accept' when accepting starts failing
 * (errno) or works again (errno 0).
 */
export type RawOciEvent =
  | {
      kind: 'connection';
      stateText?: string;
      /** The session serving the received listener, started in C before this event. */
      session?: SessionHandle;
      sessionId?: number;
      error?: string;
      peerPid: number;
      /** The peer's executable name, read when it connected (runc, crun, conmon...). */
      peerExe?: string;
    }
  | { kind: 'end'; sessionId: number; info: SessionInfo }
  | { kind: 'closed' }
  | { kind: 'accept'; errno: number; error?: string };

/** How the runtime socket serves the listeners it receives. */
export interface OciServeOptions {
  watches?: Int32Array;
  runtimeBoundary?: Int32Array;
  syncWakeup?: number;
}

/** The native runtime socket's counters. */
export interface OciStats {
  accepted: number;
  /** Refused for want of room (SR_OCI_MAX_CONNECTIONS in progress). */
  refused: number;
  /** accept4 failures for want of descriptors or memory (each retried after a back-off). */
  acceptErrors: number;
  /** Connections being read now. */
  inProgress: number;
  /** errno of the last accept4 when it failed, else 0. */
  acceptFailing: number;
}

/** Options of the bpf source's programs (see native/bpf_recorder.h). */
export interface BpfOpenOptions {
  /** Record every cgroup not ignored (agent); otherwise only cgroups added. */
  auto?: boolean;
  maxCgroups?: number;
  maxArgTuples?: number;
  /** Quadruples: ABI index (0 native, 1 i386, 2 x32), nr, arg index, second arg index or -1. */
  watches?: Int32Array;
  /** Triples: ABI index, nr of execve/execveat, index of the flags argument or -1. */
  execs?: Int32Array;
}

/** One cgroup's cumulative table, as the kernel keeps it. */
export interface BpfCgroupRead {
  entries: RawEntry[];
  firstTgid: number;
  workloadTgid: number;
  workloadStarted: boolean;
  /** Calls whose number was past the table (counted, not named). */
  outOfRange: number;
  /** Argument tuples dropped because the shared args map was full. */
  argsDropped: number;
}

declare const bpfBrand: unique symbol;
export type BpfHandle = { readonly [bpfBrand]: true };

declare const serverBrand: unique symbol;
export type OciServerHandle = { readonly [serverBrand]: true };

declare const sessionBrand: unique symbol;
export type SessionHandle = { readonly [sessionBrand]: true };

interface Addon {
  start(options: SessionOptions, onEnd: (info: SessionInfo) => void): SessionHandle;
  drain(handle: SessionHandle, reset: boolean): { entries: RawEntry[]; info: SessionInfo };
  stop(handle: SessionHandle): void;
  destroy(handle: SessionHandle): void;
  ociListen(path: string, options: OciServeOptions, onEvent: (e: RawOciEvent) => void): OciServerHandle;
  /** Asks the server to stop; returns at once, the 'closed' event follows. */
  ociClose(handle: OciServerHandle): void;
  ociStats(handle: OciServerHandle): OciStats;
  /** SO_PEERCRED of a connected unix socket. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  /** flock(fd, LOCK_EX|LOCK_NB): true when taken, false when another open file holds it. */
  flockExclusive(fd: number): boolean;
  bpfOpen(options: BpfOpenOptions): BpfHandle;
  bpfClose(handle: BpfHandle): void;
  bpfCgroup(handle: BpfHandle, cgroup: bigint, op: 'add' | 'ignore' | 'unignore' | 'forget'): void;
  bpfRead(handle: BpfHandle, cgroup: bigint): BpfCgroupRead | null;
  bpfList(handle: BpfHandle): { cgroups: bigint[]; cgroupsFull: number };
  /** Splits bytes[start, end) into lines and reads auditd's common layouts; see native/audit_scan.c. Returns the lines described in out. */
  auditScan(bytes: Buffer, start: number, end: number, out: Float64Array, state: Uint8Array, bulk?: Float64Array): number;
}

let addon: Addon | undefined;

export function nativeAddon(): Addon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (err) {
    throw new UnsupportedError('the native part is not built; run `npm ci` (or `npm run build`) in the package directory', [
      `${ADDON_PATH}: ${(err as Error).message.split('\n')[0]}`,
    ], err);
  }
  return addon;
}

export function launcherPath(): string {
  try {
    accessSync(LAUNCHER_PATH, constants.X_OK);
  } catch (err) {
    throw new UnsupportedError('the launcher is not built; run `npm ci` (or `npm run build`) in the package directory', [
      `${LAUNCHER_PATH}: ${(err as Error).message}`,
    ], err);
  }
  return LAUNCHER_PATH;
}

/** Whether the native build is present, for `doctor`. */
export function nativeBuildStatus(): { addon: string; launcher: string; ok: boolean } {
  let ok = true;
  const check = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (err) {
      ok = false;
      return (err as Error).message;
    }
  };
  return { addon: check(nativeAddon), launcher: check(launcherPath), ok };
}
