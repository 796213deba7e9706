// Syscalls whose arguments matter for security: the recorder keeps the
// distinct values of these arguments (bounded in C, 64 tuples per syscall).
import { argPosition } from '../seccomp/arg-positions.js';
import { archByName, auditArchOf } from '../seccomp/arch.js';
import { archToken, syscallNumber } from '../seccomp/libseccomp.js';

export interface WatchSpec {
  syscall: string;
  /** What the kept arguments hold (one or two); where they sit per arch is seccomp/arg-positions.ts's. */
  names: [string] | [string, string];
}

export const WATCHED: readonly WatchSpec[] = [
  { syscall: 'socket', names: ['domain', 'type'] },
  { syscall: 'clone', names: ['flags'] },
  { syscall: 'ioctl', names: ['request'] },
  { syscall: 'prctl', names: ['option'] },
  { syscall: 'personality', names: ['persona'] },
  { syscall: 'fcntl', names: ['cmd'] },
  { syscall: 'fcntl64', names: ['cmd'] },
  { syscall: 'setsockopt', names: ['level', 'optname'] },
  { syscall: 'unshare', names: ['flags'] },
];

export interface ResolvedWatch {
  arch: string;
  nr: number;
  spec: WatchSpec;
  /** Argument indexes on this arch, in the order of spec.names. */
  args: [number] | [number, number];
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
      if (nr === undefined || nr < 0) continue;
      const at = spec.names.map((n) => argPosition(spec.syscall, n, arch));
      if (at.some((i) => i === undefined)) continue;
      out.push({ arch, nr, spec, args: at as [number] | [number, number] });
    }
  }
  return out;
}

/** The watches as the native session takes them: quadruples (audit arch, nr, arg index, second arg index or -1). */
export function watchArray(watches: ResolvedWatch[] | undefined): Int32Array {
  const list = watches ?? [];
  const out = new Int32Array(list.length * 4);
  list.forEach((w, i) => out.set([(auditArchOf(w.arch) ?? 0) | 0, w.nr, w.args[0], w.args[1] ?? -1], 4 * i));
  return out;
}
