/* What kind of descriptor an fd is, as the kernel names it in /proc/self/fd. */
#ifndef SR_FD_KIND_H
#define SR_FD_KIND_H

/* 1 when fd is a seccomp user-notify listener ("anon_inode:seccomp notify"). */
int sr_is_seccomp_listener(int fd);

#endif
