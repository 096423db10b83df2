/*
 * Waiting for child processes. In virtual time a process holds board time while it runs; one that
 * blocks in waitpid (a shell or a wrapper running the driver as its child, Python's subprocess)
 * would stop the board for ever. So a wait that may block first tells the emulator the process is
 * detached (OP_DETACH); its next request attaches it again.
 */
#define _GNU_SOURCE
#include "preload.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/wait.h>

/* Blocks in `call` detached from board time, and says so when it is back (errno kept). */
#define DETACHED(reason, pid, type, call)                                                   \
    ({                                                                                       \
        attach_detach((reason), (pid));                                                      \
        type r_ = (call);                                                                    \
        int saved_ = errno;                                                                  \
        attach_detach(UIOEMU_DETACH_BACK, 0);                                                \
        errno = saved_;                                                                      \
        r_;                                                                                  \
    })

UIOEMU_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    if (options & WNOHANG) return REAL(waitpid)(pid, status, options);
    return DETACHED(UIOEMU_DETACH_WAITPID, pid, pid_t, REAL(waitpid)(pid, status, options));
}

UIOEMU_EXPORT pid_t wait(int *status) { return DETACHED(UIOEMU_DETACH_WAITPID, -1, pid_t, REAL(wait)(status)); }

UIOEMU_EXPORT pid_t wait3(int *status, int options, struct rusage *usage)
{
    if (options & WNOHANG) return REAL(wait3)(status, options, usage);
    return DETACHED(UIOEMU_DETACH_WAITPID, -1, pid_t, REAL(wait3)(status, options, usage));
}

UIOEMU_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    if (options & WNOHANG) return REAL(wait4)(pid, status, options, usage);
    return DETACHED(UIOEMU_DETACH_WAITPID, pid, pid_t, REAL(wait4)(pid, status, options, usage));
}

UIOEMU_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    if (options & WNOHANG) return REAL(waitid)(type, id, info, options);
    int64_t pid = type == P_PID ? (int64_t)id : -1;
    return DETACHED(UIOEMU_DETACH_WAITPID, pid, int, REAL(waitid)(type, id, info, options));
}

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

bool attach_detach_if_blocking(int fd)
{
    if (!attach_virtual_time()) return false;
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    /* Regular files always poll readable; a non-blocking fd never blocks (it may still get
       EAGAIN, which is the program's business). */
    if (REAL(poll)(&p, 1, 0) != 0) return false;
    int flags = REAL(fcntl)(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) return false;
    attach_detach(UIOEMU_DETACH_READ, 0);
    return true;
}

#define MAYBE_DETACHED(fd, type, call)                                                      \
    ({                                                                                       \
        bool detached_ = attach_detach_if_blocking(fd);                                      \
        type r_ = (call);                                                                    \
        if (detached_) {                                                                     \
            int saved_ = errno;                                                              \
            attach_detach(UIOEMU_DETACH_BACK, 0);                                            \
            errno = saved_;                                                                  \
        }                                                                                    \
        r_;                                                                                  \
    })

UIOEMU_EXPORT ssize_t readv(int fd, const struct iovec *iov, int count)
{
    return MAYBE_DETACHED(fd, ssize_t, REAL(readv)(fd, iov, count));
}

UIOEMU_EXPORT ssize_t recv(int fd, void *buffer, size_t length, int flags)
{
    if (flags & MSG_DONTWAIT) return REAL(recv)(fd, buffer, length, flags);
    return MAYBE_DETACHED(fd, ssize_t, REAL(recv)(fd, buffer, length, flags));
}

UIOEMU_EXPORT ssize_t recvfrom(int fd, void *buffer, size_t length, int flags, struct sockaddr *from, socklen_t *from_length)
{
    if (flags & MSG_DONTWAIT) return REAL(recvfrom)(fd, buffer, length, flags, from, from_length);
    return MAYBE_DETACHED(fd, ssize_t, REAL(recvfrom)(fd, buffer, length, flags, from, from_length));
}

UIOEMU_EXPORT ssize_t recvmsg(int fd, struct msghdr *message, int flags)
{
    if (flags & MSG_DONTWAIT) return REAL(recvmsg)(fd, message, flags);
    return MAYBE_DETACHED(fd, ssize_t, REAL(recvmsg)(fd, message, flags));
}

/* ---- starting processes ---- */

#include <spawn.h>

/* Virtual time: the emulator holds board time for `pid` until it connects or ends. */
static void announce_child(pid_t pid)
{
    if (pid <= 0 || !attach_virtual_time()) return;
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_FORKED;
    rq->length = 0;
    rq->a[0] = pid;
    int64_t result = attach_call_locked(NULL);
    attach_unlock();
    if (result < 0) attach_wait_for_end();
}

UIOEMU_EXPORT pid_t fork(void)
{
    pid_t pid = REAL(fork)();
    if (pid > 0) announce_child(pid);
    return pid;
}

/* vfork's child shares the caller's stack until it execs: a wrapper function cannot return into it
   safely. fork is a valid vfork (POSIX leaves the difference unobservable to a correct caller). */
UIOEMU_EXPORT pid_t vfork(void) { return fork(); }

UIOEMU_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                              const posix_spawnattr_t *attributes, char *const argv[], char *const envp[])
{
    pid_t child = 0;
    int r = REAL(posix_spawn)(&child, path, actions, attributes, argv, envp);
    if (r == 0) announce_child(child);
    if (pid != NULL) *pid = child;
    return r;
}

UIOEMU_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                               const posix_spawnattr_t *attributes, char *const argv[], char *const envp[])
{
    pid_t child = 0;
    int r = REAL(posix_spawnp)(&child, file, actions, attributes, argv, envp);
    if (r == 0) announce_child(child);
    if (pid != NULL) *pid = child;
    return r;
}
