/* no-ia32: run a command as if the kernel did not run 32-bit (i386) syscalls.
 *
 * For developers: some hosts boot with ia32_emulation=0 (or lack
 * CONFIG_IA32_EMULATION), and there `int $0x80` kills the caller. To try the
 * test suite's no-i386 path on a kernel that does run them, this wrapper
 * installs a seccomp filter that kills the process (SIGSYS) on every call whose
 * arch is AUDIT_ARCH_I386, then execs its arguments. The filter is inherited by
 * every descendant and stacks with the filters the tests install (the most
 * restrictive answer wins). x86_64 and x32 calls are left alone.
 *
 *   gcc -o /tmp/no-ia32 scripts/no-ia32.c && /tmp/no-ia32 npm test
 *
 * As root no_new_privs is left unset (CAP_SYS_ADMIN may install filters
 * without it), so tests that check a target's no_new_privs still see the truth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };

    if (argc < 2) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
            fprintf(stderr, "no-ia32: cannot install the seccomp filter: %s\n", strerror(errno));
            return 125;
        }
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "no-ia32: cannot execute %s: %s\n", argv[1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
