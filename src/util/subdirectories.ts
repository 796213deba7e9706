// The directories directly inside a directory, for the walks over runtime
// state roots and the cgroup v2 tree: a directory that is gone or unreadable
// (a container that just ended) has none.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Names of the directories directly inside `dir`; none when it cannot be read. */
export function subdirectoryNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Paths of the directories directly inside `dir`; none when it cannot be read. */
export function subdirectories(dir: string): string[] {
  return subdirectoryNames(dir).map((name) => join(dir, name));
}
