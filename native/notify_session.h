/* One seccomp user-notify listener served by its own thread: take the
 * listener (from a launched child with pidfd_getfd, or a given fd), answer
 * every notification with CONTINUE at once, count it in the table. */
#ifndef SR_NOTIFY_SESSION_H
#define SR_NOTIFY_SESSION_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "observations.h"

enum sr_end_reason {
    SR_END_NONE = 0,
    SR_END_HANGUP,          /* every task using the filter is gone */
    SR_END_STOPPED,         /* stop requested */
    SR_END_TARGET_GONE,     /* the launched child exited before the listener was taken */
    SR_END_ATTACH_TIMEOUT,  /* the listener never appeared */
    SR_END_ERROR            /* a syscall of the loop failed; see end_errno */
};

struct sr_session;
typedef void (*sr_end_cb)(struct sr_session *s, void *user);

struct sr_session {
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    struct sr_table table;      /* guarded by lock */
    struct sr_table runtime_table; /* calls before the first boundary call (a runtime's own) */
    struct sr_watch *boundary;  /* (arch, nr) of calls that end the runtime phase: execve, execveat */
    uint32_t nboundary;
    int in_runtime_phase;
    int listener;               /* -1 until taken */
    int pidfd;                  /* child to take the listener from, or -1 */
    int target_fd;              /* listener's number inside the child */
    int stop_fd;                /* eventfd */
    int attach_timeout_ms;
    int want_sync_wakeup;
    int capture_exe;            /* readlink /proc/PID/exe of each syscall's first caller */
    /* written by the session thread, read under lock */
    uint64_t notifications;
    uint64_t lost;              /* counted nowhere (out of memory) */
    int sync_wakeup_active;
    /* RECV blocks (no poll first) where the kernel wakes it when the filter's last user
     * goes away (recv_probe.c); a stop then interrupts it with a signal, resent by the
     * kicker thread until the loop has ended. SECCOMP_RECORDER_POLL_RECV=1: poll anyway. */
    int blocking_recv;
    int stopping;               /* atomic */
    int serve_done;             /* atomic: the session thread is past its loop */
    pthread_t kicker;
    int kicker_started;         /* guarded by lock */
    enum sr_end_reason end_reason;
    int end_errno;
    sr_end_cb on_end;
    void *user;
};

/* pid > 0: take fd target_fd from that process once it exists there.
 * Otherwise listener_fd is used: ownership passes to the session at once, on
 * failure too (sr_session_destroy, which the caller runs either way, closes it). */
int sr_session_start(struct sr_session *s, pid_t pid, int target_fd, int listener_fd,
                     const struct sr_watch *watches, uint32_t nwatches,
                     const struct sr_watch *boundary, uint32_t nboundary, int sync_wakeup,
                     int attach_timeout_ms, int capture_exe, sr_end_cb on_end, void *user);
void sr_session_stop(struct sr_session *s);
/* Joins the thread and frees everything; call after on_end ran. */
void sr_session_destroy(struct sr_session *s);

const char *sr_end_reason_name(enum sr_end_reason r);

#endif
