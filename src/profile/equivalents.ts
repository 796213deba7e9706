// Equivalent syscalls: calls that libc, language runtimes and kernels choose
// between at run time for the same effect (glibc 2.33 turned fstat() into
// newfstatat, musl's stdio writes with writev where glibc's uses write,
// PostgreSQL zero-fills a new WAL segment with pwritev where it otherwise
// writes with pwrite64). A deployable profile allows the siblings of what was
// recorded, so the next run's other choice does not fail. Each group says why
// a sibling grants nothing the recorded call did not; pairs where it would are
// in LEFT_OUT with the reason. The rules that decide what is added (baseline,
// arch, argument conditions) are in siblingsToAdd; docs/equivalents.md is the
// reader's version of this file.
import { syscallExists } from '../seccomp/syscall-exists.js';

export interface EquivalenceGroup {
  /** Short name used in reports and docs. */
  id: string;
  /** Calls that can stand in for one another. */
  members: readonly string[];
  /**
   * Calls any member can do the work of, which cannot do all of a member's
   * (fstat needs an open fd, stat takes any path): added when a member was
   * recorded, but recording one of them adds only the others of this list.
   */
  narrower?: readonly string[];
  /** Why a sibling grants nothing the recorded call did not. */
  why: string;
}

/** The profile marks the rules holding added siblings with this comment (OCI JSON) or annotation (SPO). */
export const EQUIVALENTS_COMMENT = 'seccomp-recorder: x-equivalents: not recorded; allowed as equivalents of recorded calls (docs/equivalents.md)';
export const EQUIVALENTS_ANNOTATION = 'seccomp-recorder/x-equivalents';

export const EQUIVALENT_GROUPS: readonly EquivalenceGroup[] = [
  {
    id: 'write',
    members: ['write', 'writev'],
    why: 'both copy bytes from the caller into an fd it already holds open for writing, at the fd\'s position; writev only gathers them from several buffers (musl\'s stdio uses writev where glibc\'s uses write)',
  },
  {
    id: 'read',
    members: ['read', 'readv'],
    why: 'both copy bytes from an fd the caller holds open for reading into its memory, at the fd\'s position; readv only scatters them (musl\'s stdio reads with readv)',
  },
  {
    id: 'pwrite',
    members: ['pwrite64', 'pwritev'],
    why: 'both write at an explicit offset of an fd open for writing (pwrite on an O_APPEND fd still appends); pwritev only gathers; PostgreSQL zero-fills new WAL segments with pwritev and writes pages with pwrite64',
  },
  {
    id: 'pread',
    members: ['pread64', 'preadv'],
    why: 'both read at an explicit offset of an fd open for reading; preadv only scatters',
  },
  {
    id: 'stat',
    members: ['stat', 'lstat', 'newfstatat', 'statx', 'stat64', 'lstat64', 'fstatat64'],
    narrower: ['fstat', 'fstat64'],
    why: 'all read the same inode metadata of a path (or, with AT_EMPTY_PATH, of an fd) under the same search-permission check; glibc 2.33 implements stat() and fstat() with newfstatat, older glibc and musl with stat/fstat, Rust and coreutils with statx (which reports a few more fields of the same inode: birth time, mount id, attribute bits, and reaches no file the others cannot). fstat needs an fd already open, so it is only added, never a reason to add the path forms',
  },
  {
    id: 'open',
    members: ['open', 'openat', 'openat2'],
    narrower: ['creat'],
    why: 'all open a path (relative to the cwd or to a directory fd the caller holds) with the same permission checks; glibc and Go use openat, older code open; openat2\'s RESOLVE_* flags only restrict how the path resolves (no symlinks, not beyond the dirfd, no mount crossing) and it rejects flags openat would ignore, so it reaches nothing openat cannot. Its flags sit in a struct seccomp cannot read: added only while openat/open are allowed without argument conditions (see siblingsToAdd). creat is open(O_CREAT|O_WRONLY|O_TRUNC)',
  },
  {
    id: 'poll',
    members: ['poll', 'ppoll', 'ppoll_time64'],
    why: 'wait for events on fds the caller holds; ppoll takes a timespec and a signal mask applied for the wait (the caller\'s own mask); aarch64 has only ppoll, so glibc\'s poll() is ppoll there',
  },
  {
    id: 'select',
    members: ['select', '_newselect', 'pselect6', 'pselect6_time64'],
    why: 'wait for fds the caller holds to become ready; pselect6 adds the caller\'s own signal mask for the wait; _newselect is select\'s name on 32-bit arches',
  },
  {
    id: 'epoll_wait',
    members: ['epoll_wait', 'epoll_pwait', 'epoll_pwait2'],
    why: 'collect events from an epoll fd the caller holds; the p forms add the caller\'s own signal mask, epoll_pwait2 a timespec timeout; aarch64 has no epoll_wait, Go and libuv use epoll_pwait',
  },
  {
    id: 'epoll_create',
    members: ['epoll_create', 'epoll_create1'],
    why: 'create an epoll fd; epoll_create1 only takes EPOLL_CLOEXEC',
  },
  {
    id: 'accept',
    members: ['accept', 'accept4'],
    why: 'take a connection off a listening socket the caller holds; accept4 only sets O_NONBLOCK/O_CLOEXEC on the new fd, as a following fcntl would',
  },
  {
    id: 'dup2',
    members: ['dup2', 'dup3'],
    why: 'duplicate an fd onto a chosen number; dup3 only adds O_CLOEXEC (glibc\'s dup2 is dup3 where dup2 is missing)',
  },
  {
    id: 'pipe',
    members: ['pipe', 'pipe2'],
    why: 'create a pipe; pipe2 only sets O_CLOEXEC/O_NONBLOCK/O_DIRECT (packet mode) on its ends',
  },
  {
    id: 'wait',
    members: ['wait4', 'waitid', 'waitpid'],
    why: 'wait for the caller\'s own children (or a pidfd it holds); they differ only in how the status is reported',
  },
  {
    id: 'eventfd',
    members: ['eventfd', 'eventfd2'],
    why: 'create an eventfd; eventfd2 only takes flags (CLOEXEC, NONBLOCK, SEMAPHORE)',
  },
  {
    id: 'signalfd',
    members: ['signalfd', 'signalfd4'],
    why: 'read the caller\'s own signals through an fd; signalfd4 only takes CLOEXEC/NONBLOCK',
  },
  {
    id: 'inotify_init',
    members: ['inotify_init', 'inotify_init1'],
    why: 'create an inotify fd; inotify_init1 only takes CLOEXEC/NONBLOCK',
  },
  {
    id: 'getdents',
    members: ['getdents', 'getdents64'],
    why: 'list a directory fd the caller holds; only the record layout differs',
  },
  {
    id: 'fsync',
    members: ['fsync', 'fdatasync'],
    why: 'flush an fd the caller holds; fdatasync skips metadata; PostgreSQL picks one by wal_sync_method',
  },
  {
    id: 'sync_file_range',
    members: ['sync_file_range', 'sync_file_range2', 'arm_sync_file_range'],
    why: 'the same call with its arguments in the order each arch\'s ABI needs (PostgreSQL uses it for writeback)',
  },
  {
    id: 'fadvise',
    members: ['fadvise64', 'fadvise64_64', 'arm_fadvise64_64'],
    why: 'the same advice on an fd the caller holds, per arch ABI',
  },
  {
    id: 'lseek',
    members: ['lseek', '_llseek'],
    why: 'move an fd\'s position; _llseek is the 32-bit arches\' 64-bit-offset form',
  },
  {
    id: 'nanosleep',
    members: ['nanosleep', 'clock_nanosleep', 'clock_nanosleep_time64'],
    why: 'sleep the calling thread; glibc 2.31+ implements nanosleep() with clock_nanosleep, which adds only the clock to measure by and absolute deadlines',
  },
  {
    id: 'getrlimit',
    members: ['getrlimit', 'ugetrlimit'],
    why: 'read the caller\'s own limits; ugetrlimit is the name on 32-bit x86/arm',
  },
  {
    id: 'recv',
    members: ['recv', 'recvfrom'],
    why: 'receive on a socket the caller holds; recvfrom also returns the peer\'s address; glibc\'s recv() is recvfrom where recv is missing',
  },
  {
    id: 'send',
    members: ['sendto'],
    narrower: ['send'],
    why: 'send is sendto without an address; sendto can name a destination on an unconnected socket, so recording send adds nothing',
  },
  {
    id: 'mkdir',
    members: ['mkdir', 'mkdirat'],
    why: 'the *at forms resolve relative to a directory fd the caller holds (AT_FDCWD: the cwd), with the same permission checks; aarch64 and riscv64 have only the *at forms, Go uses them everywhere',
  },
  { id: 'readlink', members: ['readlink', 'readlinkat'], why: 'as mkdir/mkdirat: the *at form takes a directory fd' },
  { id: 'access', members: ['access', 'faccessat', 'faccessat2'], why: 'check access to a path; faccessat2 adds AT_EACCESS (check with the effective ids) and AT_SYMLINK_NOFOLLOW: information about the caller\'s own rights' },
  { id: 'symlink', members: ['symlink', 'symlinkat'], why: 'as mkdir/mkdirat: the *at form takes a directory fd' },
  { id: 'mknod', members: ['mknod', 'mknodat'], why: 'as mkdir/mkdirat; device nodes still need CAP_MKNOD' },
  { id: 'chmod', members: ['chmod', 'fchmodat'], why: 'as mkdir/mkdirat: the *at form takes a directory fd; same ownership check' },
  {
    id: 'rename',
    members: ['rename', 'renameat', 'renameat2'],
    why: 'as mkdir/mkdirat; renameat2\'s flags only refuse to replace (NOREPLACE), swap two names the caller could rename anyway (EXCHANGE), or need CAP_MKNOD (WHITEOUT)',
  },
  {
    id: 'utimes',
    members: ['utime', 'utimes', 'futimesat', 'utimensat', 'utimensat_time64'],
    why: 'set a path\'s timestamps under the same ownership check; they differ in resolution and in taking a directory fd',
  },
  // 32-bit arches: the *64 (large file) and *_time64 (64-bit time_t) forms of one call;
  // glibc picks by build and falls back on ENOSYS.
  { id: 'fcntl', members: ['fcntl', 'fcntl64'], why: '32-bit large-file form of the same call' },
  { id: 'truncate', members: ['truncate', 'truncate64'], why: '32-bit large-file form of the same call' },
  { id: 'ftruncate', members: ['ftruncate', 'ftruncate64'], why: '32-bit large-file form of the same call' },
  { id: 'statfs', members: ['statfs', 'statfs64'], why: '32-bit large-file form of the same call' },
  { id: 'fstatfs', members: ['fstatfs', 'fstatfs64'], why: '32-bit large-file form of the same call' },
  { id: 'sendfile', members: ['sendfile', 'sendfile64'], why: '32-bit large-file form of the same call' },
  { id: 'clock_gettime', members: ['clock_gettime', 'clock_gettime64'], why: '64-bit time_t form of the same call' },
  { id: 'clock_getres', members: ['clock_getres', 'clock_getres_time64'], why: '64-bit time_t form of the same call' },
  { id: 'futex', members: ['futex', 'futex_time64'], why: '64-bit time_t form of the same call' },
  { id: 'timer_settime', members: ['timer_settime', 'timer_settime64'], why: '64-bit time_t form of the same call' },
  { id: 'timer_gettime', members: ['timer_gettime', 'timer_gettime64'], why: '64-bit time_t form of the same call' },
  { id: 'timerfd_settime', members: ['timerfd_settime', 'timerfd_settime64'], why: '64-bit time_t form of the same call' },
  { id: 'timerfd_gettime', members: ['timerfd_gettime', 'timerfd_gettime64'], why: '64-bit time_t form of the same call' },
  { id: 'recvmmsg', members: ['recvmmsg', 'recvmmsg_time64'], why: '64-bit time_t form of the same call' },
  { id: 'rt_sigtimedwait', members: ['rt_sigtimedwait', 'rt_sigtimedwait_time64'], why: '64-bit time_t form of the same call' },
  { id: 'semtimedop', members: ['semtimedop', 'semtimedop_time64'], why: '64-bit time_t form of the same call' },
  { id: 'mq_timedsend', members: ['mq_timedsend', 'mq_timedsend_time64'], why: '64-bit time_t form of the same call' },
  { id: 'mq_timedreceive', members: ['mq_timedreceive', 'mq_timedreceive_time64'], why: '64-bit time_t form of the same call' },
  { id: 'sched_rr_get_interval', members: ['sched_rr_get_interval', 'sched_rr_get_interval_time64'], why: '64-bit time_t form of the same call' },
];

/**
 * Names that exist only on some architectures (libseccomp resolves them
 * elsewhere to a pseudo number): the reason, for the table's test and docs.
 * Every other name exists on x86_64 and aarch64.
 */
const ON_32_BIT = '32-bit arches only (x86, arm, mips, ppc)';
const NOT_ON_GENERIC = 'not on aarch64 or riscv64 (the asm-generic table keeps only the *at and p* forms)';
export const ARCH_SPECIFIC: Readonly<Record<string, string>> = {
  stat: NOT_ON_GENERIC,
  lstat: NOT_ON_GENERIC,
  open: NOT_ON_GENERIC,
  creat: NOT_ON_GENERIC,
  poll: NOT_ON_GENERIC,
  select: 'not on aarch64, riscv64 or arm (where it is _newselect)',
  epoll_wait: NOT_ON_GENERIC,
  epoll_create: NOT_ON_GENERIC,
  dup2: NOT_ON_GENERIC,
  pipe: NOT_ON_GENERIC,
  eventfd: NOT_ON_GENERIC,
  signalfd: NOT_ON_GENERIC,
  inotify_init: NOT_ON_GENERIC,
  getdents: NOT_ON_GENERIC,
  mkdir: NOT_ON_GENERIC,
  readlink: NOT_ON_GENERIC,
  access: NOT_ON_GENERIC,
  symlink: NOT_ON_GENERIC,
  mknod: NOT_ON_GENERIC,
  chmod: NOT_ON_GENERIC,
  rename: NOT_ON_GENERIC,
  utime: NOT_ON_GENERIC,
  utimes: NOT_ON_GENERIC,
  futimesat: NOT_ON_GENERIC,
  waitpid: '32-bit x86, mips and ppc only',
  stat64: ON_32_BIT,
  lstat64: ON_32_BIT,
  fstat64: ON_32_BIT,
  fstatat64: ON_32_BIT,
  _newselect: ON_32_BIT,
  _llseek: ON_32_BIT,
  recv: 'arches with socketcall or a recv entry (x86, arm, ppc, s390); glibc uses recvfrom elsewhere',
  send: 'arches with socketcall or a send entry (x86, arm, ppc, s390); glibc uses sendto elsewhere',
  ugetrlimit: '32-bit x86, arm and ppc only',
  sync_file_range2: 'ppc only (argument order of its ABI)',
  arm_sync_file_range: 'arm only',
  fadvise64_64: '32-bit x86 only',
  arm_fadvise64_64: 'arm only',
  fcntl64: ON_32_BIT,
  truncate64: ON_32_BIT,
  ftruncate64: ON_32_BIT,
  statfs64: ON_32_BIT,
  fstatfs64: ON_32_BIT,
  sendfile64: ON_32_BIT,
  ppoll_time64: ON_32_BIT,
  pselect6_time64: ON_32_BIT,
  clock_nanosleep_time64: ON_32_BIT,
  clock_gettime64: ON_32_BIT,
  clock_getres_time64: ON_32_BIT,
  futex_time64: ON_32_BIT,
  timer_settime64: ON_32_BIT,
  timer_gettime64: ON_32_BIT,
  timerfd_settime64: ON_32_BIT,
  timerfd_gettime64: ON_32_BIT,
  recvmmsg_time64: ON_32_BIT,
  rt_sigtimedwait_time64: ON_32_BIT,
  semtimedop_time64: ON_32_BIT,
  mq_timedsend_time64: ON_32_BIT,
  mq_timedreceive_time64: ON_32_BIT,
  sched_rr_get_interval_time64: ON_32_BIT,
  utimensat_time64: ON_32_BIT,
};

/** Pairs that look alike but are not in the table, and why. */
export const LEFT_OUT: readonly { names: readonly string[]; why: string }[] = [
  {
    names: ['clone', 'clone3', 'fork', 'vfork'],
    why: 'runtime defaults allow clone only without namespace flags (an argument condition); clone3 passes its flags in a struct seccomp cannot read, so it cannot be held to the same condition (the defaults answer it ENOSYS and glibc falls back to clone)',
  },
  {
    names: ['pwritev2', 'preadv2'],
    why: 'their flags change what the call may do (RWF_NOAPPEND writes at an offset of an O_APPEND file, which no other write call can; RWF_NOWAIT, RWF_HIPRI), and libc never substitutes them for pwritev/preadv',
  },
  {
    names: ['unlink', 'unlinkat', 'rmdir'],
    why: 'unlinkat also removes directories (AT_REMOVEDIR), which a program that only unlinked files never did',
  },
  {
    names: ['chown', 'lchown', 'fchownat'],
    why: 'chown follows symlinks and lchown does not: each changes an object the other cannot reach',
  },
  {
    names: ['link', 'linkat'],
    why: 'linkat(AT_EMPTY_PATH) links an open fd (even of an unlinked file) back into the tree',
  },
  {
    names: ['getrlimit', 'setrlimit', 'prlimit64'],
    why: 'prlimit64 reads and sets the limits of other processes',
  },
  {
    names: ['recvfrom', 'recvmsg', 'sendto', 'sendmsg'],
    why: 'the *msg forms carry ancillary data: file descriptors and credentials pass over unix sockets',
  },
  {
    names: ['io_getevents', 'io_pgetevents'],
    why: 'the runtime defaults deny io_pgetevents (containers-common)',
  },
  {
    names: ['fchmodat', 'fchmodat2'],
    why: 'fchmodat2 is newer than the runtime defaults (containers-common does not list it)',
  },
];

const groupsByName = new Map<string, EquivalenceGroup[]>();
for (const g of EQUIVALENT_GROUPS) for (const n of [...g.members, ...(g.narrower ?? [])]) groupsByName.set(n, [...(groupsByName.get(n) ?? []), g]);

/** The table's names a recorded call stands for (itself excluded), whatever the arch. */
export function siblingsOf(name: string): string[] {
  const out = new Set<string>();
  for (const g of groupsByName.get(name) ?? []) {
    const narrower = g.narrower ?? [];
    const pool = g.members.includes(name) ? [...g.members, ...narrower] : narrower;
    for (const n of pool) if (n !== name) out.add(n);
  }
  return [...out].sort();
}

export function groupOf(name: string): EquivalenceGroup | undefined {
  return groupsByName.get(name)?.[0];
}

/** Every name the table holds, sorted. */
export function tableNames(): string[] {
  return [...groupsByName.keys()].sort();
}

export interface SiblingChoice {
  /** Sibling -> the recorded names it stands in for, sorted. */
  added: Map<string, string[]>;
  /** Siblings not added, with why (denied by the baseline, the recorded call is argument-filtered). */
  skipped: { syscall: string; for: string[]; why: string }[];
}

export interface SiblingQuery {
  /** Names recorded (workload and runtime start-up alike). */
  recorded: Iterable<string>;
  /** The profile's target arches. */
  arches: readonly string[];
  /**
   * How the profile treats a name: 'plain' allowed without conditions,
   * 'conditional' allowed only under argument conditions, 'denied'.
   * Undefined = no baseline, every name is 'plain'.
   */
  treatment?: (name: string) => 'plain' | 'conditional' | 'denied';
}

/**
 * Siblings a deployable profile adds: for each target arch, the siblings of
 * recorded names that exist there (syscall-exists.ts), when the recorded call
 * is allowed without argument conditions (a condition on it would not hold
 * the sibling, whose arguments differ) and the baseline allows the sibling.
 */
export function siblingsToAdd(q: SiblingQuery): SiblingChoice {
  const recorded = new Set(q.recorded);
  const treat = q.treatment ?? (() => 'plain');
  const wanted = new Map<string, Set<string>>();
  const skippedWhy = new Map<string, { for: Set<string>; why: string }>();
  for (const name of [...recorded].sort()) {
    for (const sib of siblingsOf(name)) {
      if (recorded.has(sib)) continue;
      if (!q.arches.some((a) => syscallExists(a, sib))) continue;
      let why: string | undefined;
      if (treat(name) !== 'plain') why = `${name} is allowed only under argument conditions, which ${sib} would not be held to`;
      else if (treat(sib) === 'denied') why = 'the baseline denies it';
      if (why) {
        const s = skippedWhy.get(sib) ?? { for: new Set<string>(), why };
        s.for.add(name);
        skippedWhy.set(sib, s);
        continue;
      }
      if (!wanted.has(sib)) wanted.set(sib, new Set());
      wanted.get(sib)!.add(name);
    }
  }
  const added = new Map([...wanted].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()] as [string, string[]]));
  const skipped = [...skippedWhy]
    .filter(([sib]) => !added.has(sib))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([syscall, s]) => ({ syscall, for: [...s.for].sort(), why: s.why }));
  return { added, skipped };
}

/** Names a profile allows only through rules marked as added equivalents (never recorded). */
export function markedEquivalents(profile: { rules: readonly { names: readonly string[]; comment?: string; action: { kind: string } }[] }): string[] {
  const marked = new Set<string>();
  const unmarked = new Set<string>();
  for (const r of profile.rules) for (const n of r.names) (r.comment === EQUIVALENTS_COMMENT ? marked : unmarked).add(n);
  return [...marked].filter((n) => !unmarked.has(n)).sort();
}
