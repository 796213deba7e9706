/* Receives seccomp listeners from OCI runtimes (runc, crun) over the
 * runtime-spec `listenerPath` protocol: one connection per container, one
 * JSON state message, one SCM_RIGHTS descriptor, then EOF. Each connection is
 * read on its own short-lived thread with a deadline, so a stalled or hostile
 * client never delays the others. */
#ifndef SR_OCI_SOCKET_H
#define SR_OCI_SOCKET_H

#include <pthread.h>
#include <stdint.h>

#define SR_OCI_MAX_MESSAGE (1 << 20)
#define SR_OCI_MAX_CONNECTIONS 512
#define SR_OCI_DEADLINE_MS 5000

struct sr_oci_connection {
    char *text;        /* the state JSON as received (not NUL-terminated), or NULL */
    size_t text_len;
    int listener_fd;   /* verified seccomp listener, or -1 */
    int peer_pid;
    char peer_exe[256]; /* basename of the peer's executable (its comm when that is not visible) */
    char error[160];   /* empty when accepted */
};

struct sr_oci_server;
typedef void (*sr_oci_cb)(struct sr_oci_server *srv, struct sr_oci_connection *conn, void *user);

struct sr_oci_server {
    int listen_fd;
    int stop_fd;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int active;        /* connection threads running */
    uint64_t accepted, refused;
    sr_oci_cb on_connection;
    void *user;
};

/* Takes ownership of listen_fd (a bound, listening AF_UNIX socket). */
int sr_oci_server_start(struct sr_oci_server *srv, int listen_fd, sr_oci_cb cb, void *user);
/* Stops accepting, waits for connection threads, closes the socket. */
void sr_oci_server_stop(struct sr_oci_server *srv);
void sr_oci_connection_free(struct sr_oci_connection *c);

#endif
