/* N-API boundary of the eBPF source: open/close the programs, add, ignore,
 * read and forget cgroups. Reads copy the kernel's per-cgroup table into the
 * same entry shape the notify session drains (audit arch, nr, count, args,
 * phase), so everything above the addon is shared. No threads: the kernel
 * does the counting, JS reads when it wants. */
#define NAPI_VERSION 8
#include <errno.h>
#include <linux/audit.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon_util.h"
#include "bpf_recorder.h"

#define X32_BIT 0x40000000u

struct bpf_handle {
    struct sr_bpf b;
    int open;
    int32_t watch_slot[SR_BPF_ABIS][SR_BPF_MAX_NR]; /* -1 when not watched */
};

static void finalize(napi_env env, void *data, void *hint)
{
    struct bpf_handle *h = data;
    (void)env, (void)hint;
    if (h->open)
        sr_bpf_close(&h->b);
    free(h);
}

static struct bpf_handle *get_handle(napi_env env, napi_value v)
{
    void *p = NULL;
    if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a bpf handle");
        return NULL;
    }
    if (!((struct bpf_handle *)p)->open) {
        napi_throw_error(env, "ERR_CLOSED", "the bpf source is closed");
        return NULL;
    }
    return p;
}

static void throw_errno(napi_env env, int err, const char *msg)
{
    napi_value e, code, m;
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
    napi_create_error(env, NULL, m, &e);
    napi_create_int32(env, err, &code);
    napi_set_named_property(env, e, "errno", code);
    napi_throw(env, e);
}

static int get_cgroup(napi_env env, napi_value v, uint64_t *out)
{
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "a cgroup id must be a non-negative BigInt");
        return -1;
    }
    return 0;
}

/* Reads an Int32Array property of width-tuples; NULL data with count 0 when absent. */
static int int32_tuples(napi_env env, napi_value obj, const char *key, int width, const int32_t **data, uint32_t *count)
{
    bool has = false, is_ta = false;
    napi_value v;
    napi_typedarray_type tt;
    size_t len;
    void *p;
    *data = NULL;
    *count = 0;
    if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
        return 0;
    napi_get_named_property(env, obj, key, &v);
    napi_is_typedarray(env, v, &is_ta);
    if (!is_ta || napi_get_typedarray_info(env, v, &tt, &len, &p, NULL, NULL) != napi_ok || tt != napi_int32_array ||
        len % (size_t)width) {
        char msg[96];
        snprintf(msg, sizeof msg, "bpfOpen(): %s must be an Int32Array of %d-tuples", key, width);
        napi_throw_type_error(env, "ERR_INVALID_ARG", msg);
        return -1;
    }
    *data = p;
    *count = (uint32_t)(len / (size_t)width);
    return 0;
}

/* bpfOpen({auto, maxCgroups, maxArgTuples, watches: Int32Array [abi,nr,argA,argB]*,
 *          execs: Int32Array [abi,nr,flagsArg]*}) -> handle */
static napi_value bpf_open(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    napi_valuetype t;
    int64_t auto_mode, max_cgroups, max_args;
    const int32_t *wq, *eq;
    uint32_t nw, ne, i;
    struct sr_bpf_watch *watches;
    struct sr_bpf_exec_call *execs;
    struct sr_bpf_options o;
    struct bpf_handle *h;
    int err;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "bpfOpen(options) expects an object");
        return NULL;
    }
    if (get_int_prop(env, argv[0], "auto", 0, &auto_mode) || get_int_prop(env, argv[0], "maxCgroups", 512, &max_cgroups) ||
        get_int_prop(env, argv[0], "maxArgTuples", 16384, &max_args) || max_cgroups < 1 || max_cgroups > 65536 ||
        max_args < 1 || max_args > 1 << 20) {
        napi_throw_range_error(env, "ERR_INVALID_ARG", "bpfOpen(): auto, maxCgroups (1..65536), maxArgTuples (1..1048576)");
        return NULL;
    }
    if (int32_tuples(env, argv[0], "watches", 4, &wq, &nw) || int32_tuples(env, argv[0], "execs", 3, &eq, &ne))
        return NULL;
    h = calloc(1, sizeof *h);
    watches = calloc(nw + 1, sizeof *watches);
    execs = calloc(ne + 1, sizeof *execs);
    if (!h || !watches || !execs) {
        free(h), free(watches), free(execs);
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    memset(h->watch_slot, 0xff, sizeof h->watch_slot);
    for (i = 0; i < nw; i++) {
        watches[i].abi = (uint32_t)wq[4 * i];
        watches[i].nr = (uint32_t)wq[4 * i + 1];
        watches[i].arg_a = (int8_t)wq[4 * i + 2];
        watches[i].arg_b = (int8_t)wq[4 * i + 3];
    }
    for (i = 0; i < ne; i++) {
        execs[i].abi = (uint32_t)eq[3 * i];
        execs[i].nr = (uint32_t)eq[3 * i + 1];
        execs[i].flags_arg = (int8_t)eq[3 * i + 2];
    }
    memset(&o, 0, sizeof o);
    o.auto_mode = auto_mode != 0;
    o.max_cgroups = (uint32_t)max_cgroups;
    o.max_arg_tuples = (uint32_t)max_args;
    o.watches = watches;
    o.nwatches = nw;
    o.execs = execs;
    o.nexecs = ne;
    err = sr_bpf_open(&h->b, &o);
    if (!err) {
        /* the same slot numbering as fill_watch_map: valid watches in order */
        int32_t slot = 0;
        for (i = 0; i < nw; i++)
            if (watches[i].abi < SR_BPF_ABIS && watches[i].nr < SR_BPF_MAX_NR && watches[i].arg_a >= 0 &&
                watches[i].arg_a <= 5 && watches[i].arg_b <= 5)
                h->watch_slot[watches[i].abi][watches[i].nr] = slot++;
    }
    free(watches);
    free(execs);
    if (err) {
        char msg[sizeof h->b.error];
        memcpy(msg, h->b.error, sizeof msg);
        free(h);
        throw_errno(env, err, msg);
        return NULL;
    }
    h->open = 1;
    CHECK(napi_create_external(env, h, finalize, NULL, &out));
    return out;
}

static napi_value bpf_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    void *p = NULL;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a bpf handle");
        return NULL;
    }
    if (((struct bpf_handle *)p)->open) {
        sr_bpf_close(&((struct bpf_handle *)p)->b);
        ((struct bpf_handle *)p)->open = 0;
    }
    return NULL;
}

/* bpfCgroup(handle, id: bigint, op: 'add' | 'ignore' | 'unignore' | 'forget') */
static napi_value bpf_cgroup(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    struct bpf_handle *h;
    uint64_t id;
    char op[16] = "";
    size_t oplen;
    int err;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3 || !(h = get_handle(env, argv[0])) || get_cgroup(env, argv[1], &id))
        return NULL;
    if (napi_get_value_string_utf8(env, argv[2], op, sizeof op, &oplen) != napi_ok) {
        napi_throw_type_error(env, "ERR_INVALID_ARG", "bpfCgroup(): op must be a string");
        return NULL;
    }
    if (!strcmp(op, "add"))
        err = sr_bpf_add_cgroup(&h->b, id);
    else if (!strcmp(op, "ignore"))
        err = sr_bpf_ignore_cgroup(&h->b, id, 1);
    else if (!strcmp(op, "unignore"))
        err = sr_bpf_ignore_cgroup(&h->b, id, 0);
    else if (!strcmp(op, "forget"))
        err = sr_bpf_forget_cgroup(&h->b, id);
    else {
        napi_throw_range_error(env, "ERR_INVALID_ARG", "bpfCgroup(): op is add, ignore, unignore or forget");
        return NULL;
    }
    if (err) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot %s cgroup %llu: %s%s", op, (unsigned long long)id, strerror(err),
                 err == E2BIG ? " (the map of recorded cgroups is full)" : "");
        throw_errno(env, err, msg);
    }
    return NULL;
}

struct args_collect {
    struct sr_bpf_args_key *keys;
    size_t n, cap;
};

static void collect_args(const struct sr_bpf_args_key *k, void *user)
{
    struct args_collect *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sr_bpf_args_key *grown = realloc(c->keys, cap * sizeof *grown);
        if (!grown)
            return;
        c->keys = grown;
        c->cap = cap;
    }
    c->keys[c->n++] = *k;
}

static uint32_t abi_audit_arch(int abi)
{
#if defined(__x86_64__)
    return abi == 1 ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
#else
    (void)abi;
    return 0;
#endif
}

/* bpfRead(handle, id) -> null | { entries: RawEntry[], firstTgid, workloadTgid, workloadStarted,
 *                                 outOfRange, argsDropped } (cumulative counts) */
static napi_value bpf_read(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], result, list;
    struct bpf_handle *h;
    struct sr_bpf_cgroup *cg;
    struct args_collect args = { 0 };
    uint64_t id;
    int err, phase, abi, nr;
    uint32_t n = 0;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 2 || !(h = get_handle(env, argv[0])) || get_cgroup(env, argv[1], &id))
        return NULL;
    cg = malloc(sizeof *cg);
    if (!cg) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    err = sr_bpf_read_cgroup(&h->b, id, cg);
    if (err == ENOENT) {
        free(cg);
        napi_get_null(env, &result);
        return result;
    }
    if (err) {
        free(cg);
        throw_errno(env, err, "cannot read a recorded cgroup from its BPF map");
        return NULL;
    }
    sr_bpf_each_args(&h->b, id, collect_args, &args);
    napi_create_object(env, &result);
    napi_create_array(env, &list);
    for (phase = 0; phase < 2; phase++)
        for (abi = 0; abi < SR_BPF_ABIS; abi++)
            for (nr = 0; nr < SR_BPF_MAX_NR; nr++) {
                uint32_t count = cg->counts[phase][abi][nr];
                int32_t slot = h->watch_slot[abi][nr];
                napi_value o;
                if (!count)
                    continue;
                napi_create_object(env, &o);
                set(env, o, "arch", make_int(env, abi_audit_arch(abi)));
                set(env, o, "nr", make_int(env, abi == 2 ? (int64_t)((uint32_t)nr | X32_BIT) : nr));
                set(env, o, "count", make_int(env, count));
                set(env, o, "firstPid", make_int(env, phase ? cg->workload_tgid : cg->first_tgid));
                if (slot >= 0) {
                    napi_value vals, ov;
                    uint32_t info_word = (uint32_t)phase << 28 | (uint32_t)abi << 16 | (uint32_t)nr, j = 0;
                    size_t k;
                    napi_create_array(env, &vals);
                    for (k = 0; k < args.n; k++) {
                        napi_value pair, a, b;
                        if (args.keys[k].info != info_word)
                            continue;
                        napi_create_array_with_length(env, 2, &pair);
                        napi_create_bigint_uint64(env, args.keys[k].a, &a);
                        napi_create_bigint_uint64(env, args.keys[k].b, &b);
                        napi_set_element(env, pair, 0, a);
                        napi_set_element(env, pair, 1, b);
                        napi_set_element(env, vals, j++, pair);
                    }
                    set(env, o, "args", vals);
                    napi_get_boolean(env, cg->overflow[phase][slot] != 0, &ov);
                    set(env, o, "overflowed", ov);
                }
                set(env, o, "phase", make_str(env, phase ? "workload" : "runtime"));
                napi_set_element(env, list, n++, o);
            }
    set(env, result, "entries", list);
    set(env, result, "firstTgid", make_int(env, cg->first_tgid));
    set(env, result, "workloadTgid", make_int(env, cg->workload_tgid));
    {
        napi_value started;
        napi_get_boolean(env, cg->phase != 0, &started);
        set(env, result, "workloadStarted", started);
    }
    set(env, result, "outOfRange", make_int(env, cg->out_of_range));
    set(env, result, "argsDropped", make_int(env, cg->args_dropped));
    free(args.keys);
    free(cg);
    return result;
}

/* bpfList(handle) -> { cgroups: bigint[], cgroupsFull: number } */
static napi_value bpf_list(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], result, list;
    struct bpf_handle *h;
    uint64_t *ids, full = 0;
    int n, i;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || !(h = get_handle(env, argv[0])))
        return NULL;
    ids = calloc(h->b.max_cgroups + 1, sizeof *ids);
    if (!ids) {
        napi_throw_error(env, "ENOMEM", "out of memory");
        return NULL;
    }
    n = sr_bpf_list_cgroups(&h->b, ids, (int)h->b.max_cgroups);
    if (n < 0) {
        free(ids);
        throw_errno(env, -n, "cannot list recorded cgroups");
        return NULL;
    }
    napi_create_object(env, &result);
    napi_create_array_with_length(env, (size_t)n, &list);
    for (i = 0; i < n; i++) {
        napi_value v;
        napi_create_bigint_uint64(env, ids[i], &v);
        napi_set_element(env, list, (uint32_t)i, v);
    }
    free(ids);
    sr_bpf_stat(&h->b, SR_BPF_STAT_CGROUPS_FULL, &full);
    set(env, result, "cgroups", list);
    set(env, result, "cgroupsFull", make_int(env, (int64_t)full));
    return result;
}

napi_value bpf_register(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "bpfOpen", NULL, bpf_open, NULL, NULL, NULL, napi_default, NULL },
        { "bpfClose", NULL, bpf_close, NULL, NULL, NULL, napi_default, NULL },
        { "bpfCgroup", NULL, bpf_cgroup, NULL, NULL, NULL, napi_default, NULL },
        { "bpfRead", NULL, bpf_read, NULL, NULL, NULL, napi_default, NULL },
        { "bpfList", NULL, bpf_list, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}
