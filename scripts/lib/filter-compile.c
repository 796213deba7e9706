/* What runc's init does with a profile's NOTIFY rule before the container
 * starts, timed alone: libseccomp filter with an ALLOW default, the given
 * architectures, one rule per syscall name (seccomp_rule_add, as
 * libseccomp-golang's AddRule), exported as BPF. Built by
 * scripts/bench-agent.mjs; prints the median ms of N rounds as JSON.
 *   filter-compile ROUNDS ARCH[,ARCH...] NAME...   (libseccomp arch names) */
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: filter-compile ROUNDS ARCH[,ARCH...] NAME...\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    if (rounds < 1 || rounds > 1000) rounds = 1;
    double *took = calloc((size_t)rounds, sizeof *took);
    int sink = open("/dev/null", O_WRONLY | O_CLOEXEC);
    unsigned instructions = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ms();
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        char arches[256];
        snprintf(arches, sizeof arches, "%s", argv[2]);
        for (char *save = NULL, *a = strtok_r(arches, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
            uint32_t token = seccomp_arch_resolve_name(a);
            if (token == 0) {
                fprintf(stderr, "unknown arch %s\n", a);
                return 2;
            }
            if (token != seccomp_arch_native()) seccomp_arch_add(ctx, token);
        }
        for (int i = 3; i < argc; i++) {
            int nr = seccomp_syscall_resolve_name(argv[i]);
            if (nr != __NR_SCMP_ERROR) seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
        }
        seccomp_export_bpf(ctx, sink);
        took[r] = now_ms() - t0;
        if (r == 0) {
            /* the program's length, for the report */
            int fds[2];
            if (pipe(fds) == 0) {
                seccomp_export_bpf(ctx, fds[1]);
                close(fds[1]);
                char buf[65536];
                ssize_t got, total = 0;
                while ((got = read(fds[0], buf, sizeof buf)) > 0) total += got;
                close(fds[0]);
                instructions = (unsigned)(total / 8);
            }
        }
        seccomp_release(ctx);
    }
    qsort(took, (size_t)rounds, sizeof *took, cmp_double);
    printf("{\"medianMs\":%.3f,\"minMs\":%.3f,\"maxMs\":%.3f,\"instructions\":%u}\n", took[rounds / 2], took[0], took[rounds - 1], instructions);
    return 0;
}
