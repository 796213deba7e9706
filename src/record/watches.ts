// Syscalls whose arguments matter for security: the recorder keeps the
// distinct values of these arguments (bounded in C, 64 tuples per syscall).
import { archByName, auditArchOf } from '../seccomp/arch.js';
import { archToken, syscallNumber } from '../seccomp/libseccomp.js';

export interface WatchSpec {
  syscall: string;
  /** Argument indexes (one or two) and what they hold. */
  args: [number] | [number, number];
  names: string[];
}

export const WATCHED: readonly WatchSpec[] = [
  { syscall: 'socket', args: [0], names: ['domain'] },
  { syscall: 'clone', args: [0], names: ['flags'] },
  { syscall: 'ioctl', args: [1], names: ['request'] },
  { syscall: 'prctl', args: [0], names: ['option'] },
  { syscall: 'personality', args: [0], names: ['persona'] },
  { syscall: 'fcntl', args: [1], names: ['cmd'] },
  { syscall: 'fcntl64', args: [1], names: ['cmd'] },
  { syscall: 'setsockopt', args: [1, 2], names: ['level', 'optname'] },
  { syscall: 'unshare', args: [0], names: ['flags'] },
];

export interface ResolvedWatch {
  arch: string;
  nr: number;
  spec: WatchSpec;
}

/** Resolves the watch list for each arch; syscalls an arch lacks are skipped. */
export function resolveWatches(arches: string[]): ResolvedWatch[] {
  const out: ResolvedWatch[] = [];
  for (const arch of arches) {
    const info = archByName(arch);
    const token = archToken(arch);
    if (!info || token === undefined) continue;
    for (const spec of WATCHED) {
      const nr = syscallNumber(token, spec.syscall);
      if (nr !== undefined && nr >= 0) out.push({ arch, nr, spec });
    }
  }
  return out;
}

/** The watches as the native session takes them: quadruples (audit arch, nr, arg index, second arg index or -1). */
export function watchArray(watches: ResolvedWatch[] | undefined): Int32Array {
  const list = watches ?? [];
  const out = new Int32Array(list.length * 4);
  list.forEach((w, i) => out.set([(auditArchOf(w.arch) ?? 0) | 0, w.nr, w.spec.args[0], w.spec.args[1] ?? -1], 4 * i));
  return out;
}
