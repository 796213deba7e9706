/* flockExclusive(fd): flock(fd, LOCK_EX | LOCK_NB) for the agent's state
 * directory lock (Node has no flock). True when taken, false when another
 * open file holds it; any other failure throws with the errno's text.
 * In the addon rather than through koffi: libseccomp.ts stays the one module
 * declaring C prototypes, and the agent loads the addon anyway (peerCred). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "addon_util.h"

static napi_value flock_exclusive(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], result;
    napi_valuetype type;
    int32_t fd;
    int rc;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number) {
        napi_throw_type_error(env, "ERR_USAGE", "flockExclusive(fd): fd must be a number");
        return NULL;
    }
    CHECK(napi_get_value_int32(env, argv[0], &fd));
    if (fd < 0) {
        napi_throw_range_error(env, "ERR_USAGE", "flockExclusive(fd): fd must be a descriptor (>= 0)");
        return NULL;
    }
    do
        rc = flock(fd, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EWOULDBLOCK) {
        char msg[128];
        snprintf(msg, sizeof msg, "flock(LOCK_EX|LOCK_NB) failed: %s", strerror(errno));
        napi_throw_error(env, "ERR_NATIVE", msg);
        return NULL;
    }
    CHECK(napi_get_boolean(env, rc == 0, &result));
    return result;
}

napi_value flock_register(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "flockExclusive", NULL, flock_exclusive, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}
