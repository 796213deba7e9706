// errno numbers -> names and human strings, from Node's own tables.
import util from 'node:util';

/** `2` (or `-2`) → `ENOENT`; unknown numbers become `errno 1234`. */
export function errnoName(errno: number): string {
  try {
    return util.getSystemErrorName(-Math.abs(errno));
  } catch {
    return `errno ${Math.abs(errno)}`;
  }
}

/** `2` → `no such file or directory`. */
export function errnoMessage(errno: number): string {
  const entry = util.getSystemErrorMap().get(-Math.abs(errno));
  return entry ? entry[1] : errnoName(errno);
}
