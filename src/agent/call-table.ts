// A de-duplicated set of observed calls keyed by (arch, number): counts add
// up, watched argument values merge as a bounded set. Used per image and per
// runtime; the same merge serves live drains and journal replay.
import type { ArgValues, Observation } from '../profile/recording.js';
import { sortObservations } from '../profile/recording.js';

/** Distinct argument tuples kept per syscall across all containers of an image. */
export const MAX_ARG_TUPLES = 256;

interface Entry {
  arch: string;
  nr: number;
  syscall?: string;
  count: number;
  args?: { names: string[]; values: Map<string, string[]>; overflowed: boolean };
}

export function callLabel(o: { arch: string; nr: number; syscall?: string }): string {
  return `${o.arch}/${o.syscall ?? `#${o.nr}`}`;
}

export class CallTable {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  /** Merges observations in; returns the labels of calls not seen before. */
  add(list: readonly Observation[]): string[] {
    const added: string[] = [];
    for (const o of list) {
      const key = `${o.arch}/${o.nr}`;
      let e = this.entries.get(key);
      if (!e) {
        e = { arch: o.arch, nr: o.nr, count: 0 };
        if (o.syscall) e.syscall = o.syscall;
        this.entries.set(key, e);
        added.push(callLabel(o));
      }
      e.count += o.count;
      if (o.args) mergeArgs(e, o.args);
    }
    return added;
  }

  labels(): string[] {
    return [...this.entries.values()].map(callLabel).sort();
  }

  /** Sorted copies, in the Recording's order. */
  observations(): Observation[] {
    return sortObservations(
      [...this.entries.values()].map((e) => {
        const o: Observation = { arch: e.arch, nr: e.nr, count: e.count };
        if (e.syscall) o.syscall = e.syscall;
        if (e.args) o.args = { names: [...e.args.names], values: [...e.args.values.values()].sort(compareTuples), overflowed: e.args.overflowed };
        return o;
      }),
    );
  }
}

function compareTuples(a: string[], b: string[]): number {
  return a.join(',').localeCompare(b.join(','));
}

function mergeArgs(e: Entry, a: ArgValues): void {
  e.args ??= { names: [...a.names], values: new Map(), overflowed: false };
  if (a.overflowed) e.args.overflowed = true;
  for (const tuple of a.values) {
    const key = tuple.join(',');
    if (e.args.values.has(key)) continue;
    if (e.args.values.size >= MAX_ARG_TUPLES) {
      e.args.overflowed = true;
      continue;
    }
    e.args.values.set(key, [...tuple]);
  }
}
