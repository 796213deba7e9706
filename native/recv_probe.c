/* The probe behind the notify loop's blocking RECV (see recv_probe.h). A helper
 * thread installs a filter with a listener on itself only (no_new_privs is per
 * thread, no TSYNC: the rest of the process is untouched), then exits; this
 * thread waits in RECV meanwhile. Woken with ENOENT: blocking is safe. Still
 * blocked after a bound: a signal ends the wait, and the loop keeps poll. */
#define _GNU_SOURCE
#include "recv_probe.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROBE_BOUND_MS 500

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int blocking_ok;

static int wake_signal(void)
{
    return SIGRTMIN + 5;
}

static void on_wake(int sig)
{
    (void)sig; /* only there to make a blocked ioctl return EINTR */
}

struct probe {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int listener; /* -1 until installed; -2 when installing failed */
};

static void *installer(void *arg)
{
    struct probe *p = arg;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    int fd = -2;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    pthread_mutex_lock(&p->lock);
    p->listener = fd >= 0 ? fd : -2;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    usleep(20000); /* the prober is in RECV by now; the filter's last user leaves with this thread */
    return NULL;
}

struct kick {
    pthread_t target;
    volatile int done;
};

static void *kicker(void *arg)
{
    struct kick *k = arg;
    for (int waited = 0; !k->done && waited < PROBE_BOUND_MS + 2000; waited += 10) {
        if (waited >= PROBE_BOUND_MS)
            pthread_kill(k->target, wake_signal());
        usleep(10000);
    }
    return NULL;
}

static void probe(void)
{
    struct sigaction sa;
    struct probe p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1 };
    struct kick k = { pthread_self(), 0 };
    pthread_t inst, kick_thread;
    struct seccomp_notif req;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_wake; /* no SA_RESTART: the ioctl returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(wake_signal(), &sa, NULL) != 0)
        return;
    if (pthread_create(&inst, NULL, installer, &p) != 0)
        return;
    pthread_mutex_lock(&p.lock);
    while (p.listener == -1)
        pthread_cond_wait(&p.cond, &p.lock);
    pthread_mutex_unlock(&p.lock);
    if (p.listener < 0) {
        pthread_join(inst, NULL);
        return;
    }
    if (pthread_create(&kick_thread, NULL, kicker, &k) != 0) {
        pthread_join(inst, NULL);
        close(p.listener);
        return;
    }
    memset(&req, 0, sizeof req);
    int rc = ioctl(p.listener, SECCOMP_IOCTL_NOTIF_RECV, &req);
    int err = errno;
    k.done = 1;
    pthread_join(kick_thread, NULL);
    pthread_join(inst, NULL);
    close(p.listener);
    blocking_ok = rc < 0 && err == ENOENT;
}

int sr_recv_blocking_ok(void)
{
    pthread_once(&once, probe);
    return blocking_ok;
}

void sr_recv_interrupt(pthread_t thread)
{
    pthread_kill(thread, wake_signal());
}
