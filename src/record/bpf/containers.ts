// Which containers run on this node and which cgroup v2 directories they sit
// in, for the bpf source: the OCI runtimes' state directories (runc
// state.json, crun status, containerd's runc root) give each container's pid,
// bundle and creation time; the pid's /proc/PID/cgroup `0::` line gives its v2
// cgroup on any layout, runc's recorded cgroup paths when the pid is gone.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../../profile/json-input.js';
import { DEFAULT_STATE_ROOTS, expand, runtimeOfRoot } from '../audit/runtime-state.js';
import { subdirectories } from '../../util/subdirectories.js';
import { cgroupOfPid } from './cgroup2.js';

export interface NodeContainer {
  id: string;
  runtime: string;
  stateDir: string;
  pid?: number;
  bundle?: string;
  createdAt?: Date;
  /** Started (its entrypoint exec'd): runc and crun keep exec.fifo only until `start`. */
  running: boolean;
  /** Absolute v2 cgroup directories the container is in. */
  cgroupDirs: string[];
}


function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isRecord(doc) ? doc : undefined;
  } catch {
    return undefined;
  }
}

const positiveInt = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
const date = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);

/** One container from its runtime state directory; undefined while the runtime has not written it yet. */
export function readContainer(stateDir: string, runtime: 'runc' | 'crun', v2root: string): NodeContainer | undefined {
  const id = stateDir.slice(stateDir.lastIndexOf('/') + 1);
  const doc = readJson(join(stateDir, runtime === 'crun' ? 'status' : 'state.json'));
  if (!doc) return undefined;
  const c: NodeContainer = { id, runtime, stateDir, running: !existsSync(join(stateDir, 'exec.fifo')), cgroupDirs: [] };
  const dirs = new Set<string>();
  if (runtime === 'crun') {
    c.pid = positiveInt(doc.pid);
    if (typeof doc.bundle === 'string') c.bundle = doc.bundle;
    c.createdAt = date(doc.created);
  } else {
    c.pid = positiveInt(doc.init_process_pid);
    c.createdAt = date(doc.created);
    const config = isRecord(doc.config) ? doc.config : {};
    const labels = Array.isArray(config.labels) ? config.labels : [];
    const label = labels.find((l): l is string => typeof l === 'string' && l.startsWith('bundle='));
    if (label) c.bundle = label.slice(7);
    // runc records where it made the container's cgroups; on hybrid hosts the v2 one is among them.
    if (isRecord(doc.cgroup_paths)) for (const p of Object.values(doc.cgroup_paths)) if (typeof p === 'string' && p.startsWith(`${v2root}/`)) dirs.add(p);
  }
  const own = c.pid ? cgroupOfPid(c.pid) : undefined;
  if (own !== undefined) dirs.add(join(v2root, own));
  c.cgroupDirs = [...dirs];
  return c;
}

/** Every container the runtimes' state directories hold now. */
export function nodeContainers(v2root: string, roots: readonly string[] = DEFAULT_STATE_ROOTS): NodeContainer[] {
  const out: NodeContainer[] = [];
  for (const pattern of roots) {
    for (const base of expand(pattern)) {
      const runtime = runtimeOfRoot(base);
      for (const dir of subdirectories(base)) {
        const c = readContainer(dir, runtime, v2root);
        if (c) out.push(c);
      }
    }
  }
  return out;
}

/** Every cgroup directory under the v2 root (the root included), with its id. */
export function walkCgroups(v2root: string, limit = 100_000): Map<bigint, string> {
  const out = new Map<bigint, string>();
  const stack = [v2root];
  while (stack.length && out.size < limit) {
    const dir = stack.pop()!;
    try {
      out.set(statSync(dir, { bigint: true }).ino, dir);
    } catch {
      continue; // removed meanwhile
    }
    stack.push(...subdirectories(dir));
  }
  return out;
}

/**
 * Privileged as runtimes spell it in the bundle: no seccomp section and
 * CAP_SYS_ADMIN in the bounding set (what `--privileged` and Kubernetes'
 * `privileged: true` produce). An unconfined but unprivileged container is not.
 */
export function bundleIsPrivileged(bundle: string | undefined): boolean {
  if (!bundle) return false;
  const doc = readJson(join(bundle, 'config.json'));
  if (!doc) return false;
  const linux = isRecord(doc.linux) ? doc.linux : {};
  if (linux.seccomp !== undefined && linux.seccomp !== null) return false;
  const proc = isRecord(doc.process) ? doc.process : {};
  const caps = isRecord(proc.capabilities) ? proc.capabilities : {};
  return Array.isArray(caps.bounding) && caps.bounding.includes('CAP_SYS_ADMIN');
}
