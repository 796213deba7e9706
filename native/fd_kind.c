/* Descriptor checks shared by the notify session and the OCI socket. */
#include "fd_kind.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sr_is_seccomp_listener(int fd)
{
    char path[64], link[64];
    ssize_t n;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = 0;
    return strcmp(link, "anon_inode:seccomp notify") == 0;
}
