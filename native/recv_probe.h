/* Whether a blocking SECCOMP_IOCTL_NOTIF_RECV returns when the filter's last
 * user goes away (Linux 6.6+ behaviour, probed rather than read off the version),
 * and the signal that interrupts a blocked RECV to stop a session. */
#ifndef SR_RECV_PROBE_H
#define SR_RECV_PROBE_H

#include <pthread.h>

/* 1: RECV may block (it wakes with ENOENT once no task uses the filter); 0: poll first. Probed once. */
int sr_recv_blocking_ok(void);
/* Interrupts a RECV blocked in `thread` (EINTR); the handler does nothing. */
void sr_recv_interrupt(pthread_t thread);

#endif
