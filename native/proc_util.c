/* Shared by the notify session and the OCI socket: the monotonic clock and /proc/PID/exe. */
#include "proc_util.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

int64_t sr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t sr_proc_exe(pid_t pid, char *buf, size_t len)
{
    char path[64];
    ssize_t n;
    if (len == 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    n = readlink(path, buf, len - 1);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return n;
}
