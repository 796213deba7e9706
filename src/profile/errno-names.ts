// containers-common writes errno *names* (`defaultErrno`, per-rule `errno`)
// beside the numeric OCI fields. Folded into the numbers before the OCI parser
// sees the document, so every loader reads the real runtime default files.
import { constants as osConstants } from 'node:os';
import { describe, isRecord } from './json-input.js';
import type { Problems } from './json-input.js';

function errnoNumber(name: string): number | undefined {
  return (osConstants.errno as Record<string, number>)[name];
}

/**
 * containers-common writes `defaultErrno` and per-rule `errno` (names) next to
 * the numeric `defaultErrnoRet`/`errnoRet`. Check that they agree, fill the
 * number from the name when only the name is there, and drop the names so the
 * OCI parser sees a standard document.
 */
export function foldErrnoNames(doc: Record<string, unknown>, problems: Problems): Record<string, unknown> {
  const fold = (obj: Record<string, unknown>, nameKey: string, retKey: string, path: string) => {
    if (obj[nameKey] === undefined) return obj;
    const copy = { ...obj };
    const name = copy[nameKey];
    delete copy[nameKey];
    const nr = typeof name === 'string' ? errnoNumber(name) : undefined;
    if (nr === undefined) {
      problems.add(`${path}${nameKey}`, `unknown errno name ${describe(name)}`);
      return copy;
    }
    if (copy[retKey] === undefined) copy[retKey] = nr;
    else if (copy[retKey] !== nr)
      problems.add(`${path}${nameKey}`, `${name} is ${nr}, but ${retKey} says ${describe(copy[retKey])}`);
    return copy;
  };
  const out = fold(doc, 'defaultErrno', 'defaultErrnoRet', '');
  if (Array.isArray(out.syscalls))
    out.syscalls = out.syscalls.map((r, i) => (isRecord(r) ? fold(r, 'errno', 'errnoRet', `syscalls[${i}].`) : r));
  return out;
}

