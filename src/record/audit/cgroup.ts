// pid -> container through /proc/PID/cgroup. Audit records carry a pid but no
// container: the mapping must be read while the process lives, and is cached
// so the records of a process that has exited since (auditd's log lags) still
// find their container.
//
// Layouts recognised (innermost segment wins, so nested engines resolve to
// the inner container); cgroup v2 (`0::`) is preferred, then name=systemd,
// then the v1 controllers:
//   runc/crun, own id         /<id>                    (id known from the runtime's state dir)
//   docker, cgroupfs          /docker/<64hex>
//   systemd driver            /system.slice/docker-<64hex>.scope
//   containerd (k8s)          /kubepods/burstable/pod<uid>/<64hex>
//                             /kubepods.slice/.../cri-containerd-<64hex>.scope
//   CRI-O                     /kubepods.slice/.../crio-<64hex>.scope, .../crio-<64hex>
//   podman                    /machine.slice/libpod-<64hex>.scope[/container], /libpod_parent/libpod-<64hex>
// conmon's own cgroups (crio-conmon-, libpod-conmon-) are not containers.
import { readFileSync } from 'node:fs';

const HEX64 = /^[0-9a-f]{64}$/;
const PREFIXES = ['cri-containerd-', 'docker-', 'crio-', 'libpod-', 'containerd-'];
/** Sub-cgroups a runtime makes inside the container's own (crun's systemd subgroup). */
const INNER = new Set(['container', 'supervisor']);

export type IsKnownId = (id: string) => boolean;

/** The cgroup paths of a /proc/PID/cgroup text, most telling first. */
export function cgroupPaths(text: string): string[] {
  const v2: string[] = [];
  const systemd: string[] = [];
  const v1: string[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') v2.push(path);
    else if (controllers === 'name=systemd') systemd.push(path);
    else v1.push(path);
  }
  return [...v2, ...systemd, ...v1];
}

/** The container id one cgroup path names, if any. */
export function containerIdOfPath(path: string, isKnown?: IsKnownId): string | undefined {
  const segments = path.split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    let s = segments[i];
    if (!s || INNER.has(s)) continue;
    if (s.endsWith('.scope')) s = s.slice(0, -6);
    if (s.includes('conmon')) continue;
    for (const p of PREFIXES) if (s.startsWith(p)) s = s.slice(p.length);
    if (HEX64.test(s)) return s;
    if (isKnown?.(s)) return s;
  }
  return undefined;
}

export interface CgroupMatch {
  containerId?: string;
  /** The path the id was found in, or the most telling path when none was. */
  cgroup: string;
}

export function containerIdOfCgroupFile(text: string, isKnown?: IsKnownId): CgroupMatch {
  const paths = cgroupPaths(text);
  for (const p of paths) {
    const id = containerIdOfPath(p, isKnown);
    if (id) return { containerId: id, cgroup: p };
  }
  return { cgroup: paths[0] ?? '' };
}

export type Attribution =
  | { status: 'container'; containerId: string; cgroup: string }
  /** Alive (or cached) but in no container's cgroup. */
  | { status: 'host'; cgroup: string }
  /** Exited before it could be looked up. */
  | { status: 'gone' };

export interface AttributorOptions {
  procRoot?: string;
  /** Re-read /proc for a cached pid after this long (pids are reused). */
  refreshMs?: number;
  /** Keep answering for an exited pid this long after it was last read. */
  keepMs?: number;
  maxEntries?: number;
  isKnown?: IsKnownId;
}

interface Entry {
  result: Attribution;
  readAt: number;
}

export class PidAttributor {
  private readonly cache = new Map<number, Entry>();
  private readonly procRoot: string;
  private readonly refreshMs: number;
  private readonly keepMs: number;
  private readonly maxEntries: number;
  readonly stats = { lookups: 0, procReads: 0, fromCache: 0, staleAnswers: 0, gone: 0 };

  constructor(private readonly opts: AttributorOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.refreshMs = opts.refreshMs ?? 1000;
    this.keepMs = opts.keepMs ?? 5 * 60 * 1000;
    this.maxEntries = opts.maxEntries ?? 65536;
  }

  /**
   * Reads /proc now for a pid not yet cached (a source calls this as early as
   * it can, e.g. on the first record of a pid, to beat the process's exit).
   */
  attribute(pid: number, now = Date.now()): Attribution {
    this.stats.lookups++;
    const e = this.cache.get(pid);
    if (e && now - e.readAt < this.refreshMs) {
      this.stats.fromCache++;
      return e.result;
    }
    let text: string;
    try {
      this.stats.procReads++;
      text = readFileSync(`${this.procRoot}/${pid}/cgroup`, 'latin1');
    } catch {
      if (e && now - e.readAt < this.keepMs) {
        this.stats.staleAnswers++;
        return e.result;
      }
      this.stats.gone++;
      return { status: 'gone' };
    }
    const m = containerIdOfCgroupFile(text, this.opts.isKnown);
    const result: Attribution = m.containerId ? { status: 'container', containerId: m.containerId, cgroup: m.cgroup } : { status: 'host', cgroup: m.cgroup };
    this.cache.delete(pid);
    this.cache.set(pid, { result, readAt: now });
    // Oldest first out: a Map iterates in insertion order.
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as number);
    return result;
  }

  get size(): number {
    return this.cache.size;
  }
}
