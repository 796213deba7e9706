/* Open-addressing hash of (arch, nr) with counts and watched argument values. */
#include "observations.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_key(uint32_t arch, int32_t nr)
{
    uint64_t k = ((uint64_t)arch << 32) ^ (uint32_t)nr;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (uint32_t)k;
}

int sr_table_init(struct sr_table *t, const struct sr_watch *watches, uint32_t nwatches)
{
    memset(t, 0, sizeof *t);
    t->capacity = 1024;
    t->slots = calloc(t->capacity, sizeof *t->slots);
    if (!t->slots)
        return -1;
    if (nwatches) {
        t->watches = malloc(nwatches * sizeof *watches);
        if (!t->watches) {
            free(t->slots);
            return -1;
        }
        memcpy(t->watches, watches, nwatches * sizeof *watches);
        t->nwatches = nwatches;
    }
    return 0;
}

void sr_table_free(struct sr_table *t)
{
    uint32_t i;
    if (t->slots)
        for (i = 0; i < t->capacity; i++)
        {
            free(t->slots[i].args);
            free(t->slots[i].first_exe);
        }
    free(t->slots);
    free(t->watches);
    memset(t, 0, sizeof *t);
}

static int find_watch(const struct sr_table *t, uint32_t arch, int32_t nr)
{
    uint32_t i;
    for (i = 0; i < t->nwatches; i++)
        if (t->watches[i].arch == arch && t->watches[i].nr == nr)
            return (int)i;
    return -1;
}

static struct sr_entry *probe(struct sr_entry *slots, uint32_t capacity, uint32_t arch, int32_t nr)
{
    uint32_t i = hash_key(arch, nr) & (capacity - 1);
    for (;;) {
        struct sr_entry *e = &slots[i];
        if (e->arch == 0)
            return e; /* empty */
        if (e->arch == arch && e->nr == nr)
            return e;
        i = (i + 1) & (capacity - 1);
    }
}

static int grow(struct sr_table *t)
{
    uint32_t newcap = t->capacity * 2, i;
    struct sr_entry *ns = calloc(newcap, sizeof *ns);
    if (!ns)
        return -1;
    for (i = 0; i < t->capacity; i++) {
        struct sr_entry *e = &t->slots[i];
        if (e->arch != 0)
            *probe(ns, newcap, e->arch, e->nr) = *e;
    }
    free(t->slots);
    t->slots = ns;
    t->capacity = newcap;
    return 0;
}

static void remember_args(struct sr_table *t, struct sr_entry *e, const uint64_t args[6])
{
    const struct sr_watch *w = &t->watches[e->watch];
    struct sr_arg_set *s;
    uint64_t a = args[w->arg_a], b = w->arg_b >= 0 ? args[w->arg_b] : 0;
    uint32_t i;
    if (!e->args) {
        e->args = calloc(1, sizeof *e->args);
        if (!e->args)
            return;
    }
    s = e->args;
    for (i = 0; i < s->used; i++)
        if (s->values[i][0] == a && s->values[i][1] == b)
            return;
    if (s->used == SR_MAX_ARG_VALUES) {
        s->overflowed = 1;
        return;
    }
    s->values[s->used][0] = a;
    s->values[s->used][1] = b;
    s->used++;
}

struct sr_entry *sr_table_add(struct sr_table *t, uint32_t arch, int32_t nr, int32_t pid, const uint64_t args[6])
{
    struct sr_entry *e;
    /* arch 0 marks an empty slot; no audit arch is 0. */
    if (arch == 0)
        arch = 0xffffffffu;
    e = probe(t->slots, t->capacity, arch, nr);
    if (e->arch == 0) {
        if ((t->used + 1) * 4 > t->capacity * 3) {
            if (grow(t) < 0)
                return NULL;
            e = probe(t->slots, t->capacity, arch, nr);
        }
        e->arch = arch;
        e->nr = nr;
        e->watch = find_watch(t, arch, nr);
        t->used++;
    }
    if (e->count == 0)
        e->first_pid = pid;
    e->count++;
    if (e->watch >= 0)
        remember_args(t, e, args);
    return e;
}

void sr_table_reset(struct sr_table *t)
{
    uint32_t i;
    for (i = 0; i < t->capacity; i++) {
        struct sr_entry *e = &t->slots[i];
        if (e->arch == 0)
            continue;
        e->count = 0;
        free(e->first_exe);
        e->first_exe = NULL;
        if (e->args) {
            e->args->used = 0;
            e->args->overflowed = 0;
        }
    }
}
