/* De-duplicated syscall observations kept in C: (arch, nr) -> count, plus the
 * distinct argument values of a few watched syscalls. Not thread-safe by
 * itself; the notify session guards it with its mutex. */
#ifndef SR_OBSERVATIONS_H
#define SR_OBSERVATIONS_H

#include <stdint.h>

#define SR_MAX_ARG_VALUES 64

/* A watch says: for (arch, nr), remember the values of args[arg_a] (and
 * args[arg_b] when arg_b >= 0) as pairs. */
struct sr_watch {
    uint32_t arch;
    int32_t nr;
    int8_t arg_a;
    int8_t arg_b;
};

struct sr_arg_set {
    uint32_t used;
    uint8_t overflowed;
    uint64_t values[SR_MAX_ARG_VALUES][2];
};

struct sr_entry {
    uint32_t arch;
    int32_t nr;
    uint64_t count;
    int32_t watch; /* index into watches, or -1 */
    struct sr_arg_set *args;
    int32_t first_pid;  /* pid of the first caller */
    char *first_exe;    /* its executable, when the session captures it */
};

struct sr_table {
    struct sr_entry *slots;
    uint32_t capacity; /* power of two */
    uint32_t used;
    struct sr_watch *watches;
    uint32_t nwatches;
};

int sr_table_init(struct sr_table *t, const struct sr_watch *watches, uint32_t nwatches);
void sr_table_free(struct sr_table *t);
/* Records one call by pid; returns its entry, or NULL when out of memory (the
 * call is then counted nowhere, and the caller reports it). The pointer stays
 * valid until the next sr_table_add. */
struct sr_entry *sr_table_add(struct sr_table *t, uint32_t arch, int32_t nr, int32_t pid, const uint64_t args[6]);
/* Empties counts and argument sets but keeps the table allocated. */
void sr_table_reset(struct sr_table *t);

#endif
