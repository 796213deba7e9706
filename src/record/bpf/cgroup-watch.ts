// Learns of cgroup v2 directories the moment they are made (inotify on every
// directory of the v2 tree, new ones included), so the bpf source knows the
// path, hence the container, of a recorded cgroup id even when that cgroup is
// gone before it could be named: a runc container of `busybox true` keeps its
// cgroup for tens of ms, its runtime state (state.json) for only a few. The
// watching runs on a worker thread of its own: the agent's event loop may be
// busy for longer than such a cgroup lives, and the id (a stat) and the
// container its path names (the runtime's state directory) must be read
// while they exist.
import type { FSWatcher } from 'node:fs';
import { statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { subdirectories } from '../../util/subdirectories.js';
import { containerIdOfPath } from '../audit/cgroup.js';
import { RuntimeContainers } from '../audit/runtime-state.js';

export type OnNewCgroup = (id: bigint, dir: string) => void;

/** A cgroup as it was when made: its id, path, and the container that path named then. */
export interface CgroupName {
  id: bigint;
  dir: string;
  containerId?: string;
  runtime?: 'runc' | 'crun';
}

interface WorkerInput {
  srCgroupWatch: { root: string; stateRoots?: string[] };
}

export interface CgroupWatchThread {
  close(): Promise<void>;
}

type Message = CgroupName | { full: number } | { ready: number };

/**
 * Watches the v2 tree under `root` on a worker thread; `onName` gets each
 * cgroup made from now on (and those there now). Resolves once the whole tree
 * is watched, or, should the thread fail, at once (the per-tick scan and the
 * state watcher remain).
 */
export function startCgroupWatchThread(root: string, stateRoots: string[] | undefined, onName: (n: CgroupName) => void, onFull: (watched: number) => void): Promise<CgroupWatchThread> {
  const input: WorkerInput = { srCgroupWatch: { root, ...(stateRoots ? { stateRoots } : {}) } };
  const worker = new Worker(new URL(import.meta.url), { workerData: input });
  const thread = { close: async () => void (await worker.terminate()) };
  return new Promise((resolve) => {
    worker.on('message', (m: Message) => {
      if ('ready' in m) resolve(thread);
      else if ('full' in m) onFull(m.full);
      else onName(m);
    });
    worker.on('error', () => resolve(thread));
    worker.on('exit', () => resolve(thread));
    worker.unref();
  });
}

/** The worker side: watch, and name each new cgroup while its runtime's state still exists. */
function runWorker(input: WorkerInput['srCgroupWatch']): void {
  const runtimes = new RuntimeContainers(input.stateRoots);
  const watcher = new CgroupWatcher((id, dir) => {
    const name: CgroupName = { id, dir };
    const containerId = containerIdOfPath(dir.slice(input.root.length), (x) => runtimes.has(x));
    if (containerId) {
      name.containerId = containerId;
      const runtime = runtimes.get(containerId)?.runtime;
      if (runtime) name.runtime = runtime;
    }
    parentPort!.postMessage(name);
  }, () => parentPort!.postMessage({ full: watcher.size }));
  watcher.watchTree(input.root);
  parentPort!.postMessage({ ready: watcher.size });
}

export class CgroupWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private warned = false;

  constructor(
    private readonly onNew: OnNewCgroup,
    /** Called once when the bound is reached: cgroups under unwatched directories are left to the per-tick scan. */
    private readonly onFull: () => void,
    private readonly maxWatches = 16384,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Watches a cgroup directory for new child cgroups (and the children it has now). */
  watchTree(dir: string): void {
    if (this.watchers.has(dir)) return;
    if (this.watchers.size >= this.maxWatches) {
      if (!this.warned) this.onFull();
      this.warned = true;
      return;
    }
    try {
      const w = watch(dir, (event, name) => {
        if (event === 'rename' && name) this.onName(join(dir, name.toString()));
      });
      w.on('error', () => this.unwatch(dir));
      this.watchers.set(dir, w);
    } catch {
      return; // removed meanwhile, or not watchable: the per-tick scan remains
    }
    // Children made before the watch was in place (a pod's cgroup and its first container's in one go).
    for (const child of subdirectories(dir)) if (!this.watchers.has(child)) this.onName(child);
  }

  private onName(path: string): void {
    let id: bigint;
    try {
      const st = statSync(path, { bigint: true });
      if (!st.isDirectory()) return;
      id = st.ino;
    } catch {
      this.unwatch(path); // rmdir: the directory is gone
      return;
    }
    this.watchTree(path);
    this.onNew(id, path);
  }

  private unwatch(dir: string): void {
    const w = this.watchers.get(dir);
    if (!w) return;
    w.close();
    this.watchers.delete(dir);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}


if (!isMainThread && (workerData as Partial<WorkerInput> | undefined)?.srCgroupWatch) runWorker((workerData as WorkerInput).srCgroupWatch);
