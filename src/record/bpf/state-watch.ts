// Notices a new container the moment its runtime makes its state directory
// (inotify on /run/runc, /run/crun, containerd's runc roots), so the bpf
// source can name a container's cgroup while it runs, even one that lives
// for a few milliseconds; the per-tick scan stays as the fallback.
import type { FSWatcher } from 'node:fs';
import { existsSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { expand, runtimeOfRoot } from '../audit/runtime-state.js';

export type OnNewState = (stateDir: string, runtime: 'runc' | 'crun') => void;

export class StateWatcher {
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    private readonly roots: readonly string[],
    private readonly onNew: OnNewState,
  ) {}

  /** Watches every state root that exists now, and the parents of those that do not yet. */
  refresh(): void {
    for (const pattern of this.roots) {
      const wildcard = pattern.endsWith('/*');
      const fixed = wildcard ? pattern.slice(0, -2) : pattern;
      if (!existsSync(fixed)) {
        this.watchDir(dirname(fixed), (name) => name === basename(fixed) && this.refresh());
        continue;
      }
      if (wildcard) this.watchDir(fixed, () => this.refresh());
      for (const base of expand(pattern)) {
        const runtime = runtimeOfRoot(base);
        this.watchDir(base, (name) => this.onNew(join(base, name), runtime));
      }
    }
  }

  private watchDir(dir: string, onName: (name: string) => void): void {
    if (this.watchers.has(dir) || !existsSync(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (event, name) => {
        if (event === 'rename' && name) onName(name.toString());
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      /* not watchable (permissions, gone): the per-tick scan still finds its containers */
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
