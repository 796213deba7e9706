/* The JS-visible handle of one notify session, shared by the sessions JS
 * starts (the launcher's: start()) and the ones the runtime socket starts in C
 * the moment a listener arrives (addon_oci.c). drain/stop/destroy take either. */
#ifndef SR_ADDON_SESSION_H
#define SR_ADDON_SESSION_H

#include <node_api.h>
#include <pthread.h>
#include <stdint.h>

#include "notify_session.h"

struct session_handle {
    struct sr_session s;
    /* start(): the session's own onEnd; runtime sessions: the socket's event
     * function, one reference held until the session's end is posted. */
    napi_threadsafe_function on_end;
    /* Runtime sessions: held while starting and announcing the session, and
     * while posting its end, so the end never overtakes the announcement. */
    pthread_mutex_t post_lock;
    uint64_t id;
    int started;
    int destroyed;
};

/* The session's figures as a JS object: {reason, errno, notifications, lost, syncWakeup, attached}. */
napi_value sr_session_info(napi_env env, struct sr_session *s);
/* A JS external owning h (destroyed and freed when collected). */
napi_status sr_session_wrap(napi_env env, struct session_handle *h, napi_value *out);
/* Reads an optional Int32Array of `width`-tuples named `key` of obj (see addon.c). */
int sr_read_watch_list(napi_env env, napi_value obj, const char *key, int width, struct sr_watch **out, uint32_t *count);

#endif
