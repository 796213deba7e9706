/* Small N-API helpers shared by the addon's source files. */
#ifndef SR_ADDON_UTIL_H
#define SR_ADDON_UTIL_H

#include <node_api.h>
#include <stdint.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        if ((call) != napi_ok) {                                                    \
            napi_throw_error(env, "ERR_NATIVE", "N-API call failed: " #call);       \
            return NULL;                                                            \
        }                                                                           \
    } while (0)

static inline napi_value make_int(napi_env env, int64_t v)
{
    napi_value r;
    napi_create_int64(env, v, &r);
    return r;
}

static inline napi_value make_str(napi_env env, const char *v)
{
    napi_value r;
    napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &r);
    return r;
}

static inline void set(napi_env env, napi_value obj, const char *key, napi_value v)
{
    napi_set_named_property(env, obj, key, v);
}

/* Reads an optional integer (or boolean, as 0/1) property; -1 when it has another type. */
static inline int get_int_prop(napi_env env, napi_value obj, const char *key, int64_t def, int64_t *out)
{
    bool has = false;
    napi_value v;
    napi_valuetype t;
    *out = def;
    if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
        return 0;
    napi_get_named_property(env, obj, key, &v);
    napi_typeof(env, v, &t);
    if (t == napi_undefined)
        return 0;
    if (t == napi_boolean) {
        bool b;
        napi_get_value_bool(env, v, &b);
        *out = b;
        return 0;
    }
    if (t != napi_number)
        return -1;
    return napi_get_value_int64(env, v, out) == napi_ok ? 0 : -1;
}

napi_value oci_listen(napi_env env, napi_callback_info info);
napi_value oci_close(napi_env env, napi_callback_info info);
napi_value oci_stats(napi_env env, napi_callback_info info);
napi_value bpf_register(napi_env env, napi_value exports);
napi_value peercred_register(napi_env env, napi_value exports);
napi_value flock_register(napi_env env, napi_value exports);
napi_value audit_scan_register(napi_env env, napi_value exports);

#endif
