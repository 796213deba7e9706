/* OCI listenerPath receiver: accept thread plus one thread per connection. */
#define _GNU_SOURCE
#include "oci_socket.h"
#include "fd_kind.h"
#include "proc_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS_PER_MESSAGE 16

struct conn_job {
    struct sr_oci_server *srv;
    int fd;
};

/* The peer's executable name: /proc/PID/exe's basename, or its comm when the
 * executable lives in a mount namespace we cannot see (readlink gives "/"). */
static void peer_exe(pid_t pid, char *out, size_t outlen)
{
    char path[64], buf[512];
    const char *base;
    out[0] = 0;
    if (sr_proc_exe(pid, buf, sizeof buf) > 0) {
        base = strrchr(buf, '/');
        base = base ? base + 1 : buf;
        if (*base) {
            size_t len = strlen(base);
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, base, len);
            out[len] = 0;
            return;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    {
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(out, (int)outlen, f))
                out[strcspn(out, "\n")] = 0;
            fclose(f);
        }
    }
}

/* Tracks whether the bytes so far hold one complete JSON value (object or
 * array): runc keeps the connection open until the container runs, and the
 * container cannot run until its listener is served, so EOF cannot be the
 * end-of-message signal. Anything but white space before the first '{' or '['
 * (a stray '}' would otherwise end the message one level early) makes the
 * message invalid: the reading stops and the connection is refused. */
struct json_scan {
    int depth;
    int started;
    int in_string;
    int escaped;
    int complete;
    int invalid;
};

static void json_scan_feed(struct json_scan *j, const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n && !j->complete && !j->invalid; i++) {
        char ch = p[i];
        if (!j->started) {
            if (ch == '{' || ch == '[') {
                j->depth = 1;
                j->started = 1;
            } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
                j->invalid = 1;
            continue;
        }
        if (j->in_string) {
            if (j->escaped)
                j->escaped = 0;
            else if (ch == '\\')
                j->escaped = 1;
            else if (ch == '"')
                j->in_string = 0;
            continue;
        }
        if (ch == '"')
            j->in_string = 1;
        else if (ch == '{' || ch == '[')
            j->depth++;
        else if (ch == '}' || ch == ']') {
            if (--j->depth == 0)
                j->complete = 1;
        }
    }
}

/* Reads one connection: data until a complete JSON value (or EOF), descriptors from any message. */
static void read_connection(struct sr_oci_server *srv, int sock, struct sr_oci_connection *c)
{
    int fds[MAX_FDS_PER_MESSAGE * 4];
    int nfds = 0, overflow_fds = 0, i;
    size_t cap = 4096;
    int64_t deadline = sr_now_ms() + SR_OCI_DEADLINE_MS;
    struct ucred cred;
    socklen_t credlen = sizeof cred;
    struct json_scan scan;

    memset(&scan, 0, sizeof scan);
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) != 0) {
        snprintf(c->error, sizeof c->error, "peer is not root: its credentials cannot be read (%s)", strerror(errno));
        return;
    }
    c->peer_pid = cred.pid;
    /* Read now: a runtime's next calls wait for the listener we have not served yet. */
    peer_exe(cred.pid, c->peer_exe, sizeof c->peer_exe);
    /* Only root runs the runtimes that hand us listeners; anyone else is refused unread. */
    if (cred.uid != 0) {
        snprintf(c->error, sizeof c->error, "peer is not root (uid %u, gid %u)", (unsigned)cred.uid, (unsigned)cred.gid);
        return;
    }
    c->text = malloc(cap);
    if (!c->text) {
        snprintf(c->error, sizeof c->error, "out of memory");
        return;
    }
    for (;;) {
        char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MESSAGE)];
        struct iovec iov;
        struct msghdr msg;
        struct cmsghdr *cm;
        struct pollfd pfd[2] = { { sock, POLLIN, 0 }, { srv->abort_fd, POLLIN, 0 } };
        int64_t left = deadline - sr_now_ms();
        ssize_t n;

        if (left <= 0) {
            snprintf(c->error, sizeof c->error, "client sent no end of message within %d ms", SR_OCI_DEADLINE_MS);
            break;
        }
        if (poll(pfd, 2, (int)left) <= 0)
            continue; /* timeout is caught above; EINTR retries */
        if (pfd[1].revents) {
            snprintf(c->error, sizeof c->error, "the agent is shutting down");
            break;
        }
        if (c->text_len == cap) {
            char *bigger;
            if (cap >= SR_OCI_MAX_MESSAGE) {
                snprintf(c->error, sizeof c->error, "message larger than %d bytes", SR_OCI_MAX_MESSAGE);
                break;
            }
            bigger = realloc(c->text, cap * 2);
            if (!bigger) {
                snprintf(c->error, sizeof c->error, "out of memory");
                break;
            }
            c->text = bigger;
            cap *= 2;
        }
        iov.iov_base = c->text + c->text_len;
        iov.iov_len = cap - c->text_len;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            snprintf(c->error, sizeof c->error, "recvmsg failed: %s", strerror(errno));
            break;
        }
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                int *data = (int *)CMSG_DATA(cm);
                for (i = 0; i < count; i++) {
                    if (nfds < (int)(sizeof fds / sizeof fds[0]))
                        fds[nfds++] = data[i];
                    else {
                        close(data[i]);
                        overflow_fds++;
                    }
                }
            }
        }
        if (msg.msg_flags & MSG_CTRUNC)
            overflow_fds++;
        if (n == 0)
            break; /* EOF: the runtime closed after sending */
        json_scan_feed(&scan, c->text + c->text_len, (size_t)n);
        c->text_len += (size_t)n;
        if (scan.invalid) {
            snprintf(c->error, sizeof c->error, "the state message does not start with a JSON object");
            break;
        }
        if (scan.complete && nfds + overflow_fds > 0)
            break;
    }

    if (!c->error[0]) {
        if (nfds + overflow_fds == 0)
            snprintf(c->error, sizeof c->error, "no file descriptor was sent");
        else if (nfds + overflow_fds > 1)
            snprintf(c->error, sizeof c->error, "%d file descriptors were sent, expected one", nfds + overflow_fds);
        else if (!sr_is_seccomp_listener(fds[0]))
            snprintf(c->error, sizeof c->error, "the descriptor sent is not a seccomp listener");
        else if (c->text_len == 0)
            snprintf(c->error, sizeof c->error, "no container state was sent");
        else {
            c->listener_fd = fds[0];
            nfds = 0;
        }
    }
    for (i = 0; i < nfds; i++)
        close(fds[i]);
}

static void *connection_main(void *arg)
{
    struct conn_job *job = arg;
    struct sr_oci_server *srv = job->srv;
    struct sr_oci_connection *c = calloc(1, sizeof *c);
    if (c) {
        c->listener_fd = -1;
        read_connection(srv, job->fd, c);
        /* The client's socket stays open until the listener is served (or
         * refused): a runtime waits on it, and serving comes first. */
        srv->on_connection(srv, c, srv->user); /* takes ownership of c */
    }
    close(job->fd);
    free(job);
    pthread_mutex_lock(&srv->lock);
    srv->active--;
    if (srv->active == 0)
        pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

static void refuse(struct sr_oci_server *srv, const char *why)
{
    struct sr_oci_connection *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->listener_fd = -1;
    snprintf(c->error, sizeof c->error, "%s", why);
    srv->on_connection(srv, c, srv->user);
}

/* Hands one accepted socket to a connection thread (or refuses it). */
static void dispatch(struct sr_oci_server *srv, int fd)
{
    struct conn_job *job;
    pthread_t t;
    pthread_attr_t attr;
    int ok = 0;

    pthread_mutex_lock(&srv->lock);
    if (srv->active >= SR_OCI_MAX_CONNECTIONS) {
        srv->refused++;
        pthread_mutex_unlock(&srv->lock);
        close(fd);
        refuse(srv, "too many connections in progress");
        return;
    }
    srv->active++;
    srv->accepted++;
    pthread_mutex_unlock(&srv->lock);
    job = malloc(sizeof *job);
    if (job) {
        job->srv = srv;
        job->fd = fd;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        ok = pthread_create(&t, &attr, connection_main, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        free(job);
        close(fd);
        pthread_mutex_lock(&srv->lock);
        srv->active--;
        if (srv->active == 0)
            pthread_cond_broadcast(&srv->idle);
        pthread_mutex_unlock(&srv->lock);
        refuse(srv, "cannot start a connection thread");
    }
}

/* Errors of accept4 that say "not now" (no descriptor or memory free), as
 * opposed to one connection's trouble (ECONNABORTED, EPROTO...). */
static int accept_starved(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void note_accept(struct sr_oci_server *srv, int err)
{
    int was;
    pthread_mutex_lock(&srv->lock);
    was = srv->accept_failing;
    srv->accept_failing = err;
    if (err)
        srv->accept_errors++;
    pthread_mutex_unlock(&srv->lock);
    if (!was != !err && srv->on_accept_state)
        srv->on_accept_state(srv, err, srv->user);
}

/* Stopping: the listening socket was shut down (new connects are refused);
 * take what is still queued, wait for every connection in progress, report. */
static void wind_down(struct sr_oci_server *srv)
{
    int fd;
    int64_t give_up = sr_now_ms() + SR_OCI_DEADLINE_MS;
    shutdown(srv->listen_fd, SHUT_RD);
    for (;;) {
        fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (accept_starved(errno)) {
                /* Descriptors may free up as connections end; wait a little, unless told to abort. */
                struct pollfd pfd = { srv->abort_fd, POLLIN, 0 };
                note_accept(srv, errno);
                if (sr_now_ms() > give_up || poll(&pfd, 1, SR_OCI_BACKOFF_MAX_MS) > 0)
                    break; /* what is still queued is dropped with the socket */
                continue;
            }
            break; /* EAGAIN: the queue is empty */
        }
        fcntl(fd, F_SETFL, 0);
        dispatch(srv, fd);
    }
    close(srv->listen_fd);
    srv->listen_fd = -1;
    pthread_mutex_lock(&srv->lock);
    while (srv->active > 0)
        pthread_cond_wait(&srv->idle, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
    if (srv->on_closed)
        srv->on_closed(srv, srv->user);
}

static void *accept_main(void *arg)
{
    struct sr_oci_server *srv = arg;
    int backoff_ms = 0;
    pthread_setname_np(pthread_self(), "sr-oci-accept");
    for (;;) {
        struct pollfd pfd[2] = { { srv->listen_fd, POLLIN, 0 }, { srv->stop_fd, POLLIN, 0 } };
        int fd;
        /* While accept4 is starved, wait before the next try instead of
         * spinning on a socket that stays readable (the queue is not
         * emptied); queued runtimes wait and are served once descriptors free up. */
        if (poll(backoff_ms ? &pfd[1] : pfd, backoff_ms ? 1 : 2, backoff_ms ? backoff_ms : -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        if (!backoff_ms && !(pfd[0].revents & POLLIN))
            continue;
        fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (accept_starved(errno)) {
                note_accept(srv, errno);
                backoff_ms = backoff_ms ? backoff_ms * 2 : SR_OCI_BACKOFF_MIN_MS;
                if (backoff_ms > SR_OCI_BACKOFF_MAX_MS)
                    backoff_ms = SR_OCI_BACKOFF_MAX_MS;
            } else
                backoff_ms = 0; /* EAGAIN, ECONNABORTED...: that one connection's business */
            continue;
        }
        if (backoff_ms || srv->accept_failing)
            note_accept(srv, 0);
        backoff_ms = 0;
        dispatch(srv, fd);
    }
    wind_down(srv);
    return NULL;
}

int sr_oci_server_start(struct sr_oci_server *srv, int listen_fd, sr_oci_cb cb, sr_oci_closed_cb closed,
                        sr_oci_accept_cb accept_state, void *user)
{
    memset(srv, 0, sizeof *srv);
    srv->listen_fd = listen_fd;
    srv->on_connection = cb;
    srv->on_closed = closed;
    srv->on_accept_state = accept_state;
    srv->user = user;
    srv->abort_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    srv->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (srv->stop_fd < 0)
        return errno;
    srv->abort_fd = eventfd(0, EFD_CLOEXEC);
    if (srv->abort_fd < 0)
        return errno;
    if (pthread_create(&srv->thread, NULL, accept_main, srv) != 0)
        return EAGAIN;
    srv->thread_started = 1;
    return 0;
}

void sr_oci_server_request_stop(struct sr_oci_server *srv)
{
    uint64_t one = 1;
    if (srv->stop_fd >= 0)
        (void)!write(srv->stop_fd, &one, sizeof one);
}

void sr_oci_server_destroy(struct sr_oci_server *srv)
{
    uint64_t one = 1;
    if (srv->thread_started) {
        /* Teardown without waiting for on_closed: connections in progress give up. */
        sr_oci_server_request_stop(srv);
        if (srv->abort_fd >= 0)
            (void)!write(srv->abort_fd, &one, sizeof one);
        pthread_join(srv->thread, NULL);
        srv->thread_started = 0;
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    if (srv->abort_fd >= 0)
        close(srv->abort_fd);
    srv->listen_fd = srv->stop_fd = srv->abort_fd = -1;
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
}

void sr_oci_server_stats(struct sr_oci_server *srv, struct sr_oci_stats *out)
{
    pthread_mutex_lock(&srv->lock);
    out->accepted = srv->accepted;
    out->refused = srv->refused;
    out->accept_errors = srv->accept_errors;
    out->active = srv->active;
    out->accept_failing = srv->accept_failing;
    pthread_mutex_unlock(&srv->lock);
}

void sr_oci_connection_free(struct sr_oci_connection *c)
{
    if (!c)
        return;
    if (c->listener_fd >= 0)
        close(c->listener_fd);
    free(c->text);
    free(c);
}
