/* seccomp-recorder-abi-probe: which compat syscall ABIs this kernel runs.
 *
 * On x86_64 a process can enter the kernel three ways: the native `syscall`
 * instruction, `int $0x80` with an i386 number, and `syscall` with an x32
 * number (bit 30 set). A kernel booted with ia32_emulation=0 (or built without
 * CONFIG_IA32_EMULATION) kills an `int $0x80` caller with SIGSEGV; most kernels
 * answer x32 numbers with ENOSYS. Each call is made in its own child, since it
 * may die, and the outcome is printed as one JSON line on stdout:
 *
 *   {"machine":"x86_64",
 *    "i386":{"status":"returned","value":1234,"pid":1234},
 *    "x32":{"status":"returned","value":-38,"pid":1235}}
 *
 * status is "returned" (value: the raw return, -errno on failure; pid: the
 * child's own pid, so getpid's answer can be checked), "signal" (signal: its
 * number) or "exited" (code: an unexpected exit status). Names and meanings
 * are left to the TypeScript wrapper (src/record/abi-probe.ts). Elsewhere than
 * x86_64 it prints {"machine":"other"}. Exit status 0 unless fork/pipe fail
 * (then {"error":"...","errno":N} and 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)

#define I386_NR_GETPID 20
#define X32_SYSCALL_BIT 0x40000000L

static long call_i386_getpid(void)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"((long)I386_NR_GETPID) : "memory");
    return ret;
}

static long call_x32_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(X32_SYSCALL_BIT | SYS_getpid) : "rcx", "r11", "memory");
    return ret;
}

/* Runs `call` in a child and writes `"name":{...}` for what happened into out;
 * -1 when the probe itself failed (then out holds the error object). */
static int probe(const char *name, long (*call)(void), char *out, size_t size)
{
    int fds[2], status;
    long result[2] = {0, 0};
    ssize_t got;
    pid_t child;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(out, size, "{\"error\":\"pipe\",\"errno\":%d}", errno);
        return -1;
    }
    child = fork();
    if (child < 0) {
        snprintf(out, size, "{\"error\":\"fork\",\"errno\":%d}", errno);
        return -1;
    }
    if (child == 0) {
        close(fds[0]);
        /* A call that kills us must leave no core file behind. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGSYS, SIG_DFL);
        alarm(10);
        result[0] = call();
        result[1] = syscall(SYS_getpid);
        (void)!write(fds[1], result, sizeof result);
        _exit(0);
    }
    close(fds[1]);
    do
        got = read(fds[0], result, sizeof result);
    while (got < 0 && errno == EINTR);
    close(fds[0]);
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(out, size, "{\"error\":\"waitpid\",\"errno\":%d}", errno);
            return -1;
        }
    }
    if (WIFSIGNALED(status))
        snprintf(out, size, "\"%s\":{\"status\":\"signal\",\"signal\":%d}", name, WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == (ssize_t)sizeof result)
        snprintf(out, size, "\"%s\":{\"status\":\"returned\",\"value\":%ld,\"pid\":%ld}", name, result[0], result[1]);
    else
        snprintf(out, size, "\"%s\":{\"status\":\"exited\",\"code\":%d}", name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

int main(void)
{
    char i386[256], x32[256];

    if (probe("i386", call_i386_getpid, i386, sizeof i386) < 0) {
        printf("%s\n", i386);
        return 1;
    }
    if (probe("x32", call_x32_getpid, x32, sizeof x32) < 0) {
        printf("%s\n", x32);
        return 1;
    }
    printf("{\"machine\":\"x86_64\",%s,%s}\n", i386, x32);
    return 0;
}

#else

int main(void)
{
    printf("{\"machine\":\"other\"}\n");
    return 0;
}

#endif
