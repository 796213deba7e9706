/* peerCred(fd): the SO_PEERCRED of a connected unix socket, for the agent's
 * API (Node's net module cannot read it). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addon_util.h"

static napi_value peer_cred(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], result;
    napi_valuetype type;
    int32_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number) {
        napi_throw_type_error(env, "ERR_USAGE", "peerCred(fd): fd must be a number");
        return NULL;
    }
    CHECK(napi_get_value_int32(env, argv[0], &fd));
    if (fd < 0) {
        napi_throw_range_error(env, "ERR_USAGE", "peerCred(fd): fd must be a descriptor (>= 0)");
        return NULL;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "getsockopt(SO_PEERCRED) failed: %s", strerror(errno));
        napi_throw_error(env, "ERR_NATIVE", msg);
        return NULL;
    }
    CHECK(napi_create_object(env, &result));
    set(env, result, "pid", make_int(env, cred.pid));
    set(env, result, "uid", make_int(env, cred.uid));
    set(env, result, "gid", make_int(env, cred.gid));
    return result;
}

napi_value peercred_register(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}
