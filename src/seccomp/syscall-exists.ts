// "Does this syscall exist on this architecture": the one answer every command
// uses (generate, explain, baseline resolution, diff, validate). A name exists
// on an arch when a rule naming it there takes effect in the filter:
// - it has a real number there (>= 0), or
// - libseccomp gives it a pseudo number but still filters it, because the arch
//   reaches it through a multiplexer: socket(2) and friends through
//   socketcall(2), the SysV IPC calls through ipc(2), on x86, s390, s390x, ppc...
//   (`socket` on x86 resolves to -101, yet a rule for it filters socketcall).
// A pseudo number the arch cannot reach (recv on x86_64: -110, but x86_64 has
// no socketcall; anything <= -10000) means absent. Which pseudo numbers are
// reachable is asked of libseccomp itself, never read off the number's range.
import { archByName, nativeArchName } from './arch.js';
import { archAdd, archRemove, archToken, check, exportBpf, initFilter, nativeArchToken, nativeSyscallNumber, releaseFilter, ruleAddArray, SCMP_ACT, syscallNumber } from './libseccomp.js';

export type Existence = 'exists' | 'absent' | 'unknown';

const EPERM = 1;
const cache = new Map<string, Existence>();
const emptySize = new Map<string, number>();

function tokenOf(arch: string): number | undefined {
  return archByName(arch) ? archToken(arch) : undefined;
}

/** Length of a one-arch filter, with or without one ALLOW rule for the (native-numbered) syscall. */
function filterSize(arch: string, token: number, nr: number | undefined): number {
  const ctx = initFilter(SCMP_ACT.errno(EPERM));
  try {
    if (arch !== nativeArchName()) {
      check(archRemove(ctx, nativeArchToken()), 'seccomp_arch_remove');
      check(archAdd(ctx, token), `seccomp_arch_add(${arch})`);
    }
    if (nr !== undefined) check(ruleAddArray(ctx, SCMP_ACT.ALLOW, nr, []), 'seccomp_rule_add_array');
    return exportBpf(ctx).length;
  } finally {
    releaseFilter(ctx);
  }
}

/** Whether libseccomp emits code for a rule naming `name` on `arch` alone (the multiplexed case). */
function reachesFilter(arch: string, token: number, name: string): boolean {
  // libseccomp takes rule numbers in the native arch's numbering and translates them by name.
  const nr = nativeSyscallNumber(name);
  if (nr === undefined) return false;
  let empty = emptySize.get(arch);
  if (empty === undefined) emptySize.set(arch, (empty = filterSize(arch, token, undefined)));
  return filterSize(arch, token, nr) > empty;
}

/**
 * 'exists' when a rule for the name takes effect on the arch, 'absent' when
 * libseccomp knows the name but the arch lacks it (or libseccomp does not know
 * the arch), 'unknown' when libseccomp knows the name on no arch it was asked about.
 */
export function syscallExistence(arch: string, name: string): Existence {
  const key = `${arch}\u0000${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const token = tokenOf(arch);
  let out: Existence;
  if (token === undefined) out = 'absent';
  else {
    const nr = syscallNumber(token, name);
    out = nr === undefined ? 'unknown' : nr >= 0 || reachesFilter(arch, token, name) ? 'exists' : 'absent';
  }
  cache.set(key, out);
  return out;
}

/** Whether a rule naming the syscall takes effect on the arch. */
export function syscallExists(arch: string, name: string): boolean {
  return syscallExistence(arch, name) === 'exists';
}

/** Whether it takes effect on at least one of the arches. */
export function existsOnAny(name: string, arches: readonly string[]): boolean {
  return arches.some((a) => syscallExists(a, name));
}

/** Over several arches: it exists on 'some', on 'none' (though known), or libseccomp knows it on none ('unknown'). */
export function nameExistence(name: string, arches: readonly string[]): 'some' | 'none' | 'unknown' {
  let known = false;
  for (const a of arches) {
    const e = syscallExistence(a, name);
    if (e === 'exists') return 'some';
    if (e === 'absent' && tokenOf(a) !== undefined) known = true;
  }
  return known ? 'none' : 'unknown';
}

/** Whether libseccomp knows the name at all (on some arch); a name it does not know resolves nowhere. */
export function knownToLibseccomp(name: string): boolean {
  return nativeSyscallNumber(name) !== undefined;
}
