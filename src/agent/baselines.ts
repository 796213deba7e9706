// The baselines the API may build on: the node's runtime default and the files
// of the agent's --baseline-dir, each read once (regular files only, size
// capped, never a FIFO or device) and validated, then served from memory. A
// request names one; it never names a path.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { InputError, UsageError } from '../errors.js';
import { parseBaselineText } from '../profile/baseline.js';
import type { Profile } from '../profile/model.js';
import { NODE_DEFAULT_BASELINE } from '../profile/render.js';

const MAX_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 256;
/** A baseline's name: a file name, no path. */
export const BASELINE_NAME = /^[A-Za-z0-9][\w.+-]{0,254}$/;

type Entry = { profile: Profile } | { problem: string };

/**
 * Reads a regular file of at most MAX_BYTES without ever blocking on a FIFO or
 * reading a device; a symlink is followed only when `follow` (the node default).
 */
function readRegularFile(file: string, follow: boolean): string {
  const pre = follow ? statSync(file) : lstatSync(file);
  if (pre.isSymbolicLink()) throw new InputError(file, ['a symbolic link (only regular files of --baseline-dir are read)']);
  if (!pre.isFile()) throw new InputError(file, ['not a regular file']);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (follow ? 0 : constants.O_NOFOLLOW));
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.ino !== pre.ino || st.dev !== pre.dev) throw new InputError(file, ['not a regular file (it changed while being opened)']);
    if (st.size > MAX_BYTES) throw new InputError(file, [`larger than ${MAX_BYTES} bytes`]);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function load(file: string, follow: boolean): Entry {
  try {
    return { profile: parseBaselineText(readRegularFile(file, follow), file) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { problem: err instanceof InputError ? err.message : `${file}: cannot read (${e.code ?? e.message})` };
  }
}

export class BaselineCatalog {
  private constructor(
    readonly dir: string | undefined,
    private readonly named: Map<string, Entry>,
    private readonly nodeDefault: Entry | undefined,
  ) {}

  /** Reads the node default (when installed) and every file of `dir`; a bad file is logged and refused when named. */
  static open(dir: string | undefined, log: Logger, defaultFile = NODE_DEFAULT_BASELINE): BaselineCatalog {
    const named = new Map<string, Entry>();
    if (dir !== undefined) {
      let names: string[];
      try {
        if (!statSync(dir).isDirectory()) throw new UsageError(`--baseline-dir ${dir}: not a directory`);
        names = readdirSync(dir).filter((n) => BASELINE_NAME.test(n)).sort();
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`--baseline-dir ${dir}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (names.length > MAX_FILES) throw new UsageError(`--baseline-dir ${dir}: ${names.length} files, at most ${MAX_FILES} baselines are read`);
      for (const name of names) {
        const entry = load(join(dir, name), false);
        if ('problem' in entry) log.warn({ baseline: name, reason: entry.problem }, 'baseline not usable; requests naming it are refused');
        named.set(name, entry);
      }
    }
    let nodeDefault: Entry | undefined;
    try {
      statSync(defaultFile);
      nodeDefault = load(defaultFile, true);
    } catch {
      nodeDefault = undefined; // not installed: "default" means no baseline, as in `generate`
    }
    if (nodeDefault && 'problem' in nodeDefault) log.warn({ baseline: defaultFile, reason: nodeDefault.problem }, 'the node default baseline is not usable');
    log.info({ baselineDir: dir, baselines: [...named.keys()], nodeDefault: nodeDefault ? defaultFile : undefined }, 'baselines loaded');
    return new BaselineCatalog(dir, named, nodeDefault);
  }

  names(): string[] {
    return [...this.named.keys()];
  }

  /** `default`, `none` or a name under --baseline-dir -> the profile (undefined: no baseline). UsageError otherwise. */
  resolve(name: string): Profile | undefined {
    if (name === 'none') return undefined;
    const entry = name === 'default' ? this.nodeDefault : this.named.get(name);
    if (name !== 'default' && entry === undefined) {
      const where = this.dir === undefined ? 'the agent was started without --baseline-dir' : `not a file of the agent's --baseline-dir ${this.dir}${this.named.size ? ` (it has: ${this.names().join(', ')})` : ' (it is empty)'}`;
      throw new UsageError(`baseline "${name}": ${where}; use "default", "none" or one of those names`);
    }
    if (entry === undefined) return undefined;
    if ('problem' in entry) throw new UsageError(`baseline "${name}" cannot be used: ${entry.problem}`);
    return entry.profile;
  }
}
