/* The container's first instruction, timed: prints CLOCK_MONOTONIC in ns and
 * exits. Built static by scripts/bench-agent.mjs; the host reads the same
 * clock (process.hrtime) just before `runc run`, so the difference is the
 * start cost a container pays (runtime, namespaces, seccomp, the agent). */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    return 0;
}
