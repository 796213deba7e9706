/* Receives seccomp listeners from OCI runtimes (runc, crun) over the
 * runtime-spec `listenerPath` protocol: one connection per container, one
 * JSON state message, one SCM_RIGHTS descriptor, then EOF. Each connection is
 * read on its own short-lived thread with a deadline, so a stalled or hostile
 * client never delays the others. Nothing here runs on the JS thread:
 * stopping is a request, and the server reports when it has wound down. */
#ifndef SR_OCI_SOCKET_H
#define SR_OCI_SOCKET_H

#include <pthread.h>
#include <stdint.h>

#define SR_OCI_MAX_MESSAGE (1 << 20)
#define SR_OCI_MAX_CONNECTIONS 512
#define SR_OCI_DEADLINE_MS 5000
/* accept4 failing for want of descriptors or memory: first and longest wait before the next try. */
#define SR_OCI_BACKOFF_MIN_MS 10
#define SR_OCI_BACKOFF_MAX_MS 500

struct sr_oci_connection {
    char *text;        /* the state JSON as received (not NUL-terminated), or NULL */
    size_t text_len;
    int listener_fd;   /* verified seccomp listener, or -1 */
    int peer_pid;
    char peer_exe[256]; /* basename of the peer's executable (its comm when that is not visible) */
    char error[160];   /* empty when accepted */
};

struct sr_oci_server;
/* Called on the connection's own thread while the client's socket is still
 * open; takes ownership of conn (and of its listener). */
typedef void (*sr_oci_cb)(struct sr_oci_server *srv, struct sr_oci_connection *conn, void *user);
/* Called once, on the accept thread, after a stop request: no connection is
 * in progress and no callback will follow. */
typedef void (*sr_oci_closed_cb)(struct sr_oci_server *srv, void *user);
/* Called on the accept thread when accept4 starts failing (err) and when it works again (err 0). */
typedef void (*sr_oci_accept_cb)(struct sr_oci_server *srv, int err, void *user);

struct sr_oci_server {
    int listen_fd;
    int stop_fd;       /* eventfd: written once by sr_oci_server_request_stop */
    int abort_fd;      /* eventfd: written on teardown; connections in progress give up */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    /* guarded by lock */
    int active;        /* connection threads running */
    uint64_t accepted, refused;
    uint64_t accept_errors; /* accept4 failures (EMFILE, ENFILE, ENOMEM, ENOBUFS...) */
    int accept_failing;     /* the last accept4 failed; errno of it */
    sr_oci_cb on_connection;
    sr_oci_closed_cb on_closed;
    sr_oci_accept_cb on_accept_state;
    void *user;
};

struct sr_oci_stats {
    uint64_t accepted, refused, accept_errors;
    int active, accept_failing;
};

/* Takes ownership of listen_fd (a bound, listening AF_UNIX socket). */
int sr_oci_server_start(struct sr_oci_server *srv, int listen_fd, sr_oci_cb cb, sr_oci_closed_cb closed,
                        sr_oci_accept_cb accept_state, void *user);
/* Asks the server to stop, in this order: new connections are refused at once
 * (shutdown of the listening socket), connections already queued are still
 * accepted, each connection in progress runs to its end (its message, or its
 * deadline), then on_closed. Returns at once; any thread may call it. */
void sr_oci_server_request_stop(struct sr_oci_server *srv);
/* Waits for the accept thread and frees what start made; call after on_closed
 * ran, or (on teardown) after request_stop: then it waits for connections to end. */
void sr_oci_server_destroy(struct sr_oci_server *srv);
void sr_oci_server_stats(struct sr_oci_server *srv, struct sr_oci_stats *out);
void sr_oci_connection_free(struct sr_oci_connection *c);

#endif
