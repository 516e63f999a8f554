// Linux interfaces that Glibc's Swift overlay does not export: epoll, eventfd, timerfd, accept4.
#ifndef COORDD_CLINUX_SHIM_H
#define COORDD_CLINUX_SHIM_H

// No _GNU_SOURCE here: the same system headers are also imported through COpenSSL and Glibc, and clang
// refuses modules that see one struct under two different feature macros. The one GNU call needed,
// accept4, is declared below with its plain signature instead.
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
#include <spawn.h>

// accept4 is a GNU extension, declared by <sys/socket.h> only under _GNU_SOURCE (and then with glibc's
// transparent-union address type, which Swift cannot pass a pointer or nil to). Declared here with a
// plain `struct sockaddr *`, matching the ABI, and wrapped so Swift can pass storage (or NULL) directly.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

static inline int coordd_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

// RLIM_INFINITY is a cast expression, `((__rlim_t) -1)`, which Swift cannot import as a constant.
static inline rlim_t coordd_rlim_infinity(void) {
    return RLIM_INFINITY;
}

// posix_spawn_file_actions_addclosefrom_np (glibc 2.34) is declared by <spawn.h> only under __USE_MISC
// feature checks that Swift's Glibc module does not pass on; declared here with its plain signature.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

#endif
