// The containers the OCI runtimes on this node know, from their state
// directories: lets a cgroup named after a plain container id (`runc run ID`
// with no cgroupsPath puts the container in `/ID`) be recognised, and gives
// the container's bundle (where config.json and its annotations live).
// Re-listed when asked about an id it does not know, at most once per
// `minIntervalMs` per id (a container started a moment ago is found at once;
// a host cgroup name asked about on every record costs one readdir a second).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subdirectories, subdirectoryNames } from '../../util/subdirectories.js';

/** runc (also podman/containerd's runc), crun, containerd's runc shim root per namespace. */
export const DEFAULT_STATE_ROOTS = ['/run/runc', '/run/crun', '/run/containerd/runc/*'];
/** Where engines keep a container's bundle (config.json with its annotations), by id. */
export const BUNDLE_PATTERNS = ['/run/containerd/io.containerd.runtime.v2.task/*/{id}', '/run/containers/storage/overlay-containers/{id}/userdata'];

export interface RuntimeContainer {
  id: string;
  runtime: 'runc' | 'crun';
  stateDir: string;
}


/** The runtime whose state a root holds (crun's own, else runc's format). */
export function runtimeOfRoot(root: string): 'runc' | 'crun' {
  return root.includes('crun') ? 'crun' : 'runc';
}

/** Expands one trailing `/*` level. */
export function expand(root: string): string[] {
  if (!root.endsWith('/*')) return [root];
  const base = root.slice(0, -2);
  return subdirectories(base);
}

export class RuntimeContainers {
  private known = new Map<string, RuntimeContainer>();
  /** Ids asked about and not found, with when. */
  private misses = new Map<string, number>();

  constructor(
    private readonly roots = DEFAULT_STATE_ROOTS,
    private readonly minIntervalMs = 1000,
  ) {}

  private relist(): void {
    const next = new Map<string, RuntimeContainer>();
    for (const pattern of this.roots)
      for (const root of expand(pattern)) {
        const runtime = runtimeOfRoot(root);
        for (const id of subdirectoryNames(root)) next.set(id, { id, runtime, stateDir: join(root, id) });
      }
    this.known = next;
  }

  /** Whether a runtime knows this id (re-lists when it does not, rate-limited). */
  has(id: string, now = Date.now()): boolean {
    if (this.known.has(id)) return true;
    const missed = this.misses.get(id);
    if (missed !== undefined && now - missed < this.minIntervalMs) return false;
    this.relist();
    if (this.known.has(id)) {
      this.misses.delete(id);
      return true;
    }
    this.misses.set(id, now);
    if (this.misses.size > 4096) this.misses.delete(this.misses.keys().next().value as string);
    return false;
  }

  get(id: string): RuntimeContainer | undefined {
    return this.has(id) ? this.known.get(id) : undefined;
  }

  /**
   * Directories that may hold the container's config.json, most specific
   * first: the bundle its runtime recorded, then containerd's and CRI-O's.
   */
  bundleCandidates(id: string): string[] {
    const out: string[] = [];
    const recorded = this.bundleOf(id);
    if (recorded) out.push(recorded);
    for (const pattern of BUNDLE_PATTERNS) for (const root of expand(pattern.slice(0, pattern.indexOf('/{id}')))) out.push(join(root, id) + pattern.slice(pattern.indexOf('{id}') + 4));
    return out;
  }

  /** The bundle directory the runtime recorded for the container, if it can be read. */
  bundleOf(id: string): string | undefined {
    const c = this.get(id);
    if (!c) return undefined;
    try {
      if (c.runtime === 'crun') {
        const status = JSON.parse(readFileSync(join(c.stateDir, 'status'), 'utf8')) as { bundle?: unknown };
        return typeof status.bundle === 'string' ? status.bundle : undefined;
      }
      const state = JSON.parse(readFileSync(join(c.stateDir, 'state.json'), 'utf8')) as { config?: { labels?: unknown } };
      const labels = Array.isArray(state.config?.labels) ? (state.config.labels as unknown[]) : [];
      const label = labels.find((l): l is string => typeof l === 'string' && l.startsWith('bundle='));
      return label?.slice(7);
    } catch {
      return undefined;
    }
  }
}
