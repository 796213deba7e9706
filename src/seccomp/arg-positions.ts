// Where each watched argument sits, per architecture: the one table the
// recorder (which registers to read), the generator (which index a condition
// names) and the baseline checks share. Also which arches reach a syscall
// only through a multiplexer (socketcall/ipc), where seccomp sees the
// multiplexer's arguments, not the call's, so no condition can be written.
import { archToken, syscallNumber } from './libseccomp.js';
import { syscallExists } from './syscall-exists.js';

/** Argument name -> index, as the kernel's generic syscall table declares them. */
const GENERIC_POSITIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  socket: { domain: 0, type: 1, protocol: 2 },
  clone: { flags: 0 },
  unshare: { flags: 0 },
  ioctl: { request: 1 },
  prctl: { option: 0 },
  personality: { persona: 0 },
  fcntl: { cmd: 1 },
  fcntl64: { cmd: 1 },
  setsockopt: { level: 1, optname: 2 },
};

/**
 * Arches whose clone takes (newsp, flags, ...): the kernel's
 * CONFIG_CLONE_BACKWARDS2, selected by s390 only (moby's default says the
 * same with its `includes.arches` rule on index 1). Every other arch has the
 * flags first (CLONE_BACKWARDS and CLONE_BACKWARDS3 move later arguments only).
 */
const CLONE_FLAGS_SECOND: ReadonlySet<string> = new Set(['s390', 's390x']);

/** The index of `arg` of `syscall` on `arch`; undefined when we do not place it. */
export function argPosition(syscall: string, arg: string, arch: string): number | undefined {
  if (syscall === 'clone' && arg === 'flags' && CLONE_FLAGS_SECOND.has(arch)) return 1;
  return GENERIC_POSITIONS[syscall]?.[arg];
}

/** The index when it is the same on every arch of the list, else undefined (one OCI rule cannot say two). */
export function argPositionOnAll(syscall: string, arg: string, arches: readonly string[]): number | undefined {
  const seen = new Set(arches.map((a) => argPosition(syscall, arg, a)));
  if (seen.size !== 1) return undefined;
  return [...seen][0];
}

/** Argument names we place for this syscall, in index order (empty when none). */
export function placedArgs(syscall: string): string[] {
  const table = GENERIC_POSITIONS[syscall] ?? {};
  return Object.keys(table).sort((a, b) => table[a] - table[b]);
}

/**
 * Arches of the list on which libseccomp reaches `syscall` through a
 * multiplexer: it gives the name a pseudo number there, yet a rule for it
 * takes effect (socket on x86 and s390 goes through socketcall). Asked of
 * libseccomp, never read off a list of arches.
 */
export function multiplexedOn(syscall: string, arches: readonly string[]): string[] {
  return arches.filter((arch) => {
    const token = archToken(arch);
    if (token === undefined) return false;
    const nr = syscallNumber(token, syscall);
    return nr !== undefined && nr < 0 && syscallExists(arch, syscall);
  });
}
