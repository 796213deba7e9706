/* N-API boundary of the native core. Keeps arguments primitive, re-checks
 * them, and throws TypeError/RangeError on misuse; the typed wrapper lives in
 * src/record/native.ts. Per-syscall work never reaches JS: the session thread
 * counts in C, JS drains the de-duplicated table when it wants. */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addon_util.h"
#include "addon_session.h"

/* Reads an optional Int32Array of tuples: 4 = (arch, nr, argA, argB) watches,
 * 2 = (arch, nr) boundary calls. Returns -1 with a pending exception. */
int sr_read_watch_list(napi_env env, napi_value obj, const char *key, int width, struct sr_watch **out,
                           uint32_t *count)
{
    bool has = false, is_ta = false;
    napi_value v;
    napi_valuetype vt;
    napi_typedarray_type tt;
    size_t len;
    void *data;
    const int32_t *q;
    uint32_t i, n;
    *out = NULL;
    *count = 0;
    if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
        return 0;
    napi_get_named_property(env, obj, key, &v);
    napi_typeof(env, v, &vt);
    if (vt == napi_undefined)
        return 0;
    napi_is_typedarray(env, v, &is_ta);
    if (!is_ta || napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL) != napi_ok ||
        tt != napi_int32_array || len % (size_t)width != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "start(): %s must be an Int32Array of %d-tuples", key, width);
        napi_throw_type_error(env, "ERR_INVALID_ARG", msg);
        return -1;
    }
    n = (uint32_t)(len / (size_t)width);
    if (!n)
        return 0;
    q = data;
    *out = calloc(n, sizeof **out);
    if (!*out) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        struct sr_watch *w = &(*out)[i];
        w->arch = (uint32_t)q[width * i];
        w->nr = q[width * i + 1];
        w->arg_a = width == 4 ? (int8_t)q[4 * i + 2] : 0;
        w->arg_b = width == 4 ? (int8_t)q[4 * i + 3] : -1;
        if (width == 4 && (q[4 * i + 2] < 0 || q[4 * i + 2] > 5 || q[4 * i + 3] < -1 || q[4 * i + 3] > 5)) {
            free(*out);
            *out = NULL;
            napi_throw_range_error(env, "ERR_INVALID_ARG", "start(): watch argument index out of range");
            return -1;
        }
    }
    *count = n;
    return 0;
}

napi_value sr_session_info(napi_env env, struct sr_session *s)
{
    napi_value o;
    napi_create_object(env, &o);
    pthread_mutex_lock(&s->lock);
    set(env, o, "reason", make_str(env, sr_end_reason_name(s->end_reason)));
    set(env, o, "errno", make_int(env, s->end_errno));
    set(env, o, "notifications", make_int(env, (int64_t)s->notifications));
    set(env, o, "lost", make_int(env, (int64_t)s->lost));
    set(env, o, "syncWakeup", make_int(env, s->sync_wakeup_active));
    set(env, o, "blockingRecv", make_int(env, __atomic_load_n(&s->blocking_recv, __ATOMIC_SEQ_CST)));
    set(env, o, "attached", make_int(env, s->listener >= 0));
    pthread_mutex_unlock(&s->lock);
    return o;
}

static void call_on_end(napi_env env, napi_value js_cb, void *context, void *data)
{
    struct session_handle *h = context;
    napi_value undef, arg;
    (void)data;
    if (!env || !js_cb)
        return;
    napi_get_undefined(env, &undef);
    arg = sr_session_info(env, &h->s);
    napi_call_function(env, undef, js_cb, 1, &arg, NULL);
}

static void on_end_from_thread(struct sr_session *s, void *user)
{
    struct session_handle *h = user;
    (void)s;
    napi_call_threadsafe_function(h->on_end, NULL, napi_tsfn_blocking);
    napi_release_threadsafe_function(h->on_end, napi_tsfn_release);
}

static void finalize_handle(napi_env env, void *data, void *hint)
{
    struct session_handle *h = data;
    (void)env;
    (void)hint;
    if (h->started && !h->destroyed)
        sr_session_destroy(&h->s);
    free(h);
}

napi_status sr_session_wrap(napi_env env, struct session_handle *h, napi_value *out)
{
    return napi_create_external(env, h, finalize_handle, NULL, out);
}

static struct session_handle *get_handle(napi_env env, napi_value v)
{
    void *p = NULL;
    if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a session handle");
        return NULL;
    }
    return p;
}

/* A listener given to start() that will not reach a session is closed: kept
 * open unserved, its container's notified calls would wait forever. */
static void close_given(int64_t pid, int64_t listener_fd)
{
    if (pid <= 0 && listener_fd >= 0 && listener_fd <= INT32_MAX)
        close((int)listener_fd);
}

/* start({pid, targetFd} | {listenerFd}, watches: Int32Array [arch,nr,argA,argB]*,
 *       syncWakeup: boolean, attachTimeoutMs, onEnd(info)) -> handle */
static napi_value start(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], handle_v, name;
    napi_valuetype t0, t1;
    int64_t pid, target_fd, listener_fd, sync_wakeup, timeout_ms, capture_exe;
    struct sr_watch *watches = NULL, *boundary = NULL;
    uint32_t nwatches = 0, nboundary = 0;
    struct session_handle *h;
    int err;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_object ||
        napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "start(options, onEnd) expects an object and a function");
        return NULL;
    }
    if (get_int_prop(env, argv[0], "pid", 0, &pid) || get_int_prop(env, argv[0], "targetFd", -1, &target_fd) ||
        get_int_prop(env, argv[0], "listenerFd", -1, &listener_fd) ||
        get_int_prop(env, argv[0], "syncWakeup", 1, &sync_wakeup) ||
        get_int_prop(env, argv[0], "attachTimeoutMs", 10000, &timeout_ms) ||
        get_int_prop(env, argv[0], "captureExe", 0, &capture_exe)) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "start(): numeric options must be numbers");
        return NULL;
    }
    if (pid > 0 ? (target_fd < 0 || target_fd > 65535) : (listener_fd < 0)) {
        napi_throw_range_error(env, "ERR_INVALID_ARG", "start(): need pid and targetFd, or listenerFd");
        return NULL;
    }
    /* From here on a given listener is ours: every way out closes it or hands it on. */
    if (sr_read_watch_list(env, argv[0], "watches", 4, &watches, &nwatches) < 0 ||
        sr_read_watch_list(env, argv[0], "runtimeBoundary", 2, &boundary, &nboundary) < 0) {
        free(watches);
        close_given(pid, listener_fd);
        return NULL;
    }

    h = calloc(1, sizeof *h);
    if (!h) {
        free(watches);
        free(boundary);
        close_given(pid, listener_fd);
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    napi_create_string_utf8(env, "seccomp-recorder-session", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, h, call_on_end,
                                        &h->on_end) != napi_ok) {
        free(watches);
        free(boundary);
        free(h);
        close_given(pid, listener_fd);
        napi_throw_error(env, "ERR_NATIVE", "cannot create thread-safe function");
        return NULL;
    }
    err = sr_session_start(&h->s, (pid_t)pid, (int)target_fd, (int)listener_fd, watches, nwatches,
                           boundary, nboundary, (int)sync_wakeup, (int)timeout_ms, (int)capture_exe, on_end_from_thread, h);
    free(watches);
    free(boundary);
    if (err) {
        char msg[128];
        napi_value e, code, m;
        if (!h->s.thread_started)
            napi_release_threadsafe_function(h->on_end, napi_tsfn_abort);
        sr_session_destroy(&h->s);
        free(h);
        snprintf(msg, sizeof msg, "cannot start notify session: %s", strerror(err));
        napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
        napi_create_int32(env, err, &code);
        napi_create_error(env, NULL, m, &e);
        napi_set_named_property(env, e, "errno", code);
        napi_throw(env, e);
        return NULL;
    }
    h->started = 1;
    CHECK(sr_session_wrap(env, h, &handle_v));
    return handle_v;
}

static uint32_t append_entries(napi_env env, napi_value list, uint32_t n, struct sr_table *t, const char *phase)
{
    uint32_t i;
    for (i = 0; i < t->capacity; i++) {
        struct sr_entry *e = &t->slots[i];
        napi_value o;
        if (e->arch == 0 || e->count == 0)
            continue;
        napi_create_object(env, &o);
        set(env, o, "arch", make_int(env, e->arch));
        set(env, o, "nr", make_int(env, e->nr));
        set(env, o, "count", make_int(env, (int64_t)e->count));
        set(env, o, "firstPid", make_int(env, e->first_pid));
        if (e->first_exe)
            set(env, o, "firstExe", make_str(env, e->first_exe));
        if (e->args) {
            napi_value vals;
            uint32_t j;
            napi_create_array_with_length(env, e->args->used, &vals);
            for (j = 0; j < e->args->used; j++) {
                napi_value pair, a, b;
                napi_create_array_with_length(env, 2, &pair);
                napi_create_bigint_uint64(env, e->args->values[j][0], &a);
                napi_create_bigint_uint64(env, e->args->values[j][1], &b);
                napi_set_element(env, pair, 0, a);
                napi_set_element(env, pair, 1, b);
                napi_set_element(env, vals, j, pair);
            }
            set(env, o, "args", vals);
            napi_value ov;
            napi_get_boolean(env, e->args->overflowed != 0, &ov);
            set(env, o, "overflowed", ov);
        }
        set(env, o, "phase", make_str(env, phase));
        napi_set_element(env, list, n++, o);
    }
    return n;
}

/* drain(handle, reset) -> { entries: [{arch, nr, count, args?: [[a,b]...] (BigInt), overflowed}], info } */
static napi_value drain(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], result, list;
    struct session_handle *h;
    bool reset = false;
    uint32_t n = 0;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || !(h = get_handle(env, argv[0])))
        return NULL;
    if (h->destroyed) {
        /* Its tables and lock are gone: nothing to read, and a caller who
         * drains after destroying has lost track of the session. */
        napi_throw_error(env, "ERR_SESSION_DESTROYED", "drain(): the session was destroyed");
        return NULL;
    }
    if (argc > 1)
        napi_get_value_bool(env, argv[1], &reset);
    napi_create_object(env, &result);
    napi_create_array(env, &list);
    pthread_mutex_lock(&h->s.lock);
    n = append_entries(env, list, n, &h->s.runtime_table, "runtime");
    n = append_entries(env, list, n, &h->s.table, "workload");
    if (reset) {
        sr_table_reset(&h->s.runtime_table);
        sr_table_reset(&h->s.table);
    }
    pthread_mutex_unlock(&h->s.lock);
    set(env, result, "entries", list);
    set(env, result, "info", sr_session_info(env, &h->s));
    return result;
}

static napi_value stop(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    struct session_handle *h;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || !(h = get_handle(env, argv[0])))
        return NULL;
    if (!h->destroyed)
        sr_session_stop(&h->s);
    return NULL;
}

/* Joins the session thread and releases the listener; idempotent. */
static napi_value destroy(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    struct session_handle *h;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || !(h = get_handle(env, argv[0])))
        return NULL;
    if (!h->destroyed) {
        sr_session_destroy(&h->s);
        h->destroyed = 1;
    }
    return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
        { "drain", NULL, drain, NULL, NULL, NULL, napi_default, NULL },
        { "stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL },
        { "destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL },
        { "ociListen", NULL, oci_listen, NULL, NULL, NULL, napi_default, NULL },
        { "ociClose", NULL, oci_close, NULL, NULL, NULL, napi_default, NULL },
        { "ociStats", NULL, oci_stats, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    bpf_register(env, exports);
    flock_register(env, exports);
    audit_scan_register(env, exports);
    return peercred_register(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
