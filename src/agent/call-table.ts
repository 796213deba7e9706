// A de-duplicated set of observed calls keyed by (arch, number): counts add
// up, watched argument values merge as a bounded set. Used per image and per
// runtime; the same merge serves live drains, journal replay and the join of
// an image's calls with its runtime's (unionArgValues).
import type { ArgValues, Observation } from '../profile/recording.js';
import { sortObservations } from '../profile/recording.js';

/** Distinct argument tuples kept per syscall across all containers of an image. */
export const MAX_ARG_TUPLES = 256;

interface Entry {
  arch: string;
  nr: number;
  syscall?: string;
  count: number;
  args?: ArgSet;
}

/** Distinct argument tuples by their text, at most MAX_ARG_TUPLES of them. */
interface ArgSet {
  names: string[];
  values: Map<string, string[]>;
  overflowed: boolean;
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
      if (o.args) addArgValues((e.args ??= emptyArgSet(o.args.names)), o.args);
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

function emptyArgSet(names: readonly string[]): ArgSet {
  return { names: [...names], values: new Map(), overflowed: false };
}

/**
 * Adds distinct tuples up to MAX_ARG_TUPLES; past it the set is marked
 * overflowed (generate then writes no condition for the call: values were lost).
 */
function addArgValues(set: ArgSet, a: ArgValues): void {
  if (a.overflowed) set.overflowed = true;
  for (const tuple of a.values) {
    const key = tuple.join(',');
    if (set.values.has(key)) continue;
    if (set.values.size >= MAX_ARG_TUPLES) {
      set.overflowed = true;
      continue;
    }
    set.values.set(key, [...tuple]);
  }
}

/** The union of two calls' argument values (a's first, then b's new ones), bounded as a CallTable bounds it. */
export function unionArgValues(a: ArgValues, b: ArgValues): ArgValues {
  const set = emptyArgSet(a.names);
  addArgValues(set, a);
  addArgValues(set, b);
  return { names: set.names, values: [...set.values.values()], overflowed: set.overflowed };
}
