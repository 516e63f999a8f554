// Linux interfaces that Glibc's Swift overlay does not export: epoll, eventfd, timerfd, accept4.
#ifndef COORDD_CLINUX_SHIM_H
#define COORDD_CLINUX_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>

// accept4's address parameter is glibc's `__SOCKADDR_ARG`, a GNU transparent union under _GNU_SOURCE,
// which Swift imports as an opaque type that neither a pointer nor nil converts to. This shim takes a
// plain `struct sockaddr *` so Swift can pass storage (or NULL) directly.
static inline int coordd_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

// RLIM_INFINITY is a cast expression, `((__rlim_t) -1)`, which Swift cannot import as a constant.
static inline rlim_t coordd_rlim_infinity(void) {
    return RLIM_INFINITY;
}

#endif
