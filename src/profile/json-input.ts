// Reading JSON documents at the edge: a parse error names the file and the
// line; integers beyond 2^53 (which JSON.parse would silently round) are
// reported with their path instead of being trusted.
import { InputError } from '../errors.js';

export function parseJsonDocument(text: string, file: string): unknown {
  const unsafe: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
        unsafe.push(key);
      }
      return value;
    });
  } catch (err) {
    throw new InputError(file, [describeJsonError(text, err as Error)], err);
  }
  if (unsafe.length) {
    throw new InputError(file, [
      `integer too large to read exactly (field "${unsafe[0]}"); write values above 2^53 as decimal strings`,
    ]);
  }
  return doc;
}

function describeJsonError(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return `invalid JSON: ${err.message}`;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `invalid JSON at line ${line}, column ${column}: ${err.message.replace(/ in JSON at position \d+.*$/, '')}`;
}

/** Collects problems while walking an untrusted document. */
export class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(path ? `${path}: ${message}` : message);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  throwIfAny(file: string): void {
    if (!this.empty) throw new InputError(file, this.list);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : String(v);
}
