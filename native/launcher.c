/*
 * seccomp-recorder-launcher: the tiny pre-exec helper.
 *
 * It runs between the Node supervisor and the target command:
 *   1. resets signal state, finds the executable, reads the filter program;
 *   2. closes every inherited descriptor but stdio and the status pipe;
 *   3. installs a seccomp filter (with SECCOMP_FILTER_FLAG_NEW_LISTENER when asked),
 *      or none with --no-filter (the bpf source records from outside);
 *   4. with --cgroup DIR, moves itself into that cgroup (v2) as its last step;
 *   5. execs the target.
 *
 * Listener hand-over without exemption: the listener the kernel returns is
 * O_CLOEXEC and lands on the lowest free descriptor, which the launcher
 * announces on the status pipe *before* installing the filter. The supervisor
 * then copies it out of this process with pidfd_getfd(2) (a parent may do so:
 * same credentials, ancestor). The launcher itself makes no syscall between
 * seccomp(2) and execve(2), so it never has to send the descriptor anywhere,
 * nothing needs to be allowed past the filter, and the first notification the
 * supervisor sees is the target's own execve. That execve blocks in the
 * kernel until the supervisor has taken the listener and answered it.
 *
 * Everything the launcher reports goes to the status descriptor as one JSON
 * object per line (pino level names); the descriptor is close-on-exec, so the
 * supervisor reads EOF when the exec succeeded.
 *
 * Exit codes of its own: 125 usage/setup failure, 126 cannot execute,
 * 127 not found (like a shell).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

#define EXIT_SETUP 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

static int status_fd = -1;

/* Writes one JSON status line; strings given here are ASCII without quotes. */
static void status_line(const char *level, const char *event, const char *detail, int err, int extra_key_val)
{
    char buf[512];
    int n;
    if (status_fd < 0)
        return;
    n = snprintf(buf, sizeof buf,
                 "{\"level\":\"%s\",\"event\":\"%s\",\"msg\":\"%s\",\"errno\":%d,\"value\":%d}\n",
                 level, event, detail, err, extra_key_val);
    if (n > 0 && (size_t)n < sizeof buf) {
        ssize_t w;
        do {
            w = write(status_fd, buf, (size_t)n);
        } while (w < 0 && errno == EINTR);
    }
}

static void fail(const char *event, const char *detail, int err, int code)
{
    status_line("error", event, detail, err, 0);
    _exit(code);
}

static void reset_signals(void)
{
    sigset_t all;
    struct sigaction dfl;
    int sig;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        sigaction(sig, &dfl, NULL); /* fails harmlessly for RT signals used by libc */
    }
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Finds CMD the way execvp would, but before the filter is installed, so the
 * target's only pre-exec syscall under the filter is one execve. */
static int resolve_command(const char *cmd, char *out, size_t outlen)
{
    const char *path, *p;
    int saw_eacces = 0;
    if (strchr(cmd, '/')) {
        if ((size_t)snprintf(out, outlen, "%s", cmd) >= outlen)
            return ENAMETOOLONG;
        return 0;
    }
    path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path;; ) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        struct stat st;
        if (dirlen == 0) {
            if ((size_t)snprintf(out, outlen, "%s", cmd) >= outlen)
                return ENAMETOOLONG;
        } else if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)dirlen, p, cmd) >= outlen) {
            return ENAMETOOLONG;
        }
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            saw_eacces = 1;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return saw_eacces ? EACCES : ENOENT;
}

/* Reads a raw BPF program (struct sock_filter[]) from a file. */
static struct sock_filter *read_program(const char *file, unsigned short *len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    struct sock_filter *insns;
    size_t got = 0;
    if (fd < 0)
        fail("setup", "cannot open filter program", errno, EXIT_SETUP);
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0)
        fail("setup", "filter program has an invalid size", EINVAL, EXIT_SETUP);
    /* One filter is at most BPF_MAXINSNS (4096) instructions: the kernel
     * refuses more, and sock_fprog.len (an unsigned short) could not even
     * say 65536 (it would wrap to 0). Refused here, by name. */
    if ((uint64_t)st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
        fail("setup", "filter program has more instructions than the kernel takes in one filter (4096)", E2BIG, EXIT_SETUP);
    insns = malloc((size_t)st.st_size);
    if (!insns)
        fail("setup", "out of memory", ENOMEM, EXIT_SETUP);
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, (char *)insns + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            fail("setup", "cannot read filter program", r < 0 ? errno : EIO, EXIT_SETUP);
        got += (size_t)r;
    }
    close(fd);
    *len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
    return insns;
}

static int lowest_free_fd(void)
{
    int fd;
    for (fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: seccomp-recorder-launcher [--status-fd N] [--bpf FILE] [--listener] [--flags N]\n"
            "                                 [--no-new-privs always|auto] [--no-filter] [--cgroup DIR]\n"
            "                                 -- CMD [ARG...]\n"
            "Installs a seccomp filter (by default: notify on every syscall) and execs CMD.\n"
            "Meant to be started by seccomp-recorder, which supervises the listener.\n");
    _exit(EXIT_SETUP);
}

int main(int argc, char **argv)
{
    static struct sock_filter notify_all[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    };
    struct sock_fprog prog = { .len = 1, .filter = notify_all };
    const char *bpf_file = NULL, *cgroup_dir = NULL;
    int no_filter = 0, cgroup_fd = -1;
    int want_listener = 0, nnp_always = 0, i, nnp_set = 0;
    unsigned int flags = 0;
    char exe[4096];
    int rc, listener_fd;
    long ret;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc) {
            status_fd = atoi(argv[++i]);
            if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0)
                status_fd = -1;
        } else if (strcmp(argv[i], "--bpf") == 0 && i + 1 < argc) {
            bpf_file = argv[++i];
        } else if (strcmp(argv[i], "--flags") == 0 && i + 1 < argc) {
            /* extra SECCOMP_FILTER_FLAG_* bits from the profile (LOG, SPEC_ALLOW, ...) */
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 0);
            if (*end || v > 0xffff)
                usage();
            flags |= (unsigned int)v;
        } else if (strcmp(argv[i], "--listener") == 0) {
            want_listener = 1;
        } else if (strcmp(argv[i], "--no-filter") == 0) {
            no_filter = 1;
        } else if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc) {
            cgroup_dir = argv[++i];
        } else if (strcmp(argv[i], "--no-new-privs") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "always") == 0)
                nnp_always = 1;
            else if (strcmp(v, "auto") != 0)
                usage();
        } else {
            usage();
        }
    }
    if (i >= argc || (no_filter && (want_listener || bpf_file)))
        usage();

    reset_signals();

    rc = resolve_command(argv[i], exe, sizeof exe);
    if (rc)
        fail("exec", rc == ENOENT ? "command not found" : "command cannot be executed", rc,
             rc == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);

    if (bpf_file)
        prog.filter = read_program(bpf_file, &prog.len);

    /* Inherited descriptors other than stdio and the status pipe are closed,
     * so the target starts clean and the listener number is predictable. */
    {
        int lo = status_fd > 2 ? status_fd : 2;
        if (status_fd > 3)
            syscall(SYS_close_range, 3, status_fd - 1, 0);
        syscall(SYS_close_range, lo + 1, ~0U, 0);
    }

    if (cgroup_dir) {
        /* Opened now, written last: the fewer of our own calls the cgroup sees, the better. */
        char procs[4096];
        if ((size_t)snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup_dir) >= sizeof procs)
            fail("setup", "cgroup path too long", ENAMETOOLONG, EXIT_SETUP);
        cgroup_fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (cgroup_fd < 0)
            fail("setup", "cannot open the cgroup's cgroup.procs", errno, EXIT_SETUP);
    }
    if (no_filter) {
        if (cgroup_fd >= 0 && write(cgroup_fd, "0", 1) != 1)
            fail("setup", "cannot join the cgroup", errno, EXIT_SETUP);
        execve(exe, &argv[i], environ);
        rc = errno;
        fail("exec", rc == ENOENT ? "command not found" : "command cannot be executed", rc,
             rc == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    }
    if (cgroup_fd >= 0)
        fail("setup", "--cgroup goes with --no-filter", EINVAL, EXIT_SETUP);

    if (want_listener)
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    listener_fd = lowest_free_fd();
    status_line("debug", "installing", "installing filter", 0, want_listener ? listener_fd : -1);

    if (nnp_always) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            fail("setup", "prctl(PR_SET_NO_NEW_PRIVS) failed", errno, EXIT_SETUP);
        nnp_set = 1;
    }
    ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (ret < 0 && errno == EACCES && !nnp_set) {
        /* Without CAP_SYS_ADMIN the kernel requires no_new_privs. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            fail("setup", "prctl(PR_SET_NO_NEW_PRIVS) failed", errno, EXIT_SETUP);
        nnp_set = 1;
        ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    }
    if (ret < 0)
        fail("setup", "seccomp(SECCOMP_SET_MODE_FILTER) failed", errno, EXIT_SETUP);
    if (want_listener && ret != listener_fd)
        fail("setup", "listener landed on an unexpected descriptor", EBADF, EXIT_SETUP);

    /* No syscall between seccomp() and execve(): see the header comment. */
    execve(exe, &argv[i], environ);

    /* Only reached on failure; these calls are notified and answered too. */
    rc = errno;
    fail("exec", rc == ENOENT ? "command not found" : "command cannot be executed", rc,
         rc == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    return EXIT_SETUP;
}
