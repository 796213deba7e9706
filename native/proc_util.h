/* Small facts about time and processes, one definition each. */
#ifndef SR_PROC_UTIL_H
#define SR_PROC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t sr_now_ms(void);

/* readlink of /proc/PID/exe into buf, NUL-terminated; its length, or -1 (errno set). */
ssize_t sr_proc_exe(pid_t pid, char *buf, size_t len);

#endif
