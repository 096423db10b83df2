/*
 * The fd table: which descriptors are board files (a placeholder fd stands for each), their copies
 * (dup, dup2, dup3, fcntl F_DUPFD*), their closes (the last copy's close sends OP_CLOSE), and the
 * calls on them that the emulator answers: read/write on /dev/uioN (uio_pdrv_genirq semantics come
 * from the emulator), O_NONBLOCK (F_SETFL, FIONBIO), fstat (a character device, as the kernel's).
 */
#include "preload.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/close_range.h>

#define FD_LIMIT 65536
#define OBJECT_LIMIT 1024

static uint16_t g_fd_objects[FD_LIMIT];       /* object index + 1, 0: not a board fd */
static struct board_object g_objects[OBJECT_LIMIT];
static int g_highest_fd = -1;
static pthread_mutex_t g_table_lock = PTHREAD_MUTEX_INITIALIZER;

struct board_object *fd_object(int fd)
{
    if ((unsigned)fd >= FD_LIMIT) return NULL;
    uint16_t index = __atomic_load_n(&g_fd_objects[fd], __ATOMIC_ACQUIRE);
    return index ? &g_objects[index - 1] : NULL;
}

struct board_object *fd_object_at(int index)
{
    return index >= 0 && index < OBJECT_LIMIT && g_objects[index].kind != BOARD_NONE ? &g_objects[index] : NULL;
}

int fd_object_index(const struct board_object *object) { return (int)(object - g_objects); }

bool fd_object_current(const struct board_object *object)
{
    return object->generation == g_attach.generation && g_attach.connected_pid != 0;
}

struct board_object *fd_attach_new(int fd, int kind)
{
    if ((unsigned)fd >= FD_LIMIT) return NULL;
    pthread_mutex_lock(&g_table_lock);
    struct board_object *found = NULL;
    for (int i = 0; i < OBJECT_LIMIT; i++) {
        if (g_objects[i].kind == BOARD_NONE) {
            found = &g_objects[i];
            memset(found, 0, sizeof *found);
            found->kind = kind;
            found->references = 1;
            found->generation = g_attach.generation;
            __atomic_store_n(&g_fd_objects[fd], (uint16_t)(i + 1), __ATOMIC_RELEASE);
            if (fd > g_highest_fd) g_highest_fd = fd;
            break;
        }
    }
    pthread_mutex_unlock(&g_table_lock);
    return found;
}

void fd_copy(int fd, int newfd)
{
    if ((unsigned)fd >= FD_LIMIT || (unsigned)newfd >= FD_LIMIT) return;
    pthread_mutex_lock(&g_table_lock);
    uint16_t index = g_fd_objects[fd];
    if (index) {
        g_objects[index - 1].references++;
        __atomic_store_n(&g_fd_objects[newfd], index, __ATOMIC_RELEASE);
        if (newfd > g_highest_fd) g_highest_fd = newfd;
    }
    pthread_mutex_unlock(&g_table_lock);
}

struct board_object *fd_detach(int fd)
{
    if ((unsigned)fd >= FD_LIMIT || g_fd_objects[fd] == 0) return NULL;
    /* A vfork child shares our memory: its closes must not touch the parent's table. */
    if (g_attach.connected_pid != 0 && attach_pid() != g_attach.connected_pid) return NULL;
    pthread_mutex_lock(&g_table_lock);
    struct board_object *last = NULL;
    uint16_t index = g_fd_objects[fd];
    if (index) {
        __atomic_store_n(&g_fd_objects[fd], 0, __ATOMIC_RELEASE);
        struct board_object *object = &g_objects[index - 1];
        if (--object->references == 0) last = object;
    }
    pthread_mutex_unlock(&g_table_lock);
    return last;
}

void fd_release(struct board_object *object)
{
    if (object == NULL) return;
    waits_forget_object(object);
    bool has_handle = object->kind == BOARD_UIO || object->kind == BOARD_UDMABUF || object->kind == BOARD_DEVMEM ||
                      object->kind == BOARD_ATTRIBUTE;
    if (has_handle && fd_object_current(object)) {
        attach_lock();
        struct uioemu_request *rq = &g_attach.mailbox->request;
        rq->op = UIOEMU_OP_CLOSE;
        rq->length = 0;
        rq->a[0] = object->handle;
        attach_call_locked(NULL);
        attach_unlock();
    }
    pthread_mutex_lock(&g_table_lock);
    object->kind = BOARD_NONE;
    pthread_mutex_unlock(&g_table_lock);
}

void fd_mark_all_stale(void)
{
    /* The generation moves on at the reconnection: every object keeps the old one. */
}

/* ---- close and copies ---- */

UIOEMU_EXPORT int close(int fd)
{
    struct board_object *last = fd_detach(fd);
    int rc = REAL(close)(fd);
    int saved = errno;
    fd_release(last);
    errno = saved;
    return rc;
}

UIOEMU_EXPORT int fclose(FILE *stream)
{
    int fd = stream ? fileno(stream) : -1;
    struct board_object *last = fd >= 0 ? fd_detach(fd) : NULL;
    int rc = REAL(fclose)(stream);
    int saved = errno;
    fd_release(last);
    errno = saved;
    return rc;
}

UIOEMU_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    struct board_object *released[64];
    int count = 0;
    if (!(flags & CLOSE_RANGE_CLOEXEC)) {
        int highest = g_highest_fd;
        for (unsigned fd = first; fd <= last && (int)fd <= highest && fd < FD_LIMIT; fd++) {
            struct board_object *object = fd_detach((int)fd);
            if (object != NULL && count < 64) released[count++] = object;
        }
    }
    int rc = REAL(close_range)(first, last, flags);
    int saved = errno;
    for (int i = 0; i < count; i++) fd_release(released[i]);
    errno = saved;
    return rc;
}

UIOEMU_EXPORT void closefrom(int lowfd)
{
    if (lowfd < 0) lowfd = 0;
    close_range((unsigned)lowfd, ~0u, 0);
}

UIOEMU_EXPORT int dup(int fd)
{
    int newfd = REAL(dup)(fd);
    if (newfd >= 0 && fd_object(fd)) fd_copy(fd, newfd);
    return newfd;
}

UIOEMU_EXPORT int dup2(int fd, int newfd)
{
    if (fd == newfd) return REAL(dup2)(fd, newfd);
    struct board_object *last = fd_object(newfd) ? fd_detach(newfd) : NULL;
    int rc = REAL(dup2)(fd, newfd);
    int saved = errno;
    fd_release(last);
    if (rc >= 0 && fd_object(fd)) fd_copy(fd, newfd);
    errno = saved;
    return rc;
}

UIOEMU_EXPORT int dup3(int fd, int newfd, int flags)
{
    struct board_object *last = fd != newfd && fd_object(newfd) ? fd_detach(newfd) : NULL;
    int rc = REAL(dup3)(fd, newfd, flags);
    int saved = errno;
    fd_release(last);
    if (rc >= 0 && fd_object(fd)) fd_copy(fd, newfd);
    errno = saved;
    return rc;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    struct board_object *object = fd_object(fd);
    if (object == NULL) return real(fd, cmd, arg);
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int newfd = real(fd, cmd, arg);
        if (newfd >= 0) fd_copy(fd, newfd);
        return newfd;
    }
    case F_SETFL: {
        int rc = real(fd, cmd, arg);
        if (rc == 0) object->open_flags = (object->open_flags & ~O_NONBLOCK) | ((int)(intptr_t)arg & O_NONBLOCK);
        return rc;
    }
    case F_GETFL: {
        int rc = real(fd, cmd, arg);
        if (rc >= 0 && (object->kind == BOARD_UIO || object->kind == BOARD_UDMABUF || object->kind == BOARD_DEVMEM))
            rc = (rc & ~(O_ACCMODE | O_NONBLOCK)) | (object->open_flags & (O_ACCMODE | O_NONBLOCK));
        return rc;
    }
    default:
        return real(fd, cmd, arg);
    }
}

UIOEMU_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...);
UIOEMU_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int (*real)(int, int, ...) = REAL(fcntl64);
    if (real == NULL) real = REAL(fcntl);
    return fcntl_common(real, fd, cmd, arg);
}

UIOEMU_EXPORT int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    struct board_object *object = fd_object(fd);
    int rc = REAL(ioctl)(fd, request, arg);
    if (object != NULL && request == FIONBIO && rc == 0 && arg != NULL)
        object->open_flags = (object->open_flags & ~O_NONBLOCK) | (*(int *)arg ? O_NONBLOCK : 0);
    return rc;
}

/* ---- read and write ---- */

static ssize_t fail(int error)
{
    errno = error;
    return -1;
}

static uint64_t udmabuf_pool_offset(const struct board_object *object)
{
    return object->physical - g_attach.pool_physical_base;
}

/* Real time: a blocking read that got EAGAIN waits on the readiness eventfd (the fd itself). */
static int wait_readable_realtime(int fd)
{
    for (;;) {
        struct pollfd fds[2] = { { fd, POLLIN, 0 }, { g_attach.socket_fd, POLLRDHUP, 0 } };
        long n = RAW4(SYS_ppoll, fds, 2, NULL, NULL);
        if (n == -EINTR) return -EINTR;
        if (n < 0) return (int)n;
        if (fds[1].revents & (POLLHUP | POLLRDHUP | POLLERR)) attach_fatal("the emulator went away");
        if (fds[0].revents) return 0;
    }
}

static ssize_t uio_read(int fd, struct board_object *object, void *buffer, size_t count)
{
    attach_check_board_thread(0);
    for (;;) {
        bool nonblocking = (object->open_flags & O_NONBLOCK) != 0;
        attach_lock();
        struct uioemu_request *rq = &g_attach.mailbox->request;
        rq->op = UIOEMU_OP_READ;
        rq->length = 0;
        rq->a[0] = object->handle;
        rq->a[1] = (int64_t)count;
        rq->a[2] = nonblocking ? 1 : 0;
        int64_t result = attach_call_locked(NULL);
        if (result > 0) {
            size_t n = (size_t)result;
            if (n > count) n = count;
            if (n > g_attach.mailbox->reply.length) n = g_attach.mailbox->reply.length;
            memcpy(buffer, g_attach.mailbox->reply.payload, n);
            result = (int64_t)n;
        }
        attach_unlock();
        if (result == -EAGAIN && !nonblocking && g_attach.realtime) {
            int rc = wait_readable_realtime(fd);
            if (rc < 0) return fail(-rc);
            continue;
        }
        if (result < 0) return fail((int)-result);
        return (ssize_t)result;
    }
}

static ssize_t board_read(int fd, struct board_object *object, void *buffer, size_t count, bool at, off_t offset)
{
    switch (object->kind) {
    case BOARD_UIO:
        if (!fd_object_current(object)) return fail(EIO);
        return uio_read(fd, object, buffer, count);
    case BOARD_TIMERFD:
        return waits_timerfd_read(object, buffer, count);
    case BOARD_UDMABUF: {
        if (!fd_object_current(object)) return fail(EIO);
        int64_t position = at ? offset : object->position;
        if (position < 0) return fail(EINVAL);
        if ((uint64_t)position >= object->size) return 0;
        if (count > object->size - (uint64_t)position) count = object->size - (uint64_t)position;
        ssize_t n = REAL(pread)(g_attach.pool_fd, buffer, count, (off_t)(udmabuf_pool_offset(object) + (uint64_t)position));
        if (n > 0 && !at) object->position += n;
        return n;
    }
    case BOARD_DEVMEM:
        return fail(EINVAL);
    default:
        return at ? REAL(pread)(fd, buffer, count, offset) : REAL(read)(fd, buffer, count);
    }
}

UIOEMU_EXPORT ssize_t read(int fd, void *buffer, size_t count)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL, 1)) {
        if (!attach_detach_if_blocking(fd)) return REAL(read)(fd, buffer, count);
        ssize_t r = REAL(read)(fd, buffer, count);
        int saved = errno;
        attach_detach(UIOEMU_DETACH_BACK, 0);
        errno = saved;
        return r;
    }
    return board_read(fd, object, buffer, count, false, 0);
}

ssize_t __read_chk(int fd, void *buffer, size_t count, size_t buffer_size);
UIOEMU_EXPORT ssize_t __read_chk(int fd, void *buffer, size_t count, size_t buffer_size)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL, 1)) {
        if (!attach_detach_if_blocking(fd)) return REAL(__read_chk)(fd, buffer, count, buffer_size);
        ssize_t r = REAL(__read_chk)(fd, buffer, count, buffer_size);
        int saved = errno;
        attach_detach(UIOEMU_DETACH_BACK, 0);
        errno = saved;
        return r;
    }
    if (count > buffer_size) return REAL(__read_chk)(fd, buffer, count, buffer_size); /* aborts */
    return board_read(fd, object, buffer, count, false, 0);
}

UIOEMU_EXPORT ssize_t pread(int fd, void *buffer, size_t count, off_t offset)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL, 1)) return REAL(pread)(fd, buffer, count, offset);
    if (object->kind == BOARD_UIO) return board_read(fd, object, buffer, count, false, 0); /* uio_read ignores the position */
    return board_read(fd, object, buffer, count, true, offset);
}

UIOEMU_EXPORT ssize_t pread64(int fd, void *buffer, size_t count, off64_t offset)
{
    return pread(fd, buffer, count, (off_t)offset);
}

static ssize_t board_write(int fd, struct board_object *object, const void *buffer, size_t count, bool at, off_t offset)
{
    switch (object->kind) {
    case BOARD_UIO: {
        if (!fd_object_current(object)) return fail(EIO);
        attach_check_board_thread(0);
        if (count > UIOEMU_PAYLOAD_BYTES) count = UIOEMU_PAYLOAD_BYTES;
        attach_lock();
        struct uioemu_request *rq = &g_attach.mailbox->request;
        rq->op = UIOEMU_OP_WRITE;
        rq->a[0] = object->handle;
        rq->a[1] = (int64_t)count;
        memcpy(rq->payload, buffer, count);
        rq->length = (uint32_t)count;
        int64_t result = attach_call_locked(NULL);
        attach_unlock();
        if (result < 0) return fail((int)-result);
        return (ssize_t)result;
    }
    case BOARD_TIMERFD:
        return fail(EINVAL);
    case BOARD_UDMABUF: {
        if (!fd_object_current(object)) return fail(EIO);
        int64_t position = at ? offset : object->position;
        if (position < 0) return fail(EINVAL);
        if ((uint64_t)position >= object->size) return count ? fail(ENOSPC) : 0;
        if (count > object->size - (uint64_t)position) count = object->size - (uint64_t)position;
        ssize_t n = REAL(pwrite)(g_attach.pool_fd, buffer, count, (off_t)(udmabuf_pool_offset(object) + (uint64_t)position));
        if (n > 0 && !at) object->position += n;
        return n;
    }
    case BOARD_DEVMEM:
        return fail(EINVAL);
    default:
        return at ? REAL(pwrite)(fd, buffer, count, offset) : REAL(write)(fd, buffer, count);
    }
}

UIOEMU_EXPORT ssize_t write(int fd, const void *buffer, size_t count)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL, 1)) return REAL(write)(fd, buffer, count);
    return board_write(fd, object, buffer, count, false, 0);
}

UIOEMU_EXPORT ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL, 1)) return REAL(pwrite)(fd, buffer, count, offset);
    if (object->kind == BOARD_UIO) return board_write(fd, object, buffer, count, false, 0);
    return board_write(fd, object, buffer, count, true, offset);
}

UIOEMU_EXPORT ssize_t pwrite64(int fd, const void *buffer, size_t count, off64_t offset)
{
    return pwrite(fd, buffer, count, (off_t)offset);
}

UIOEMU_EXPORT off_t lseek(int fd, off_t offset, int whence)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(object == NULL || object->kind != BOARD_UDMABUF, 1)) return REAL(lseek)(fd, offset, whence);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? object->position : whence == SEEK_END ? (int64_t)object->size : -1;
    if (base < 0 || base + offset < 0) return fail(EINVAL);
    object->position = base + offset;
    return object->position;
}

UIOEMU_EXPORT off64_t lseek64(int fd, off64_t offset, int whence) { return lseek(fd, (off_t)offset, whence); }

/* ---- fstat ---- */

static int board_fstat(struct board_object *object, struct stat *st)
{
    char host[4200];
    path_stand_in(object->path, host, sizeof host);
    if (RAW4(SYS_newfstatat, AT_FDCWD, host, st, 0) != 0) memset(st, 0, sizeof *st), st->st_mode = 0600;
    st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
    st->st_size = 0;
    return 0;
}

static bool is_device_object(const struct board_object *object)
{
    return object != NULL && (object->kind == BOARD_UIO || object->kind == BOARD_UDMABUF || object->kind == BOARD_DEVMEM);
}

UIOEMU_EXPORT int fstat(int fd, struct stat *st)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(!is_device_object(object), 1)) return REAL(fstat)(fd, st);
    return board_fstat(object, st);
}

UIOEMU_EXPORT int fstat64(int fd, struct stat64 *st)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(!is_device_object(object), 1)) return REAL(fstat64)(fd, st);
    return board_fstat(object, (struct stat *)st);
}

int __fxstat(int version, int fd, struct stat *st);
int __fxstat64(int version, int fd, struct stat64 *st);
UIOEMU_EXPORT int __fxstat(int version, int fd, struct stat *st)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(!is_device_object(object), 1)) return REAL(__fxstat)(version, fd, st);
    return board_fstat(object, st);
}

UIOEMU_EXPORT int __fxstat64(int version, int fd, struct stat64 *st)
{
    struct board_object *object = fd_object(fd);
    if (__builtin_expect(!is_device_object(object), 1)) return REAL(__fxstat64)(version, fd, st);
    return board_fstat(object, (struct stat *)st);
}
