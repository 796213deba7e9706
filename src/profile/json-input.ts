// Reading JSON documents at the edge: a parse error names the file and the
// line; integers beyond 2^53 (which JSON.parse would silently round) are read
// exactly, as decimal strings the field parsers accept.
import { InputError } from '../errors.js';

export function parseJsonDocument(text: string, file: string): unknown {
  try {
    return JSON.parse(quoteBigIntegers(text));
  } catch (err) {
    throw new InputError(file, [describeJsonError(text, err as Error)], err);
  }
}

/**
 * Wraps integer literals too long to be exact doubles in quotes, outside
 * strings only. Positions shift only after such a literal, so error offsets
 * in ordinary documents still point at the right place.
 */
export function quoteBigIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i++;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      i++;
      continue;
    }
    if (ch >= '0' && ch <= '9') {
      let j = i;
      while (j < text.length && text[j] >= '0' && text[j] <= '9') j++;
      const digits = text.slice(i, j);
      const isInteger = !/[.eE]/.test(text[j] ?? '');
      out += isInteger && !Number.isSafeInteger(Number(digits)) ? `"${digits}"` : digits;
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
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
