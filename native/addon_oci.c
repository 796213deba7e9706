/* N-API side of the OCI listenerPath receiver: creates the socket, runs the
 * native server, and hands each connection to JS through a thread-safe
 * function as {stateText?, listenerFd?, error?, peerPid}. */
#define NAPI_VERSION 8
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addon_util.h"
#include "oci_socket.h"

struct oci_handle {
    struct sr_oci_server srv;
    napi_threadsafe_function on_conn;
    int closed;
};

static void deliver(napi_env env, napi_value js_cb, void *context, void *data)
{
    struct sr_oci_connection *c = data;
    napi_value undef, o;
    (void)context;
    if (!env || !js_cb) {
        sr_oci_connection_free(c);
        return;
    }
    napi_create_object(env, &o);
    if (c->text) {
        napi_value text;
        napi_create_string_utf8(env, c->text, c->text_len, &text);
        set(env, o, "stateText", text);
    }
    if (c->listener_fd >= 0) {
        set(env, o, "listenerFd", make_int(env, c->listener_fd));
        c->listener_fd = -1; /* JS owns it now */
    }
    if (c->error[0])
        set(env, o, "error", make_str(env, c->error));
    set(env, o, "peerPid", make_int(env, c->peer_pid));
    if (c->peer_exe[0])
        set(env, o, "peerExe", make_str(env, c->peer_exe));
    sr_oci_connection_free(c);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, js_cb, 1, &o, NULL);
}

static void on_connection(struct sr_oci_server *srv, struct sr_oci_connection *c, void *user)
{
    struct oci_handle *h = user;
    (void)srv;
    if (napi_call_threadsafe_function(h->on_conn, c, napi_tsfn_nonblocking) != napi_ok)
        sr_oci_connection_free(c);
}

static void stop_handle(struct oci_handle *h)
{
    if (h->closed)
        return;
    h->closed = 1;
    sr_oci_server_stop(&h->srv);
    napi_release_threadsafe_function(h->on_conn, napi_tsfn_release);
}

static void finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    stop_handle(data);
    free(data);
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

/* ociListen(path, onConnection) -> handle */
napi_value oci_listen(napi_env env, napi_callback_info info)
{
    size_t argc = 2, len;
    napi_value argv[2], name, handle_v;
    napi_valuetype t0, t1;
    char path[256], err[256];
    struct oci_handle *h;
    int fd, rc;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_string ||
        napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "ociListen(path, onConnection) expects a string and a function");
        return NULL;
    }
    napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len);
    if (len >= sizeof path - 1) {
        napi_throw_range_error(env, "ERR_INVALID_ARG", "ociListen(): path too long");
        return NULL;
    }
    fd = make_socket(path, err, sizeof err);
    if (fd < 0) {
        napi_throw_error(env, "ERR_LISTEN", err);
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    napi_create_string_utf8(env, "seccomp-recorder-oci", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, h, deliver, &h->on_conn) != napi_ok) {
        close(fd);
        free(h);
        napi_throw_error(env, "ERR_NATIVE", "cannot create thread-safe function");
        return NULL;
    }
    rc = sr_oci_server_start(&h->srv, fd, on_connection, h);
    if (rc) {
        h->closed = 1;
        sr_oci_server_stop(&h->srv);
        napi_release_threadsafe_function(h->on_conn, napi_tsfn_abort);
        free(h);
        napi_throw_error(env, "ERR_NATIVE", strerror(rc));
        return NULL;
    }
    CHECK(napi_create_external(env, h, finalize, NULL, &handle_v));
    return handle_v;
}

/* ociClose(handle): stop accepting, wait for connections in progress. */
napi_value oci_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    void *p = NULL;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "ociClose(handle) expects a server handle");
        return NULL;
    }
    stop_handle(p);
    return NULL;
}
