// Typed reads of a parsed YAML tree (maps, sequences, scalars) that keep the
// node for its position: what the manifest walkers and rules look at, never
// plain JS copies, so every finding can name its line and patch can edit in place.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair, YAMLMap, YAMLSeq } from 'yaml';

export function pairOf(map: YAMLMap | undefined, key: string): Pair<unknown, unknown> | undefined {
  if (!map) return undefined;
  return map.items.find((p) => (isScalar(p.key) ? p.key.value === key : p.key === key)) as Pair<unknown, unknown> | undefined;
}

/** The value node under `key`, or undefined. */
export function nodeAt(map: YAMLMap | undefined, key: string): Node | undefined {
  const v = pairOf(map, key)?.value;
  return v && typeof v === 'object' && 'range' in (v as object) ? (v as Node) : undefined;
}

export function mapAt(map: YAMLMap | undefined, ...path: string[]): YAMLMap | undefined {
  let cur: YAMLMap | undefined = map;
  for (const key of path) {
    const next = nodeAt(cur, key);
    cur = isMap(next) ? (next as YAMLMap) : undefined;
    if (!cur) return undefined;
  }
  return cur;
}

export function seqAt(map: YAMLMap | undefined, key: string): YAMLSeq | undefined {
  const v = nodeAt(map, key);
  return isSeq(v) ? (v as YAMLSeq) : undefined;
}

/** A scalar's JS value (string, number, boolean, null), or undefined when absent or not a scalar. */
export function scalarAt(map: YAMLMap | undefined, key: string): unknown {
  const v = nodeAt(map, key);
  return isScalar(v) ? v.value : undefined;
}

export function stringAt(map: YAMLMap | undefined, key: string): string | undefined {
  const v = scalarAt(map, key);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** The key node of `key` when present (its line is where a user looks), else the map itself. */
export function anchorOf(map: YAMLMap | undefined, key: string): Node | undefined {
  const k = pairOf(map, key)?.key;
  return isScalar(k) ? k : map;
}

/** A map of string values (annotations, labels); non-strings are skipped. */
export function stringMap(map: YAMLMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of map?.items ?? []) {
    const k = isScalar(p.key) ? p.key.value : undefined;
    const v = isScalar(p.value) ? p.value.value : undefined;
    if (typeof k === 'string' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = String(v);
  }
  return out;
}

/** The scalar strings of a sequence (capability lists). */
export function stringsOf(seq: YAMLSeq | undefined): { value: string; node: Node }[] {
  const out: { value: string; node: Node }[] = [];
  for (const item of seq?.items ?? []) if (isScalar(item) && typeof item.value === 'string') out.push({ value: item.value, node: item });
  return out;
}
