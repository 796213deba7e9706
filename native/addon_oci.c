/* N-API side of the OCI listenerPath receiver: creates the socket and runs the
 * native server. A received listener is served at once, on the connection's
 * thread (a notify session counting into its C table), before JS hears of
 * it: an event loop that stalls (a large parse, a slow API handler) never
 * delays a container's start. JS then gets, through one thread-safe function
 * and in this order per container, {kind:'connection', stateText?, session?,
 * sessionId?, error?, peerPid, peerExe?}, later {kind:'end', sessionId, info};
 * once after ociClose, {kind:'closed'}; and {kind:'accept', errno, error?}
 * when accepting starts failing (errno) or works again (0). */
#define NAPI_VERSION 8
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addon_session.h"
#include "addon_util.h"
#include "oci_socket.h"

struct oci_handle {
    struct sr_oci_server srv;
    napi_threadsafe_function events;
    /* how runtime sessions are served (fixed at ociListen) */
    struct sr_watch *watches, *boundary;
    uint32_t nwatches, nboundary;
    int sync_wakeup;
    uint64_t next_session;
    int stop_requested;
    int started;
};

enum oci_event_kind { EV_CONNECTION, EV_END, EV_CLOSED, EV_ACCEPT };

struct oci_event {
    enum oci_event_kind kind;
    struct sr_oci_connection *conn;   /* EV_CONNECTION */
    struct session_handle *session;   /* EV_CONNECTION, when served */
    uint64_t session_id;              /* EV_CONNECTION (served), EV_END */
    /* EV_END: the session's figures at its end (the handle may be gone by delivery) */
    enum sr_end_reason reason;
    int end_errno, sync_wakeup, attached;
    uint64_t notifications, lost;
    int accept_errno;                 /* EV_ACCEPT */
};

static void free_unserved(struct session_handle *h)
{
    /* Never announced to JS: stop serving (its container's later notified
     * calls fail with ENOSYS, as after a drain), close, free. */
    sr_session_destroy(&h->s);
    free(h);
}

static void deliver(napi_env env, napi_value js_cb, void *context, void *data)
{
    struct oci_event *ev = data;
    napi_value undef, o;
    (void)context;
    if (!env || !js_cb) {
        if (ev->session)
            free_unserved(ev->session);
        sr_oci_connection_free(ev->conn);
        free(ev);
        return;
    }
    napi_create_object(env, &o);
    switch (ev->kind) {
    case EV_CONNECTION: {
        struct sr_oci_connection *c = ev->conn;
        set(env, o, "kind", make_str(env, "connection"));
        if (c->text) {
            napi_value text;
            napi_create_string_utf8(env, c->text, c->text_len, &text);
            set(env, o, "stateText", text);
        }
        if (ev->session) {
            napi_value handle;
            if (sr_session_wrap(env, ev->session, &handle) == napi_ok) {
                set(env, o, "session", handle);
                set(env, o, "sessionId", make_int(env, (int64_t)ev->session_id));
            } else {
                free_unserved(ev->session);
                set(env, o, "error", make_str(env, "cannot serve the listener: cannot wrap the session"));
            }
        }
        if (c->error[0])
            set(env, o, "error", make_str(env, c->error));
        set(env, o, "peerPid", make_int(env, c->peer_pid));
        if (c->peer_exe[0])
            set(env, o, "peerExe", make_str(env, c->peer_exe));
        sr_oci_connection_free(c);
        break;
    }
    case EV_END: {
        napi_value info;
        set(env, o, "kind", make_str(env, "end"));
        set(env, o, "sessionId", make_int(env, (int64_t)ev->session_id));
        napi_create_object(env, &info);
        set(env, info, "reason", make_str(env, sr_end_reason_name(ev->reason)));
        set(env, info, "errno", make_int(env, ev->end_errno));
        set(env, info, "notifications", make_int(env, (int64_t)ev->notifications));
        set(env, info, "lost", make_int(env, (int64_t)ev->lost));
        set(env, info, "syncWakeup", make_int(env, ev->sync_wakeup));
        set(env, info, "attached", make_int(env, ev->attached));
        set(env, o, "info", info);
        break;
    }
    case EV_CLOSED:
        set(env, o, "kind", make_str(env, "closed"));
        break;
    case EV_ACCEPT:
        set(env, o, "kind", make_str(env, "accept"));
        set(env, o, "errno", make_int(env, ev->accept_errno));
        if (ev->accept_errno)
            set(env, o, "error", make_str(env, strerror(ev->accept_errno)));
        break;
    }
    free(ev);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, js_cb, 1, &o, NULL);
}

/* Session thread: the listener's last task is gone (or it was stopped). */
static void on_session_end(struct sr_session *s, void *user)
{
    struct session_handle *h = user;
    struct oci_event *ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->kind = EV_END;
        ev->session_id = h->id;
        pthread_mutex_lock(&s->lock);
        ev->reason = s->end_reason;
        ev->end_errno = s->end_errno;
        ev->notifications = s->notifications;
        ev->lost = s->lost;
        ev->sync_wakeup = s->sync_wakeup_active;
        ev->attached = s->listener >= 0;
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(&h->post_lock);
    if (ev && napi_call_threadsafe_function(h->on_end, ev, napi_tsfn_nonblocking) != napi_ok)
        free(ev);
    pthread_mutex_unlock(&h->post_lock);
    napi_release_threadsafe_function(h->on_end, napi_tsfn_release);
}

/* Connection thread, the client's socket still open: serve, then tell JS. */
static void on_connection(struct sr_oci_server *srv, struct sr_oci_connection *c, void *user)
{
    struct oci_handle *o = user;
    struct oci_event *ev = calloc(1, sizeof *ev);
    struct session_handle *h = NULL;
    (void)srv;
    if (!ev) {
        sr_oci_connection_free(c);
        return;
    }
    ev->kind = EV_CONNECTION;
    ev->conn = c;
    if (c->listener_fd >= 0) {
        int fd = c->listener_fd, err;
        c->listener_fd = -1;
        h = calloc(1, sizeof *h);
        if (!h) {
            close(fd);
            snprintf(c->error, sizeof c->error, "cannot serve the listener: out of memory");
        } else if (napi_acquire_threadsafe_function(o->events) != napi_ok) {
            close(fd);
            free(h);
            h = NULL;
            snprintf(c->error, sizeof c->error, "cannot serve the listener: the agent is shutting down");
        } else {
            h->on_end = o->events;
            h->id = __atomic_add_fetch(&o->next_session, 1, __ATOMIC_RELAXED);
            pthread_mutex_init(&h->post_lock, NULL);
            pthread_mutex_lock(&h->post_lock);
            err = sr_session_start(&h->s, 0, -1, fd, o->watches, o->nwatches, o->boundary, o->nboundary,
                                   o->sync_wakeup, 0, 0, on_session_end, h);
            if (err) {
                /* The session owns fd already: destroying it closes it, so the
                 * container's notified calls fail (ENOSYS) instead of hanging. */
                pthread_mutex_unlock(&h->post_lock);
                sr_session_destroy(&h->s);
                napi_release_threadsafe_function(o->events, napi_tsfn_release);
                free(h);
                h = NULL;
                snprintf(c->error, sizeof c->error, "cannot serve the listener: %s", strerror(err));
            } else {
                h->started = 1;
                ev->session = h;
                ev->session_id = h->id;
            }
        }
    }
    if (napi_call_threadsafe_function(o->events, ev, napi_tsfn_nonblocking) != napi_ok) {
        if (h) {
            pthread_mutex_unlock(&h->post_lock);
            free_unserved(h); /* its end posts nothing (closing) and drops its reference */
        }
        sr_oci_connection_free(c);
        free(ev);
        return;
    }
    if (h)
        pthread_mutex_unlock(&h->post_lock);
}

static void post_simple(struct oci_handle *o, enum oci_event_kind kind, int err)
{
    struct oci_event *ev = calloc(1, sizeof *ev);
    if (!ev)
        return;
    ev->kind = kind;
    ev->accept_errno = err;
    if (napi_call_threadsafe_function(o->events, ev, napi_tsfn_nonblocking) != napi_ok)
        free(ev);
}

static void on_accept_state(struct sr_oci_server *srv, int err, void *user)
{
    (void)srv;
    post_simple(user, EV_ACCEPT, err);
}

/* Accept thread, after a stop request: nothing more will come from the server. */
static void on_closed(struct sr_oci_server *srv, void *user)
{
    struct oci_handle *o = user;
    (void)srv;
    post_simple(o, EV_CLOSED, 0);
    napi_release_threadsafe_function(o->events, napi_tsfn_release);
}

static void finalize(napi_env env, void *data, void *hint)
{
    struct oci_handle *h = data;
    (void)env;
    (void)hint;
    /* Collected (or the environment torn down) without waiting for 'closed':
     * connections in progress give up at once; the join is short. */
    if (h->started)
        sr_oci_server_destroy(&h->srv);
    free(h->watches);
    free(h->boundary);
    free(h);
}

static int make_socket(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd;
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "socket path longer than %zu bytes", sizeof addr.sun_path - 1);
        return -1;
    }
    /* A stale socket from an earlier run is replaced; anything else is not ours to remove. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -1;
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ociListen(path, {watches?, runtimeBoundary?, syncWakeup?}, onEvent) -> handle */
napi_value oci_listen(napi_env env, napi_callback_info info)
{
    size_t argc = 3, len;
    napi_value argv[3], name, handle_v;
    napi_valuetype t0, t1, t2;
    char path[256], err[256];
    struct oci_handle *h;
    int64_t sync_wakeup;
    int fd, rc;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_string ||
        napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_object ||
        napi_typeof(env, argv[2], &t2) != napi_ok || t2 != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "ociListen(path, options, onEvent) expects a string, an object and a function");
        return NULL;
    }
    napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len);
    if (len >= sizeof path - 1) {
        napi_throw_range_error(env, "ERR_INVALID_ARG", "ociListen(): path too long");
        return NULL;
    }
    if (get_int_prop(env, argv[1], "syncWakeup", 1, &sync_wakeup)) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "ociListen(): syncWakeup must be a number");
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    h->sync_wakeup = (int)sync_wakeup;
    if (sr_read_watch_list(env, argv[1], "watches", 4, &h->watches, &h->nwatches) < 0 ||
        sr_read_watch_list(env, argv[1], "runtimeBoundary", 2, &h->boundary, &h->nboundary) < 0) {
        free(h->watches);
        free(h);
        return NULL;
    }
    fd = make_socket(path, err, sizeof err);
    if (fd < 0) {
        free(h->watches);
        free(h->boundary);
        free(h);
        napi_throw_error(env, "ERR_LISTEN", err);
        return NULL;
    }
    napi_create_string_utf8(env, "seccomp-recorder-oci", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, h, deliver, &h->events) != napi_ok) {
        close(fd);
        free(h->watches);
        free(h->boundary);
        free(h);
        napi_throw_error(env, "ERR_NATIVE", "cannot create thread-safe function");
        return NULL;
    }
    rc = sr_oci_server_start(&h->srv, fd, on_connection, on_closed, on_accept_state, h);
    if (rc) {
        sr_oci_server_destroy(&h->srv);
        napi_release_threadsafe_function(h->events, napi_tsfn_abort);
        free(h->watches);
        free(h->boundary);
        free(h);
        napi_throw_error(env, "ERR_NATIVE", strerror(rc));
        return NULL;
    }
    h->started = 1;
    CHECK(napi_create_external(env, h, finalize, NULL, &handle_v));
    return handle_v;
}

static struct oci_handle *get_oci(napi_env env, napi_callback_info info, const char *what)
{
    size_t argc = 1;
    napi_value argv[1];
    void *p = NULL;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
        napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", what);
        return NULL;
    }
    return p;
}

/* ociClose(handle): asks the server to stop and returns at once; the
 * 'closed' event follows the last connection in progress. Idempotent. */
napi_value oci_close(napi_env env, napi_callback_info info)
{
    struct oci_handle *h = get_oci(env, info, "ociClose(handle) expects a server handle");
    if (!h)
        return NULL;
    if (!h->stop_requested) {
        h->stop_requested = 1;
        sr_oci_server_request_stop(&h->srv);
    }
    return NULL;
}

/* ociStats(handle) -> {accepted, refused, acceptErrors, inProgress, acceptFailing} */
napi_value oci_stats(napi_env env, napi_callback_info info)
{
    struct oci_handle *h = get_oci(env, info, "ociStats(handle) expects a server handle");
    struct sr_oci_stats st;
    napi_value o;
    if (!h)
        return NULL;
    sr_oci_server_stats(&h->srv, &st);
    napi_create_object(env, &o);
    set(env, o, "accepted", make_int(env, (int64_t)st.accepted));
    set(env, o, "refused", make_int(env, (int64_t)st.refused));
    set(env, o, "acceptErrors", make_int(env, (int64_t)st.accept_errors));
    set(env, o, "inProgress", make_int(env, st.active));
    set(env, o, "acceptFailing", make_int(env, st.accept_failing));
    return o;
}
