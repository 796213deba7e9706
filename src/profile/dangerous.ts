// Syscalls whose allowance deserves a second look, with one line saying why.
// One list, shared by `diff` (marks widenings of these) and the generator's
// `explain`, so both tell a reviewer the same thing.

/**
 * Syscall name → why allowing it matters. Reasons are short, end without a full
 * stop, and name a CVE where one made the risk concrete. Sorted by name.
 */
export const DANGEROUS: ReadonlyMap<string, string> = new Map<string, string>([
  ['acct', 'switches process accounting on or off host-wide when CAP_SYS_PACCT is held'],
  ['add_key', 'kernel keyring is not namespaced; keyring bugs led to escapes (CVE-2016-0728)'],
  ['bpf', 'loads programs into the kernel; a rich source of verifier exploits (CVE-2021-3490, CVE-2022-23222)'],
  ['chroot', 'changes the root directory; with an open fd it can escape a chroot'],
  [
    'clone',
    'with namespace flags (CLONE_NEWUSER, CLONE_NEWNS, ...) it creates namespaces like unshare; Docker allows it only without them',
  ],
  ['clone3', 'flags sit in a struct seccomp cannot inspect, so namespace creation cannot be filtered out'],
  ['delete_module', 'unloads kernel modules'],
  ['finit_module', 'loads kernel modules: arbitrary code in the kernel'],
  ['fsconfig', 'new mount API: configures filesystems to mount (CVE-2022-0185 was reached through it)'],
  ['fsmount', 'new mount API: creates a mount'],
  ['fsopen', 'new mount API: opens a filesystem context (CVE-2022-0185)'],
  ['fspick', 'new mount API: reconfigures an existing mount'],
  ['init_module', 'loads kernel modules: arbitrary code in the kernel'],
  ['io_uring_enter', 'io_uring bypasses seccomp for the operations it submits and has had many exploits (CVE-2022-29582)'],
  ['io_uring_register', 'io_uring bypasses seccomp for the operations it submits and has had many exploits (CVE-2023-2598)'],
  ['io_uring_setup', 'io_uring bypasses seccomp for the operations it submits and has had many exploits (CVE-2021-41073)'],
  ['kcmp', 'compares kernel objects of other processes; leaks kernel layout'],
  ['kexec_file_load', 'loads a new kernel to boot into'],
  ['kexec_load', 'loads a new kernel to boot into'],
  ['keyctl', 'kernel keyring is not namespaced; keyring bugs led to escapes (CVE-2016-0728)'],
  ['lookup_dcookie', 'traces kernel paths; needs CAP_SYS_ADMIN'],
  ['mount', 'mounts filesystems; the first step of most container escapes'],
  ['mount_setattr', 'changes mount properties such as read-only and idmapping'],
  ['move_mount', 'new mount API: attaches a mount anywhere in the tree'],
  ['name_to_handle_at', 'companion of open_by_handle_at; exposes file handles'],
  ['nfsservctl', 'kernel NFS server control'],
  ['open_by_handle_at', 'opens host files by handle, bypassing the mount namespace (the "shocker" escape)'],
  ['open_tree', 'new mount API: clones a mount tree'],
  ['perf_event_open', 'kernel profiling interface; leaks kernel addresses and has had many exploits (CVE-2013-2094)'],
  ['personality', 'can disable ASLR (ADDR_NO_RANDOMIZE); Docker allows only a few values'],
  ['pivot_root', 'changes the root mount; used to escape or rebuild the filesystem view'],
  ['process_vm_readv', 'reads another process memory directly'],
  ['process_vm_writev', 'writes another process memory directly'],
  ['ptrace', 'inspects and controls other processes; bypasses seccomp on kernels before 4.8'],
  ['quotactl', 'filesystem quota control on host devices'],
  ['reboot', 'reboots the host or loads a kexec kernel when CAP_SYS_BOOT is held'],
  ['request_key', 'kernel keyring is not namespaced; keyring bugs led to escapes (CVE-2016-0728)'],
  ['setns', 'joins another namespace'],
  ['settimeofday', 'sets the host clock; time is not namespaced'],
  ['swapoff', 'switches host swap devices'],
  ['swapon', 'switches host swap devices'],
  ['syslog', 'reads the kernel log; leaks kernel addresses'],
  ['umount', 'unmounts filesystems; can reveal what a mount was hiding'],
  ['umount2', 'unmounts filesystems; can reveal what a mount was hiding'],
  [
    'unshare',
    'creates namespaces, unprivileged user namespaces included; the entry to CVE-2022-0185 and many other kernel exploits',
  ],
  ['uselib', 'obsolete library loader; old exploit target'],
  ['userfaultfd', 'stalls kernel page faults at will; a standard race-widening exploit tool'],
  ['vhangup', 'hangs up the current terminal'],
]);

/** Why allowing `name` is dangerous, or undefined when it is not on the list. */
export function dangerReason(name: string): string | undefined {
  return DANGEROUS.get(name);
}
