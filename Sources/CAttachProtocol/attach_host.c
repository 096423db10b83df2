#define _GNU_SOURCE
#include "uioemu_attach_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int uioemu_host_spawn(char *const argv[], char *const envp[], pid_t *pid, int *exec_errno) {
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) { *exec_errno = errno; return -1; }
    pid_t child = fork();
    if (child < 0) {
        *exec_errno = errno;
        close(status_pipe[0]);
        close(status_pipe[1]);
        return -1;
    }
    if (child == 0) {
        /* Only async-signal-safe calls from here to exec. */
        close(status_pipe[0]);
        setpgid(0, 0);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execvpe(argv[0], argv, envp);
        int e = errno;
        ssize_t unused = write(status_pipe[1], &e, sizeof e);
        (void)unused;
        _exit(127);
    }
    close(status_pipe[1]);
    int e = 0;
    ssize_t n;
    do { n = read(status_pipe[0], &e, sizeof e); } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    *pid = child;
    if (n == (ssize_t)sizeof e) {
        *exec_errno = e;
        return -1;
    }
    *exec_errno = 0;
    return 0;
}

int uioemu_host_memfd(const char *name, uint64_t bytes) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)bytes) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int uioemu_host_accept(int listener) { return accept4(listener, NULL, NULL, SOCK_CLOEXEC); }

int uioemu_host_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int uioemu_host_pipe(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

uint32_t uioemu_host_load(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }
void uioemu_host_store(uint32_t *word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }
int64_t uioemu_host_load64(const int64_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }
void uioemu_host_store64(int64_t *word, int64_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

int uioemu_host_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0);
    if (r == 0 || errno == EAGAIN) return 0;
    return -1;
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int uioemu_host_spin_while_equal(const uint32_t *word, uint32_t expected, int64_t spin_ns) {
    int64_t deadline = monotonic_ns() + spin_ns;
    for (;;) { /* bounded: spin_ns of wall time */
        for (int i = 0; i < 32; i++) {
            if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) return 1;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        if (monotonic_ns() >= deadline) return __atomic_load_n(word, __ATOMIC_SEQ_CST) != expected;
    }
}

int32_t uioemu_host_cpu_plus_one(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : cpu + 1;
}

void uioemu_host_futex_wake(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }

ssize_t uioemu_host_send(int socket, const void *bytes, size_t count, const int *fds, int fd_count) {
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = count};
    union {
        char buffer[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd_count > 4) { errno = EINVAL; return -1; }
    if (fd_count > 0) {
        memset(&control, 0, sizeof control);
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE((size_t)fd_count * sizeof(int));
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN((size_t)fd_count * sizeof(int));
        memcpy(CMSG_DATA(header), fds, (size_t)fd_count * sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(socket, &message, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t uioemu_host_receive(int socket, void *bytes, size_t capacity, int *fds, int max_fds, int *fd_count,
                            int *truncated) {
    struct iovec iov = {.iov_base = bytes, .iov_len = capacity};
    union {
        char buffer[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof control.buffer};
    *fd_count = 0;
    *truncated = 0;
    ssize_t n;
    do { n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *truncated = 1;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&message); h != NULL; h = CMSG_NXTHDR(&message, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int received[8];
        if (count > 8) count = 8;
        memcpy(received, CMSG_DATA(h), (size_t)count * sizeof(int));
        for (int i = 0; i < count; i++) {
            if (*fd_count < max_fds) fds[(*fd_count)++] = received[i];
            else { close(received[i]); *truncated = 1; }
        }
    }
    return n;
}
