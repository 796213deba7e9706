// Names for the argument values argument conditions pin: address families and
// socket types, clone/unshare flags, ioctl requests, prctl options, fcntl
// commands, setsockopt levels and options, personalities. Values are Linux's
// generic ones (x86_64, aarch64, riscv64...); a few arches (mips, sparc,
// parisc, ppc) number some socket types, options and tty ioctls otherwise,
// so a value without a name here is printed as hex, never guessed.

const table = (entries: [string, number][]): ReadonlyMap<bigint, string> => new Map(entries.map(([n, v]) => [BigInt(v), n]));

export const ADDRESS_FAMILIES = table([
  ['AF_UNSPEC', 0], ['AF_UNIX', 1], ['AF_INET', 2], ['AF_AX25', 3], ['AF_IPX', 4], ['AF_APPLETALK', 5], ['AF_NETROM', 6],
  ['AF_BRIDGE', 7], ['AF_ATMPVC', 8], ['AF_X25', 9], ['AF_INET6', 10], ['AF_ROSE', 11], ['AF_DECnet', 12], ['AF_NETBEUI', 13],
  ['AF_SECURITY', 14], ['AF_KEY', 15], ['AF_NETLINK', 16], ['AF_PACKET', 17], ['AF_ASH', 18], ['AF_ECONET', 19], ['AF_ATMSVC', 20],
  ['AF_RDS', 21], ['AF_SNA', 22], ['AF_IRDA', 23], ['AF_PPPOX', 24], ['AF_WANPIPE', 25], ['AF_LLC', 26], ['AF_IB', 27], ['AF_MPLS', 28],
  ['AF_CAN', 29], ['AF_TIPC', 30], ['AF_BLUETOOTH', 31], ['AF_IUCV', 32], ['AF_RXRPC', 33], ['AF_ISDN', 34], ['AF_PHONET', 35],
  ['AF_IEEE802154', 36], ['AF_CAIF', 37], ['AF_ALG', 38], ['AF_NFC', 39], ['AF_VSOCK', 40], ['AF_KCM', 41], ['AF_QIPCRTR', 42],
  ['AF_SMC', 43], ['AF_XDP', 44], ['AF_MCTP', 45],
]);

export const SOCKET_TYPES = table([
  ['SOCK_STREAM', 1], ['SOCK_DGRAM', 2], ['SOCK_RAW', 3], ['SOCK_RDM', 4], ['SOCK_SEQPACKET', 5], ['SOCK_DCCP', 6], ['SOCK_PACKET', 10],
]);

/** The type bits of socket(2)'s type argument; SOCK_NONBLOCK and SOCK_CLOEXEC sit above them. */
export const SOCK_TYPE_MASK = 0xfn;

export const CLONE_FLAGS = table([
  ['CLONE_NEWTIME', 0x80], ['CLONE_VM', 0x100], ['CLONE_FS', 0x200], ['CLONE_FILES', 0x400], ['CLONE_SIGHAND', 0x800],
  ['CLONE_PIDFD', 0x1000], ['CLONE_PTRACE', 0x2000], ['CLONE_VFORK', 0x4000], ['CLONE_PARENT', 0x8000], ['CLONE_THREAD', 0x10000],
  ['CLONE_NEWNS', 0x20000], ['CLONE_SYSVSEM', 0x40000], ['CLONE_SETTLS', 0x80000], ['CLONE_PARENT_SETTID', 0x100000],
  ['CLONE_CHILD_CLEARTID', 0x200000], ['CLONE_DETACHED', 0x400000], ['CLONE_UNTRACED', 0x800000], ['CLONE_CHILD_SETTID', 0x1000000],
  ['CLONE_NEWCGROUP', 0x2000000], ['CLONE_NEWUTS', 0x4000000], ['CLONE_NEWIPC', 0x8000000], ['CLONE_NEWUSER', 0x10000000],
  ['CLONE_NEWPID', 0x20000000], ['CLONE_NEWNET', 0x40000000], ['CLONE_IO', 0x80000000],
]);

/** clone's namespace flags: NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (moby's mask). */
export const CLONE_NAMESPACE_MASK = 0x7e020000n;
/** unshare's: the same plus CLONE_NEWTIME (0x80, which is clone's exit signal byte, so not clone's). */
export const UNSHARE_NAMESPACE_MASK = CLONE_NAMESPACE_MASK | 0x80n;
export const CLONE_NEWUSER = 0x10000000n;
export const CLONE_NEWNS = 0x20000n;

export const IOCTL_REQUESTS = table([
  ['FIBMAP', 0x1], ['FIGETBSZ', 0x2],
  ['TCGETS', 0x5401], ['TCSETS', 0x5402], ['TCSETSW', 0x5403], ['TCSETSF', 0x5404], ['TCGETA', 0x5405], ['TCSETA', 0x5406],
  ['TCSETAW', 0x5407], ['TCSETAF', 0x5408], ['TCSBRK', 0x5409], ['TCXONC', 0x540a], ['TCFLSH', 0x540b], ['TIOCEXCL', 0x540c],
  ['TIOCNXCL', 0x540d], ['TIOCSCTTY', 0x540e], ['TIOCGPGRP', 0x540f], ['TIOCSPGRP', 0x5410], ['TIOCOUTQ', 0x5411], ['TIOCSTI', 0x5412],
  ['TIOCGWINSZ', 0x5413], ['TIOCSWINSZ', 0x5414], ['TIOCMGET', 0x5415], ['TIOCMBIS', 0x5416], ['TIOCMBIC', 0x5417], ['TIOCMSET', 0x5418],
  ['TIOCGSOFTCAR', 0x5419], ['TIOCSSOFTCAR', 0x541a], ['FIONREAD', 0x541b], ['TIOCLINUX', 0x541c], ['TIOCCONS', 0x541d],
  ['TIOCGSERIAL', 0x541e], ['TIOCSSERIAL', 0x541f], ['TIOCPKT', 0x5420], ['FIONBIO', 0x5421], ['TIOCNOTTY', 0x5422], ['TIOCSETD', 0x5423],
  ['TIOCGETD', 0x5424], ['TCSBRKP', 0x5425], ['TIOCSBRK', 0x5427], ['TIOCCBRK', 0x5428], ['TIOCGSID', 0x5429], ['TCGETS2', 0x802c542a],
  ['TCSETS2', 0x402c542b], ['TCSETSW2', 0x402c542c], ['TCSETSF2', 0x402c542d], ['TIOCGRS485', 0x542e], ['TIOCSRS485', 0x542f],
  ['TIOCGPTN', 0x80045430], ['TIOCSPTLCK', 0x40045431], ['TIOCGDEV', 0x80045432], ['TCGETX', 0x5432], ['TCSETX', 0x5433],
  ['TIOCSIG', 0x40045436], ['TIOCVHANGUP', 0x5437], ['TIOCGPKT', 0x80045438], ['TIOCGPTLCK', 0x80045439], ['TIOCGEXCL', 0x80045440],
  ['TIOCGPTPEER', 0x5441], ['FIONCLEX', 0x5450], ['FIOCLEX', 0x5451], ['FIOASYNC', 0x5452], ['TIOCSERCONFIG', 0x5453],
  ['TIOCSERGWILD', 0x5454], ['TIOCSERSWILD', 0x5455], ['TIOCGLCKTRMIOS', 0x5456], ['TIOCSLCKTRMIOS', 0x5457], ['TIOCSERGSTRUCT', 0x5458],
  ['TIOCSERGETLSR', 0x5459], ['TIOCMIWAIT', 0x545c], ['TIOCGICOUNT', 0x545d], ['FIOQSIZE', 0x5460],
  ['SIOCGIFNAME', 0x8910], ['SIOCGIFCONF', 0x8912], ['SIOCGIFFLAGS', 0x8913], ['SIOCSIFFLAGS', 0x8914], ['SIOCGIFADDR', 0x8915],
  ['SIOCGIFMTU', 0x8921], ['SIOCGIFHWADDR', 0x8927], ['SIOCGIFINDEX', 0x8933], ['SIOCETHTOOL', 0x8946],
  ['FS_IOC_GETFLAGS', 0x80086601], ['FS_IOC_SETFLAGS', 0x40086602], ['FICLONE', 0x40049409], ['FICLONERANGE', 0x4020940d],
  ['BLKGETSIZE64', 0x80081272], ['BLKSSZGET', 0x1268],
]);

export const PRCTL_OPTIONS = table([
  ['PR_SET_PDEATHSIG', 1], ['PR_GET_PDEATHSIG', 2], ['PR_GET_DUMPABLE', 3], ['PR_SET_DUMPABLE', 4], ['PR_GET_UNALIGN', 5],
  ['PR_SET_UNALIGN', 6], ['PR_GET_KEEPCAPS', 7], ['PR_SET_KEEPCAPS', 8], ['PR_GET_FPEMU', 9], ['PR_SET_FPEMU', 10], ['PR_GET_FPEXC', 11],
  ['PR_SET_FPEXC', 12], ['PR_GET_TIMING', 13], ['PR_SET_TIMING', 14], ['PR_SET_NAME', 15], ['PR_GET_NAME', 16], ['PR_GET_ENDIAN', 19],
  ['PR_SET_ENDIAN', 20], ['PR_GET_SECCOMP', 21], ['PR_SET_SECCOMP', 22], ['PR_CAPBSET_READ', 23], ['PR_CAPBSET_DROP', 24],
  ['PR_GET_TSC', 25], ['PR_SET_TSC', 26], ['PR_GET_SECUREBITS', 27], ['PR_SET_SECUREBITS', 28], ['PR_SET_TIMERSLACK', 29],
  ['PR_GET_TIMERSLACK', 30], ['PR_TASK_PERF_EVENTS_DISABLE', 31], ['PR_TASK_PERF_EVENTS_ENABLE', 32], ['PR_MCE_KILL', 33],
  ['PR_MCE_KILL_GET', 34], ['PR_SET_MM', 35], ['PR_SET_CHILD_SUBREAPER', 36], ['PR_GET_CHILD_SUBREAPER', 37],
  ['PR_SET_NO_NEW_PRIVS', 38], ['PR_GET_NO_NEW_PRIVS', 39], ['PR_GET_TID_ADDRESS', 40], ['PR_SET_THP_DISABLE', 41],
  ['PR_GET_THP_DISABLE', 42], ['PR_MPX_ENABLE_MANAGEMENT', 43], ['PR_MPX_DISABLE_MANAGEMENT', 44], ['PR_SET_FP_MODE', 45],
  ['PR_GET_FP_MODE', 46], ['PR_CAP_AMBIENT', 47], ['PR_SVE_SET_VL', 50], ['PR_SVE_GET_VL', 51], ['PR_GET_SPECULATION_CTRL', 52],
  ['PR_SET_SPECULATION_CTRL', 53], ['PR_PAC_RESET_KEYS', 54], ['PR_SET_TAGGED_ADDR_CTRL', 55], ['PR_GET_TAGGED_ADDR_CTRL', 56],
  ['PR_SET_IO_FLUSHER', 57], ['PR_GET_IO_FLUSHER', 58], ['PR_SET_SYSCALL_USER_DISPATCH', 59], ['PR_PAC_SET_ENABLED_KEYS', 60],
  ['PR_PAC_GET_ENABLED_KEYS', 61], ['PR_SCHED_CORE', 62], ['PR_SME_SET_VL', 63], ['PR_SME_GET_VL', 64], ['PR_SET_MDWE', 65],
  ['PR_GET_MDWE', 66], ['PR_SET_MEMORY_MERGE', 67], ['PR_GET_MEMORY_MERGE', 68], ['PR_GET_AUXV', 0x41555856],
  ['PR_SET_VMA', 0x53564d41], ['PR_SET_PTRACER', 0x59616d61],
]);

export const FCNTL_COMMANDS = table([
  ['F_DUPFD', 0], ['F_GETFD', 1], ['F_SETFD', 2], ['F_GETFL', 3], ['F_SETFL', 4], ['F_GETLK', 5], ['F_SETLK', 6], ['F_SETLKW', 7],
  ['F_SETOWN', 8], ['F_GETOWN', 9], ['F_SETSIG', 10], ['F_GETSIG', 11], ['F_GETLK64', 12], ['F_SETLK64', 13], ['F_SETLKW64', 14],
  ['F_SETOWN_EX', 15], ['F_GETOWN_EX', 16], ['F_GETOWNER_UIDS', 17], ['F_OFD_GETLK', 36], ['F_OFD_SETLK', 37], ['F_OFD_SETLKW', 38],
  ['F_SETLEASE', 1024], ['F_GETLEASE', 1025], ['F_NOTIFY', 1026], ['F_DUPFD_QUERY', 1027], ['F_CREATED_QUERY', 1028],
  ['F_DUPFD_CLOEXEC', 1030], ['F_SETPIPE_SZ', 1031], ['F_GETPIPE_SZ', 1032], ['F_ADD_SEALS', 1033], ['F_GET_SEALS', 1034],
  ['F_GET_RW_HINT', 1035], ['F_SET_RW_HINT', 1036], ['F_GET_FILE_RW_HINT', 1037], ['F_SET_FILE_RW_HINT', 1038],
]);

export const SOCKOPT_LEVELS = table([
  ['IPPROTO_IP', 0], ['SOL_SOCKET', 1], ['IPPROTO_TCP', 6], ['IPPROTO_UDP', 17], ['IPPROTO_IPV6', 41], ['IPPROTO_ICMPV6', 58],
  ['IPPROTO_SCTP', 132], ['IPPROTO_UDPLITE', 136], ['SOL_RAW', 255], ['SOL_PACKET', 263], ['SOL_NETLINK', 270], ['SOL_TLS', 282],
  ['SOL_ALG', 279], ['SOL_XDP', 283],
]);

/** Option names per level (value of the level -> option table). */
export const SOCKOPT_NAMES: ReadonlyMap<bigint, ReadonlyMap<bigint, string>> = new Map([
  [
    1n,
    table([
      ['SO_DEBUG', 1], ['SO_REUSEADDR', 2], ['SO_TYPE', 3], ['SO_ERROR', 4], ['SO_DONTROUTE', 5], ['SO_BROADCAST', 6], ['SO_SNDBUF', 7],
      ['SO_RCVBUF', 8], ['SO_KEEPALIVE', 9], ['SO_OOBINLINE', 10], ['SO_NO_CHECK', 11], ['SO_PRIORITY', 12], ['SO_LINGER', 13],
      ['SO_BSDCOMPAT', 14], ['SO_REUSEPORT', 15], ['SO_PASSCRED', 16], ['SO_PEERCRED', 17], ['SO_RCVLOWAT', 18], ['SO_SNDLOWAT', 19],
      ['SO_RCVTIMEO_OLD', 20], ['SO_SNDTIMEO_OLD', 21], ['SO_BINDTODEVICE', 25], ['SO_ATTACH_FILTER', 26], ['SO_DETACH_FILTER', 27],
      ['SO_TIMESTAMP_OLD', 29], ['SO_SNDBUFFORCE', 32], ['SO_RCVBUFFORCE', 33], ['SO_PASSSEC', 34], ['SO_MARK', 36],
      ['SO_RXQ_OVFL', 40], ['SO_INCOMING_CPU', 49], ['SO_ATTACH_BPF', 50], ['SO_ZEROCOPY', 60], ['SO_RCVTIMEO_NEW', 66],
      ['SO_SNDTIMEO_NEW', 67],
    ]),
  ],
  [
    6n,
    table([
      ['TCP_NODELAY', 1], ['TCP_MAXSEG', 2], ['TCP_CORK', 3], ['TCP_KEEPIDLE', 4], ['TCP_KEEPINTVL', 5], ['TCP_KEEPCNT', 6],
      ['TCP_SYNCNT', 7], ['TCP_LINGER2', 8], ['TCP_DEFER_ACCEPT', 9], ['TCP_WINDOW_CLAMP', 10], ['TCP_INFO', 11], ['TCP_QUICKACK', 12],
      ['TCP_CONGESTION', 13], ['TCP_USER_TIMEOUT', 18], ['TCP_FASTOPEN', 23], ['TCP_NOTSENT_LOWAT', 25], ['TCP_ULP', 31],
    ]),
  ],
  [0n, table([['IP_TOS', 1], ['IP_TTL', 2], ['IP_HDRINCL', 3], ['IP_OPTIONS', 4], ['IP_RECVERR', 11], ['IP_MTU_DISCOVER', 10], ['IP_BIND_ADDRESS_NO_PORT', 24]])],
  [41n, table([['IPV6_UNICAST_HOPS', 16], ['IPV6_MTU_DISCOVER', 23], ['IPV6_RECVERR', 25], ['IPV6_V6ONLY', 26]])],
]);

export const PERSONALITIES = table([['PER_LINUX', 0], ['PER_LINUX32', 8], ['UNAME26', 0x20000], ['PER_LINUX32|UNAME26', 0x20008], ['query', 0xffffffff]]);

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Names of the set bits of a flag word; bits without a name as hex. */
export function flagNames(value: bigint, names: ReadonlyMap<bigint, string>): string {
  if (value === 0n) return '0';
  const out: string[] = [];
  let rest = value;
  for (const [bit, name] of names) {
    if ((bit & (bit - 1n)) === 0n && bit !== 0n && (value & bit) === bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(hex(rest));
  return out.join('|');
}

/** Which table names the values of `arg` of `syscall`; `context` is the other arguments (setsockopt's level). */
function tableFor(syscall: string, arg: string, context: ReadonlyMap<string, bigint>): ReadonlyMap<bigint, string> | undefined {
  switch (`${syscall}.${arg}`) {
    case 'socket.domain':
      return ADDRESS_FAMILIES;
    case 'socket.type':
      return SOCKET_TYPES;
    case 'ioctl.request':
      return IOCTL_REQUESTS;
    case 'prctl.option':
      return PRCTL_OPTIONS;
    case 'fcntl.cmd':
    case 'fcntl64.cmd':
      return FCNTL_COMMANDS;
    case 'setsockopt.level':
      return SOCKOPT_LEVELS;
    case 'setsockopt.optname': {
      const level = context.get('level');
      return level === undefined ? undefined : SOCKOPT_NAMES.get(level);
    }
    case 'personality.persona':
      return PERSONALITIES;
    default:
      return undefined;
  }
}

/** A recorded or pinned value by name (`AF_INET`, `TIOCGWINSZ`, `CLONE_NEWUSER|CLONE_NEWNS`), else hex. */
export function valueName(syscall: string, arg: string, value: bigint, context: ReadonlyMap<string, bigint> = new Map()): string {
  if ((syscall === 'clone' || syscall === 'unshare') && arg === 'flags') return flagNames(value, CLONE_FLAGS);
  const t = tableFor(syscall, arg, context);
  return t?.get(value) ?? hex(value);
}

/** The value a name stands for (`AF_PACKET` -> 17n), for tests and the risk list; undefined when unknown. */
export function valueOf(name: string): bigint | undefined {
  for (const t of [ADDRESS_FAMILIES, SOCKET_TYPES, CLONE_FLAGS, IOCTL_REQUESTS, PRCTL_OPTIONS, FCNTL_COMMANDS, SOCKOPT_LEVELS]) {
    for (const [v, n] of t) if (n === name) return v;
  }
  return undefined;
}
