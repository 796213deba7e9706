// errno numbers -> names and human strings, from Node's own tables (libuv's
// map lacks a few that exec can return, so those have their text here).
import { constants } from 'node:os';
import util from 'node:util';

const EXTRA: Record<string, string> = {
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file is busy',
  E2BIG: 'argument list too long',
  ELIBBAD: 'accessing a corrupted shared library',
};

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!NAMES.has(value)) NAMES.set(value, name);

/** `2` (or `-2`) → `ENOENT`; unknown numbers become `errno 1234`. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  const mapped = util.getSystemErrorMap().get(-n);
  return mapped?.[0] ?? NAMES.get(n) ?? `errno ${n}`;
}

/** `2` → `no such file or directory`. */
export function errnoMessage(errno: number): string {
  const n = Math.abs(errno);
  const mapped = util.getSystemErrorMap().get(-n);
  if (mapped) return mapped[1];
  const name = errnoName(n);
  return EXTRA[name] ?? name;
}
