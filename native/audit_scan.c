/* auditScan(buf, start, end, out): the fast path of `import-audit`. Splits
 * buf[start, end) into lines and reads auditd's common layouts straight from
 * the bytes (`type=SECCOMP msg=audit(...)` in the kernel's field order, and
 * `type=OTHER msg=audit(...)`, whose serial the loss tracker needs), writing
 * numbers and value bounds into `out`, SLOT doubles per line. A line of any
 * other shape is marked for the TypeScript parser (src/record/audit/parse.ts),
 * which stays the one definition of what a line means: this scanner accepts a
 * line only where that parser reads it the same way (test/audit-scan.test.ts
 * compares the two on the corpus and on mutated lines).
 * In C rather than TypeScript: a validating scan of every byte ran at about a
 * third of the wanted rate in JS on this machine, and here it runs at memory speed.
 * Records come in runs from one process: the state remembers the last comm=
 * and exe= bytes so the caller makes their strings once per run.
 * Bulk mode (a sixth argument): the scanner also counts, itself, the lines
 * whose whole effect is known without JS: SECCOMP records with the log action
 * and other record types, each continuing the serials the caller's loss
 * tracker holds (the same serial or the next one, nothing missing before it).
 * Those add to per-(arch, nr) counts, the time span and the line counts in
 * `bulk`; every other line still gets a slot, in order, telling how many lines
 * were counted in bulk before it. A profile of the per-record JS path (one
 * object and two handler calls per record) showed it cost more than the scan:
 * this is what took import-audit past a million records a second. */
#include <stdint.h>
#include <string.h>

#include "addon_util.h"

/* Layout of one line's slot in `out` (mirrored in src/record/audit/scan.ts). */
enum {
    S_KIND,        /* K_* */
    S_START,       /* the line's bytes, [start, end), no newline, a trailing CR dropped */
    S_END,
    S_RAW_END,     /* end with the CR: line length as the splitter counts it */
    S_TIME,
    S_SERIAL,
    S_PID,         /* K_OTHER: start of the type name */
    S_ARCH,        /* K_OTHER: end of the type name */
    S_NR,
    S_CODE,
    S_UID,         /* -1 when absent */
    S_SIG,         /* -1 when absent */
    S_COMM_START,  /* value bounds, quotes included */
    S_COMM_END,
    S_EXE_START,
    S_EXE_END,
    S_SAME,        /* bit 0: comm= as in the last SECCOMP line scanned with this state; bit 1: exe= likewise */
    S_SKIPPED,     /* bulk mode: lines counted in bulk between the previous slot (or the start) and this line */
    S_HIGH,        /* bulk mode: the serial the loss tracker holds once those lines are counted */
    SLOT
};

/* Layout of `bulk` (mirrored in src/record/audit/scan.ts). */
enum {
    B_HIGH,        /* in: the tracker's highest serial, -1 without one, -2 when serials are missing; out: after the last line */
    B_MAX_LINE,    /* in: longer lines (newline excluded, CR included) are the caller's to skip */
    B_NEXT,        /* out: where the scan stopped */
    B_TAIL,        /* out: lines counted in bulk after the last slot */
    B_SECCOMP,     /* out: SECCOMP records counted in bulk by this call */
    B_OTHER,       /* out: other records counted in bulk by this call */
    B_FIRST,       /* in/out: the earliest and latest stamp (ms) of the SECCOMP records counted in bulk */
    B_LAST,
    B_ARCH,        /* in/out: BULK_ARCHES arch numbers, -1 when free */
    B_COUNTS = B_ARCH + 4, /* in/out: BULK_ARCHES x BULK_NRS counts */
    BULK_SIZE = B_COUNTS + 4 * 1024
};
#define BULK_ARCHES 4
#define BULK_NRS 1024
#define ACTION_LOG 0x7ffc0000u

/* What the caller keeps between calls (a Uint8Array of STATE_SIZE): the last comm= and exe= values. */
#define STATE_VALUE 512
#define STATE_SIZE (2 * (4 + STATE_VALUE))
enum { K_PARSE = 0, K_SECCOMP = 1, K_OTHER = 2 };

#define PID_MAX (4 * 1024 * 1024)
#define GS 0x1d /* the enriched format's separator */

struct cursor {
    const uint8_t *p;
    size_t at, end;
    double value;
    int digits, negative;
    size_t vstart, vend;
};

static inline __attribute__((always_inline)) int key(struct cursor *c, const char *k, size_t n)
{
    if (c->at + n > c->end)
        return 0;
    for (size_t i = 0; i < n; i++) /* n is a constant here: unrolled, where memcmp was a call */
        if (c->p[c->at + i] != (uint8_t)k[i])
            return 0;
    c->at += n;
    return 1;
}
#define KEY(c, lit) key((c), (lit), sizeof(lit) - 1)

/* Decimal digits (at most 15: exact as a double), an optional '-' first. */
static inline __attribute__((always_inline)) int decimal(struct cursor *c, int allow_minus)
{
    c->negative = allow_minus && c->at < c->end && c->p[c->at] == '-';
    if (c->negative)
        c->at++;
    size_t s = c->at;
    uint64_t n = 0; /* integer arithmetic: a double per digit cost a third of the scan */
    while (c->at < c->end && c->at - s < 16) {
        unsigned d = (unsigned)c->p[c->at] - '0';
        if (d > 9)
            break;
        n = n * 10 + d;
        c->at++;
    }
    c->digits = (int)(c->at - s);
    c->value = (double)n;
    return c->digits > 0 && c->digits <= 15;
}

static inline __attribute__((always_inline)) int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Hex digits, at most 8. */
static inline __attribute__((always_inline)) int hex(struct cursor *c)
{
    size_t s = c->at;
    uint64_t n = 0;
    int d;
    while (c->at < c->end && c->at - s < 9 && (d = hexval(c->p[c->at])) >= 0) {
        n = n * 16 + (unsigned)d;
        c->at++;
    }
    c->digits = (int)(c->at - s);
    c->value = (double)n;
    return c->digits > 0 && c->digits <= 8;
}

static inline __attribute__((always_inline)) int space(struct cursor *c)
{
    if (c->at < c->end && c->p[c->at] == ' ') {
        c->at++;
        return 1;
    }
    return 0;
}

/* `"text"` (no quote or separator inside) or a bare word (no '=' or separator), then a space. */
static inline __attribute__((always_inline)) int word(struct cursor *c)
{
    c->vstart = c->at;
    if (c->at < c->end && c->p[c->at] == '"') {
        const uint8_t *from = c->p + c->at + 1;
        const uint8_t *q = memchr(from, '"', c->end - c->at - 1);
        if (!q || memchr(from, GS, (size_t)(q - from)))
            return 0;
        c->vend = c->at = (size_t)(q - c->p) + 1;
        return space(c);
    }
    for (; c->at < c->end; c->at++) {
        uint8_t ch = c->p[c->at];
        if (ch == ' ') {
            c->vend = c->at;
            return space(c);
        }
        if (ch == '=' || ch == GS)
            return 0;
    }
    return 0;
}

/* `SECONDS.MMM:SERIAL):` */
static inline __attribute__((always_inline)) int stamp(struct cursor *c, double *out)
{
    if (!decimal(c, 0) || c->digits > 12)
        return 0;
    double seconds = c->value;
    if (c->at >= c->end || c->p[c->at] != '.')
        return 0;
    c->at++;
    if (!decimal(c, 0) || c->digits != 3)
        return 0;
    double millis = c->value;
    if (c->at >= c->end || c->p[c->at] != ':')
        return 0;
    c->at++;
    if (!decimal(c, 0) || c->digits > 10)
        return 0;
    out[S_SERIAL] = c->value;
    if (c->at + 1 >= c->end || c->p[c->at] != ')' || c->p[c->at + 1] != ':')
        return 0;
    c->at += 2;
    out[S_TIME] = seconds * 1000 + millis;
    return 1;
}

/* The kernel's field order (kernel/auditsc.c audit_seccomp):
 * auid= uid= gid= ses= [subj=] pid= comm= exe= sig= arch= syscall= compat= ip=0x code=0x,
 * ending at the line's end or the separator (after at most one space). */
static inline __attribute__((always_inline)) int seccomp_body(struct cursor *c, double *out)
{
    space(c);
    if (!(KEY(c, "auid=") && decimal(c, 1) && space(c) && KEY(c, "uid=") && decimal(c, 1) && space(c)))
        return 0;
    out[S_UID] = !c->negative && c->digits <= 10 ? c->value : -1;
    if (!(KEY(c, "gid=") && decimal(c, 1) && space(c) && KEY(c, "ses=") && decimal(c, 1) && space(c)))
        return 0;
    if (KEY(c, "subj=") && !word(c))
        return 0;
    if (!(KEY(c, "pid=") && decimal(c, 0) && space(c)) || c->digits > 7 || c->value <= 0 || c->value > PID_MAX)
        return 0;
    out[S_PID] = c->value;
    if (!(KEY(c, "comm=") && word(c)))
        return 0;
    out[S_COMM_START] = (double)c->vstart;
    out[S_COMM_END] = (double)c->vend;
    if (!(KEY(c, "exe=") && word(c)))
        return 0;
    out[S_EXE_START] = (double)c->vstart;
    out[S_EXE_END] = (double)c->vend;
    if (!(KEY(c, "sig=") && decimal(c, 1) && space(c)))
        return 0;
    out[S_SIG] = !c->negative && c->digits <= 3 ? c->value : -1;
    if (!(KEY(c, "arch=") && hex(c) && space(c)))
        return 0;
    out[S_ARCH] = c->value;
    if (!(KEY(c, "syscall=") && decimal(c, 1) && space(c)) || c->digits > 10 ||
        c->value > (c->negative ? 2147483648.0 : 4294967295.0))
        return 0;
    out[S_NR] = c->negative ? -c->value : c->value;
    if (!(KEY(c, "compat=") && decimal(c, 1) && space(c) && KEY(c, "ip=0x")))
        return 0;
    size_t ip = c->at;
    while (c->at < c->end && hexval(c->p[c->at]) >= 0)
        c->at++;
    if (c->at == ip || !space(c))
        return 0;
    if (!(KEY(c, "code=0x") && hex(c)))
        return 0;
    out[S_CODE] = c->value;
    if (c->at < c->end && c->p[c->at] == ' ')
        c->at++;
    return c->at >= c->end || c->p[c->at] == GS;
}

/* Compares the value with the one remembered in `slot` of the state, remembers this one; 1 when equal. */
static int same_as_last(uint8_t *state, int slot, const uint8_t *v, size_t n)
{
    uint8_t *base = state + slot * (4 + STATE_VALUE);
    uint32_t last;
    memcpy(&last, base, 4);
    if (last == n && memcmp(base + 4, v, n) == 0)
        return 1;
    last = n <= STATE_VALUE ? (uint32_t)n : UINT32_MAX;
    memcpy(base, &last, 4);
    if (n <= STATE_VALUE)
        memcpy(base + 4, v, n);
    return 0;
}

static inline __attribute__((always_inline)) int is(const uint8_t *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* One line; returns its kind, the slot filled. */
static inline __attribute__((always_inline)) int scan_line(const uint8_t *p, size_t s, size_t e, double *out)
{
    struct cursor c = { .p = p, .at = s, .end = e };
    if (!KEY(&c, "type="))
        return K_PARSE;
    if (KEY(&c, "SECCOMP msg=audit("))
        return stamp(&c, out) && seccomp_body(&c, out) ? K_SECCOMP : K_PARSE;
    size_t ts = c.at;
    while (c.at < e && p[c.at] != ' ')
        c.at++;
    size_t n = c.at - ts;
    if (n == 0 || n > 32 || c.at >= e)
        return K_PARSE;
    /* A SECCOMP record in another shape, or under its number, is left to the parser. */
    if (is(p + ts, n, "SECCOMP") || is(p + ts, n, "1326") || is(p + ts, n, "UNKNOWN[1326]"))
        return K_PARSE;
    out[S_PID] = (double)ts;
    out[S_ARCH] = (double)c.at;
    c.at++;
    return KEY(&c, "msg=audit(") && stamp(&c, out) ? K_OTHER : K_PARSE;
}

/* What the tracker does with a record's serial (src/record/audit/loss.ts noteSerial), for the
 * lines that stay with the caller: returns the serial it then holds, or -2 when that is not known
 * here (a gap, a serial going back, a line the parser reads). */
static double follow_serial(double high, int kind, const uint8_t *p, const double *slot)
{
    if (kind == K_PARSE)
        return -2;
    if (kind == K_OTHER) {
        size_t ts = (size_t)slot[S_PID], te = (size_t)slot[S_ARCH];
        if (te - ts >= 7 && memcmp(p + ts, "DAEMON_", 7) == 0) {
            /* auditd's own records: its start, end and abort end the stretch (no serial held), others leave it be */
            if (is(p + ts, te - ts, "DAEMON_START") || is(p + ts, te - ts, "DAEMON_END") || is(p + ts, te - ts, "DAEMON_ABORT"))
                return -1;
            return high;
        }
    }
    double serial = slot[S_SERIAL];
    if (serial == 0)
        return high;
    if (high == -1 || serial == high || serial == high + 1)
        return serial;
    return -2;
}

/* The arch's row of counts in bulk, or NULL when every row is taken by other arches. */
static double *arch_row(double *bulk, double arch)
{
    for (int i = 0; i < BULK_ARCHES; i++) {
        if (bulk[B_ARCH + i] == arch)
            return bulk + B_COUNTS + i * BULK_NRS;
        if (bulk[B_ARCH + i] == -1) {
            bulk[B_ARCH + i] = arch;
            return bulk + B_COUNTS + i * BULK_NRS;
        }
    }
    return NULL;
}

/* Counts the line in bulk when its whole effect is known here (see the header); 1 when it did. */
static int take_in_bulk(int kind, const uint8_t *p, const double *slot, double *bulk, double high)
{
    double serial = slot[S_SERIAL];
    if (kind == K_PARSE || serial == 0 || !(high == -1 || serial == high || serial == high + 1))
        return 0;
    if (kind == K_OTHER) {
        size_t ts = (size_t)slot[S_PID], te = (size_t)slot[S_ARCH];
        if (te - ts >= 7 && memcmp(p + ts, "DAEMON_", 7) == 0)
            return 0;
        bulk[B_OTHER]++;
        return 1;
    }
    double nr = slot[S_NR];
    if (((uint32_t)slot[S_CODE] & 0xffff0000u) != ACTION_LOG || nr < 0 || nr >= BULK_NRS)
        return 0;
    double *row = arch_row(bulk, slot[S_ARCH]);
    if (!row)
        return 0;
    row[(size_t)nr]++;
    double time = slot[S_TIME];
    if (time < bulk[B_FIRST])
        bulk[B_FIRST] = time;
    if (time > bulk[B_LAST])
        bulk[B_LAST] = time;
    bulk[B_SECCOMP]++;
    return 1;
}

/* auditScan(buf, start, end, out: Float64Array, state: Uint8Array[, bulk: Float64Array]) -> lines described.
 * Stops early when out is full; in bulk mode bulk[B_NEXT] says where. */
static napi_value audit_scan(napi_env env, napi_callback_info info)
{
    size_t argc = 6;
    napi_value argv[6], result;
    void *data, *state_data;
    size_t length, out_length, state_length, bulk_length = 0;
    double *out, *bulk = NULL;
    uint8_t *state;
    int64_t start, end;
    napi_typedarray_type type, state_type, bulk_type;
    bool is_buffer = false;

    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc >= 5)
        napi_is_buffer(env, argv[0], &is_buffer);
    if (!is_buffer || napi_get_value_int64(env, argv[1], &start) != napi_ok || napi_get_value_int64(env, argv[2], &end) != napi_ok ||
        napi_get_typedarray_info(env, argv[3], &type, &out_length, (void **)&out, NULL, NULL) != napi_ok || type != napi_float64_array ||
        napi_get_typedarray_info(env, argv[4], &state_type, &state_length, &state_data, NULL, NULL) != napi_ok ||
        state_type != napi_uint8_array || state_length < STATE_SIZE || out_length < SLOT ||
        (argc == 6 && (napi_get_typedarray_info(env, argv[5], &bulk_type, &bulk_length, (void **)&bulk, NULL, NULL) != napi_ok ||
                       bulk_type != napi_float64_array || bulk_length < BULK_SIZE))) {
        napi_throw_type_error(env, "ERR_USAGE",
                              "auditScan(buffer, start, end, out: Float64Array(>= 19), state: Uint8Array(1032)[, bulk: Float64Array(4108)])");
        return NULL;
    }
    CHECK(napi_get_buffer_info(env, argv[0], &data, &length));
    if (start < 0 || end < start || (uint64_t)end > length) {
        napi_throw_range_error(env, "ERR_USAGE", "auditScan: start/end outside the buffer");
        return NULL;
    }
    const uint8_t *p = data;
    state = state_data;
    size_t at = (size_t)start, stop = (size_t)end, lines = 0, max = out_length / SLOT;
    /* Bulk counting goes on while the tracker's serial is known here; it stops for the rest of the call otherwise. */
    double high = bulk ? bulk[B_HIGH] : -2, skipped = 0;
    double max_line = bulk ? bulk[B_MAX_LINE] : 0;
    if (bulk)
        bulk[B_SECCOMP] = bulk[B_OTHER] = 0;
    while (at < stop && lines < max) {
        const uint8_t *nl = memchr(p + at, '\n', stop - at);
        size_t raw_end = nl ? (size_t)(nl - p) : stop;
        size_t e = raw_end > at && p[raw_end - 1] == '\r' ? raw_end - 1 : raw_end;
        double *slot = out + lines * SLOT;
        int kind = scan_line(p, at, e, slot);
        if (high != -2) {
            if ((double)(raw_end - at) <= max_line && take_in_bulk(kind, p, slot, bulk, high)) {
                high = slot[S_SERIAL];
                skipped++;
                at = raw_end + 1;
                continue;
            }
            slot[S_SKIPPED] = skipped;
            slot[S_HIGH] = high;
            skipped = 0;
            /* An over-long line is skipped by the caller: the tracker never hears of it. */
            if ((double)(raw_end - at) <= max_line)
                high = follow_serial(high, kind, p, slot);
        } else {
            slot[S_SKIPPED] = 0;
        }
        slot[S_KIND] = kind;
        if (kind == K_SECCOMP) {
            size_t cs = (size_t)slot[S_COMM_START], ce = (size_t)slot[S_COMM_END];
            size_t xs = (size_t)slot[S_EXE_START], xe = (size_t)slot[S_EXE_END];
            slot[S_SAME] = same_as_last(state, 0, p + cs, ce - cs) | (same_as_last(state, 1, p + xs, xe - xs) << 1);
        }
        slot[S_START] = (double)at;
        slot[S_END] = (double)e;
        slot[S_RAW_END] = (double)raw_end;
        lines++;
        at = raw_end + 1;
    }
    if (bulk) {
        bulk[B_NEXT] = (double)(at < stop ? at : stop);
        bulk[B_TAIL] = skipped;
        bulk[B_HIGH] = high;
    }
    CHECK(napi_create_uint32(env, (uint32_t)lines, &result));
    return result;
}

napi_value audit_scan_register(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "auditScan", NULL, audit_scan, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}
