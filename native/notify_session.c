/* The notify loop. Runs on its own thread; never calls into JS. */
#define _GNU_SOURCE
#include "notify_session.h"
#include "fd_kind.h"
#include "proc_util.h"
#include "recv_probe.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Linux 6.6+: wake the supervisor on the CPU of the notifying task and hand the
 * CPU back on reply. Debian 12's headers predate it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

const char *sr_end_reason_name(enum sr_end_reason r)
{
    switch (r) {
    case SR_END_HANGUP: return "hangup";
    case SR_END_STOPPED: return "stopped";
    case SR_END_TARGET_GONE: return "target-gone";
    case SR_END_ATTACH_TIMEOUT: return "attach-timeout";
    case SR_END_ERROR: return "error";
    default: return "none";
    }
}

static int is_boundary(const struct sr_session *s, uint32_t arch, int32_t nr)
{
    uint32_t i;
    for (i = 0; i < s->nboundary; i++)
        if (s->boundary[i].arch == arch && s->boundary[i].nr == nr)
            return 1;
    return 0;
}

/* Copies the listener out of the child. The child announced its number before
 * installing the filter, so until seccomp() returns there the number is free
 * (EBADF) and we retry; a descriptor that is not a listener is refused. */
static enum sr_end_reason take_listener(struct sr_session *s)
{
    int64_t deadline = sr_now_ms() + s->attach_timeout_ms;
    long wait_ns = 20000;
    for (;;) {
        struct pollfd pfd[2] = { { s->pidfd, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
        struct timespec ts;
        int fd = (int)syscall(SYS_pidfd_getfd, s->pidfd, s->target_fd, 0);
        if (fd >= 0) {
            if (sr_is_seccomp_listener(fd)) {
                s->listener = fd;
                return SR_END_NONE;
            }
            close(fd);
        } else if (errno != EBADF) {
            s->end_errno = errno;
            return SR_END_ERROR;
        }
        if (sr_now_ms() > deadline)
            return SR_END_ATTACH_TIMEOUT;
        ts.tv_sec = 0;
        ts.tv_nsec = wait_ns;
        if (wait_ns < 2000000)
            wait_ns *= 2;
        if (ppoll(pfd, 2, &ts, NULL) > 0) {
            if (pfd[1].revents)
                return SR_END_STOPPED;
            if (pfd[0].revents) {
                /* exited; one last try in case it installed and then died */
                fd = (int)syscall(SYS_pidfd_getfd, s->pidfd, s->target_fd, 0);
                if (fd >= 0 && sr_is_seccomp_listener(fd)) {
                    s->listener = fd;
                    return SR_END_NONE;
                }
                if (fd >= 0)
                    close(fd);
                return SR_END_TARGET_GONE;
            }
        }
    }
}

static enum sr_end_reason serve(struct sr_session *s)
{
    struct seccomp_notif_sizes sizes;
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;

    if (s->want_sync_wakeup && ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0)
        s->sync_wakeup_active = 1;

    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
        s->end_errno = errno;
        return SR_END_ERROR;
    }
    /* The kernel's structs may be larger than our headers' ones. */
    req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    if (!req || !resp) {
        free(req);
        free(resp);
        s->end_errno = ENOMEM;
        return SR_END_ERROR;
    }

    {
        const char *poll_env = getenv("SECCOMP_RECORDER_POLL_RECV");
        int blocking = !(poll_env && *poll_env && strcmp(poll_env, "0") != 0) && sr_recv_blocking_ok();
        __atomic_store_n(&s->blocking_recv, blocking, __ATOMIC_SEQ_CST);
    }

    for (;;) {
        struct pollfd pfd[2] = { { s->listener, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
        int n;
        if (s->blocking_recv) {
            /* Straight into RECV: one syscall a notification instead of two. */
            if (__atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST)) {
                free(req);
                free(resp);
                return SR_END_STOPPED;
            }
            pfd[0].revents = POLLIN;
            pfd[1].revents = 0;
            n = 1;
        } else {
            n = poll(pfd, 2, -1);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s->end_errno = errno;
            break;
        }
        if (pfd[1].revents) {
            free(req);
            free(resp);
            return SR_END_STOPPED;
        }
        if (pfd[0].revents & POLLIN) {
            memset(req, 0, sizes.seccomp_notif);
            if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
                /* ENOENT: the task died or the call was interrupted; blocking, also
                 * when no task uses the filter any more (then the listener hangs up). */
                if (errno == ENOENT && s->blocking_recv) {
                    struct pollfd hup = { s->listener, POLLIN, 0 };
                    if (poll(&hup, 1, 0) > 0 && (hup.revents & (POLLHUP | POLLERR)) && !(hup.revents & POLLIN)) {
                        free(req);
                        free(resp);
                        return SR_END_HANGUP;
                    }
                }
                if (errno == EINTR || errno == ENOENT)
                    continue;
                s->end_errno = errno;
                break;
            }
            /* Count, then answer; the target waits on the answer only. The
             * first caller's executable is read while it is still stopped in
             * this very call (so an execve has not replaced it yet). */
            {
                struct sr_entry *e;
                pthread_mutex_lock(&s->lock);
                s->notifications++;
                e = sr_table_add(s->in_runtime_phase ? &s->runtime_table : &s->table, req->data.arch,
                                 req->data.nr, (int32_t)req->pid, (const uint64_t *)req->data.args);
                if (!e)
                    s->lost++;
                if (s->in_runtime_phase && is_boundary(s, req->data.arch, req->data.nr))
                    s->in_runtime_phase = 0;
                pthread_mutex_unlock(&s->lock);
                if (e && s->capture_exe && e->count == 1 && !e->first_exe) {
                    char exe[512];
                    if (sr_proc_exe((pid_t)req->pid, exe, sizeof exe) > 0) {
                        char *copy = strdup(exe);
                        pthread_mutex_lock(&s->lock);
                        e->first_exe = copy;
                        pthread_mutex_unlock(&s->lock);
                    }
                }
            }
            memset(resp, 0, sizes.seccomp_notif_resp);
            resp->id = req->id;
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            (void)ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
            continue;
        }
        if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            free(req);
            free(resp);
            return SR_END_HANGUP;
        }
    }
    free(req);
    free(resp);
    return SR_END_ERROR;
}

static void *session_main(void *arg)
{
    struct sr_session *s = arg;
    enum sr_end_reason r = SR_END_NONE;
    if (s->listener < 0)
        r = take_listener(s);
    if (r == SR_END_NONE)
        r = serve(s);
    pthread_mutex_lock(&s->lock);
    s->end_reason = r;
    pthread_mutex_unlock(&s->lock);
    __atomic_store_n(&s->serve_done, 1, __ATOMIC_SEQ_CST);
    if (s->on_end)
        s->on_end(s, s->user);
    return NULL;
}

int sr_session_start(struct sr_session *s, pid_t pid, int target_fd, int listener_fd,
                     const struct sr_watch *watches, uint32_t nwatches,
                     const struct sr_watch *boundary, uint32_t nboundary, int sync_wakeup,
                     int attach_timeout_ms, int capture_exe, sr_end_cb on_end, void *user)
{
    int err;
    memset(s, 0, sizeof *s);
    /* Owned from here on, whatever fails below: sr_session_destroy closes it.
     * A listener nobody serves nor closes would hang its container for good. */
    s->listener = pid > 0 ? -1 : listener_fd;
    s->pidfd = -1;
    s->stop_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (sr_table_init(&s->table, watches, nwatches) < 0 ||
        sr_table_init(&s->runtime_table, watches, nwatches) < 0)
        return ENOMEM;
    if (nboundary) {
        s->boundary = malloc(nboundary * sizeof *boundary);
        if (!s->boundary)
            return ENOMEM;
        memcpy(s->boundary, boundary, nboundary * sizeof *boundary);
        s->nboundary = nboundary;
        s->in_runtime_phase = 1;
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0)
        return errno;
    if (pid > 0) {
        s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (s->pidfd < 0)
            return errno;
        s->target_fd = target_fd;
    }
    s->want_sync_wakeup = sync_wakeup;
    s->capture_exe = capture_exe;
    s->attach_timeout_ms = attach_timeout_ms > 0 ? attach_timeout_ms : 10000;
    s->on_end = on_end;
    s->user = user;
    err = pthread_create(&s->thread, NULL, session_main, s);
    if (err)
        return err;
    s->thread_started = 1;
    return 0;
}

/* Resends the wake-up signal until the session thread is past its loop: a
 * signal that lands just before the thread enters RECV would be lost. */
static void *kick_main(void *arg)
{
    struct sr_session *s = arg;
    while (!__atomic_load_n(&s->serve_done, __ATOMIC_SEQ_CST)) {
        sr_recv_interrupt(s->thread);
        usleep(1000);
    }
    return NULL;
}

void sr_session_stop(struct sr_session *s)
{
    uint64_t one = 1;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
    if (s->stop_fd >= 0)
        (void)!write(s->stop_fd, &one, sizeof one);
    if (s->thread_started && __atomic_load_n(&s->blocking_recv, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&s->lock);
        if (!s->kicker_started && pthread_create(&s->kicker, NULL, kick_main, s) == 0)
            s->kicker_started = 1;
        pthread_mutex_unlock(&s->lock);
    }
}

void sr_session_destroy(struct sr_session *s)
{
    if (s->thread_started) {
        sr_session_stop(s);
        /* The kicker first: it signals the session thread until that one is done. */
        if (s->kicker_started) {
            pthread_join(s->kicker, NULL);
            s->kicker_started = 0;
        }
        pthread_join(s->thread, NULL);
        s->thread_started = 0;
    }
    if (s->listener >= 0)
        close(s->listener);
    if (s->pidfd >= 0)
        close(s->pidfd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    s->listener = s->pidfd = s->stop_fd = -1;
    sr_table_free(&s->table);
    sr_table_free(&s->runtime_table);
    free(s->boundary);
    s->boundary = NULL;
    pthread_mutex_destroy(&s->lock);
}
