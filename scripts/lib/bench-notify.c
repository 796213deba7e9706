/* Where a notify round trip's time goes: a thread of this process makes N
 * getppid calls under a filter that notifies them; the main thread serves the
 * listener as native/notify_session.c does (SYNC_WAKE_UP when the kernel has
 * it, the same table update under a mutex, CONTINUE), either poll + RECV or a
 * blocking RECV, and times its own parts. Prints one JSON line. Built and run
 * by scripts/bench.mjs (`--only notify-loop`); not a test.
 *   bench-notify poll|block N */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../native/observations.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static long calls;
static int listener = -1;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static double target_ns;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *target(void *arg)
{
    (void)arg;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { 4, f };
    int fd;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    pthread_mutex_lock(&ready_lock);
    listener = fd;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&ready_lock);
    if (fd < 0)
        return NULL;
    double t0 = now_ns();
    for (long i = 0; i < calls; i++)
        syscall(SYS_getppid);
    target_ns = now_ns() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "poll") && strcmp(argv[1], "block"))) {
        fprintf(stderr, "usage: bench-notify poll|block N\n");
        return 2;
    }
    int blocking = strcmp(argv[1], "block") == 0;
    calls = atol(argv[2]);
    /* The same calls unfiltered, for the syscall's own cost. */
    double p0 = now_ns();
    for (long i = 0; i < calls; i++)
        syscall(SYS_getppid);
    double plain_ns = now_ns() - p0;

    pthread_t t;
    pthread_create(&t, NULL, target, NULL);
    pthread_mutex_lock(&ready_lock);
    while (listener == -1)
        pthread_cond_wait(&ready, &ready_lock);
    pthread_mutex_unlock(&ready_lock);
    if (listener < 0) {
        fprintf(stderr, "cannot install the filter: %s\n", strerror(errno));
        return 1;
    }
    uint64_t flags = 1; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
    int sync = ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
    struct sr_table table;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    sr_table_init(&table, NULL, 0);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    double poll_ns = 0, update_ns = 0, send_ns = 0;
    long served = 0;
    for (;;) {
        double a = now_ns();
        if (!blocking) {
            struct pollfd pfd = { listener, POLLIN, 0 };
            if (poll(&pfd, 1, -1) < 0)
                continue;
            if (!(pfd.revents & POLLIN))
                break; /* hang-up: the target is gone */
        }
        double b = now_ns();
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == ENOENT && served >= calls)
                break;
            continue;
        }
        double c = now_ns();
        pthread_mutex_lock(&lock);
        sr_table_add(&table, req.data.arch, req.data.nr, (int32_t)req.pid, (const uint64_t *)req.data.args);
        pthread_mutex_unlock(&lock);
        double d = now_ns();
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        double e = now_ns();
        if (!blocking)
            poll_ns += b - a;
        update_ns += d - c;
        send_ns += e - d;
        served++;
    }
    pthread_join(t, NULL);
    printf("{\"mode\":\"%s\",\"calls\":%ld,\"syncWakeup\":%d,\"roundTripNs\":%.0f,\"plainNs\":%.0f,\"pollNs\":%.0f,\"updateNs\":%.0f,\"sendNs\":%.0f}\n",
           argv[1], calls, sync, target_ns / calls, plain_ns / calls, poll_ns / calls, update_ns / calls, send_ns / calls);
    return 0;
}
