// The cgroup v2 hierarchy as the bpf source needs it: where it is mounted
// (/sys/fs/cgroup on pure v2, /sys/fs/cgroup/unified on hybrid hosts), the id
// a cgroup directory has (its inode number, which is what
// bpf_get_current_cgroup_id returns), and private cgroups for `record`.
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../../errors.js';

const CANDIDATES = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/** Mount points of cgroup2 file systems, from /proc/self/mountinfo. */
function cgroup2Mounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup2') out.push(line.split(' ')[4]);
  }
  return out;
}

/** Where the v2 hierarchy is mounted; throws UnsupportedError naming what was looked at. */
export function cgroup2Root(): string {
  const mounts = cgroup2Mounts();
  const root = CANDIDATES.find((c) => mounts.includes(c)) ?? mounts[0];
  if (!root) throw new UnsupportedError('no cgroup v2 hierarchy is mounted (the bpf source keys on cgroup v2 ids)', ['/proc/self/mountinfo: no cgroup2 mount']);
  return root;
}

/** The id of a cgroup directory (kernfs inode number = cgroup id). */
export function cgroupId(dir: string): bigint {
  return statSync(dir, { bigint: true }).ino;
}

/** The v2 cgroup path of a process, relative to the v2 root ('' when unknown). */
export function cgroupOfPid(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

/** Whether any process is left in a cgroup (cgroup.events `populated`). */
export function isPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

export interface PrivateCgroup {
  dir: string;
  id: bigint;
  /** Removes the directory (it must be empty); never throws. */
  remove(): void;
}

/** Creates `<v2 root>/seccomp-recorder/<name>` for one recorded command. */
export function createPrivateCgroup(name: string): PrivateCgroup {
  const root = cgroup2Root();
  const parent = join(root, 'seccomp-recorder');
  const dir = join(parent, name);
  try {
    mkdirSync(parent, { recursive: true });
    mkdirSync(dir);
  } catch (err) {
    throw new UnsupportedError(`cannot create a cgroup for the command under ${parent}: ${(err as Error).message}`, [], err);
  }
  return {
    dir,
    id: cgroupId(dir),
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        /* still populated by a survivor we stopped waiting for: left for the next run to see */
      }
    },
  };
}

/** Resolves when the cgroup is empty, or when `stop` is called; polls cgroup.events. */
export function waitUntilEmpty(dir: string, intervalMs = 20): { done: Promise<boolean>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let finish: (emptied: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => {
    finish = (emptied) => {
      if (timer) clearTimeout(timer);
      resolve(emptied);
    };
    const tick = () => {
      if (!isPopulated(dir)) return finish(true);
      timer = setTimeout(tick, intervalMs);
    };
    tick();
  });
  return { done, stop: () => finish(false) };
}
