/*
 * Opens of redirected paths: directories are opened natively on the stand-in tree; everything else
 * asks the emulator (OP_OPEN) and acts on the kind it answers:
 *   FILE       open the host path of the reply natively (a static file of the stand-in tree)
 *   UIO        a placeholder fd in the fd table: in virtual time an eventfd of our own (never
 *              readable natively: waits.c answers readiness from mailbox->readable[]); in real time
 *              the readiness eventfd the emulator sends, which it keeps readable while the count
 *              differs (so native poll/select/epoll work unchanged)
 *   UDMABUF,   /dev/null as the placeholder (mmap, read and write of it are answered in mmap.c and
 *   DEVMEM     fdtable.c)
 *   ATTRIBUTE  for reading: a memfd holding the reply's text (read, lseek, fstat, fread work
 *              natively); for writing: the pipe write end the emulator sends (write() and stdio both
 *              reach it; the emulator drains attribute pipes before every request)
 * glibc's fopen/freopen call an internal open that cannot be interposed, so they are interposed too.
 */
#include "preload.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

static int fail(int error)
{
    errno = error;
    return -1;
}

static void set_cloexec(int fd, bool cloexec) { RAW3(SYS_fcntl, fd, F_SETFD, cloexec ? FD_CLOEXEC : 0); }

static int memfd_with_text(const uint8_t *text, size_t length, bool cloexec)
{
    int fd = (int)RAW2(SYS_memfd_create, "uioemu-attribute", cloexec ? MFD_CLOEXEC : 0);
    if (fd < 0) return fd;
    size_t done = 0;
    while (done < length) {
        long n = RAW3(SYS_write, fd, text + done, length - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    RAW3(SYS_lseek, fd, 0, SEEK_SET);
    return fd;
}

/* Opens a normalised redirected path; returns an fd or -1 with errno. */
static int open_redirected(const char *normalised, int flags, mode_t mode)
{
    char host[PATH_MAX];
    path_stand_in(normalised, host, sizeof host);
    struct stat st;
    bool is_directory = RAW4(SYS_newfstatat, AT_FDCWD, host, &st, 0) == 0 && S_ISDIR(st.st_mode);
    if (is_directory || (flags & O_DIRECTORY)) return REAL(open)(host, flags, mode);
    if (!attach_active()) return REAL(open)(normalised, flags, mode);

    bool cloexec = (flags & O_CLOEXEC) != 0;
    size_t length = strlen(normalised) + 1;
    attach_lock();
    struct uioemu_mailbox *mb = g_attach.mailbox;
    mb->request.op = UIOEMU_OP_OPEN;
    mb->request.a[0] = flags;
    mb->request.a[1] = mode;
    memcpy(mb->request.payload, normalised, length);
    mb->request.length = (uint32_t)length;
    int sent_fd = -1;
    int64_t result = attach_call_locked(&sent_fd);
    int64_t kind = mb->reply.r[0];
    uint64_t size = (uint64_t)mb->reply.r[1], physical = (uint64_t)mb->reply.r[2];
    uint8_t payload[UIOEMU_PAYLOAD_BYTES + 1];
    size_t payload_length = mb->reply.length < UIOEMU_PAYLOAD_BYTES ? mb->reply.length : UIOEMU_PAYLOAD_BYTES;
    memcpy(payload, mb->reply.payload, payload_length);
    payload[payload_length] = 0;
    attach_unlock();
    if (result < 0) {
        if (sent_fd >= 0) RAW1(SYS_close, sent_fd);
        return fail((int)-result);
    }

    int fd = -1, board = BOARD_NONE;
    switch (kind) {
    case UIOEMU_KIND_FILE:
        if (sent_fd >= 0) RAW1(SYS_close, sent_fd);
        return REAL(open)((const char *)payload, flags, mode);
    case UIOEMU_KIND_UIO:
        board = BOARD_UIO;
        if (g_attach.realtime) {
            if (sent_fd < 0) {
                attach_say("uioemu attach: the emulator sent no readiness eventfd for ", normalised, " in real time\n");
                return fail(EIO);
            }
            fd = sent_fd;
            sent_fd = -1;
            set_cloexec(fd, cloexec);
        } else {
            fd = (int)RAW2(SYS_eventfd2, 0, cloexec ? EFD_CLOEXEC : 0);
        }
        break;
    case UIOEMU_KIND_UDMABUF:
    case UIOEMU_KIND_DEVMEM:
        board = kind == UIOEMU_KIND_UDMABUF ? BOARD_UDMABUF : BOARD_DEVMEM;
        fd = (int)RAW3(SYS_open, "/dev/null", O_RDWR | (cloexec ? O_CLOEXEC : 0), 0);
        break;
    case UIOEMU_KIND_ATTRIBUTE:
        board = BOARD_ATTRIBUTE;
        if ((flags & O_ACCMODE) == O_RDONLY) {
            fd = memfd_with_text(payload, payload_length, cloexec);
        } else {
            if (sent_fd < 0) {
                attach_say("uioemu attach: the emulator sent no pipe for writing ", normalised, "\n");
                return fail(EIO);
            }
            fd = sent_fd;
            sent_fd = -1;
            set_cloexec(fd, cloexec);
        }
        break;
    default:
        attach_say("uioemu attach: the emulator answered an open of ", normalised, " with an unknown kind\n");
        if (sent_fd >= 0) RAW1(SYS_close, sent_fd);
        return fail(EIO);
    }
    if (sent_fd >= 0) RAW1(SYS_close, sent_fd);
    if (fd < 0) return fail((int)-fd);
    struct board_object *object = fd_attach_new(fd, board);
    if (object == NULL) {
        RAW1(SYS_close, fd);
        return fail(EMFILE);
    }
    object->handle = (uint32_t)result;
    object->open_flags = flags;
    object->size = size;
    object->physical = physical;
    snprintf(object->path, sizeof object->path, "%s", normalised);
    return fd;
}

static mode_t mode_argument(int flags, va_list ap)
{
    return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

static int open_at(int dirfd, const char *path, int flags, mode_t mode, int (*real_openat)(int, const char *, int, ...))
{
    char normalised[PATH_MAX];
    if (path_classify(dirfd, path, normalised, sizeof normalised) == PATH_PLAIN)
        return real_openat(dirfd, path, flags, mode);
    return open_redirected(normalised, flags, mode);
}

static int real_open_as_openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_argument(flags, ap);
    va_end(ap);
    (void)dirfd;
    return REAL(open)(path, flags, mode);
}

UIOEMU_EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_argument(flags, ap);
    va_end(ap);
    return open_at(AT_FDCWD, path, flags, mode, real_open_as_openat);
}

UIOEMU_EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_argument(flags, ap);
    va_end(ap);
    return open_at(AT_FDCWD, path, flags, mode, real_open_as_openat);
}

UIOEMU_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_argument(flags, ap);
    va_end(ap);
    return open_at(dirfd, path, flags, mode, REAL(openat));
}

UIOEMU_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_argument(flags, ap);
    va_end(ap);
    return open_at(dirfd, path, flags, mode, REAL(openat));
}

/* _FORTIFY_SOURCE entry points (no mode argument). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
UIOEMU_EXPORT int __open_2(const char *path, int flags) { return open(path, flags); }
UIOEMU_EXPORT int __open64_2(const char *path, int flags) { return open(path, flags); }
UIOEMU_EXPORT int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
UIOEMU_EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }

UIOEMU_EXPORT int creat(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
UIOEMU_EXPORT int creat64(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

/* fopen's mode string as open flags (glibc's rules: r w a, +, e = O_CLOEXEC, x = O_EXCL). */
static int stdio_flags(const char *mode)
{
    int flags;
    switch (mode[0]) {
    case 'r': flags = O_RDONLY; break;
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: return -1;
    }
    for (const char *c = mode + 1; *c && *c != ','; c++) {
        if (*c == '+') flags = (flags & ~O_ACCMODE) | O_RDWR;
        else if (*c == 'e') flags |= O_CLOEXEC;
        else if (*c == 'x') flags |= O_EXCL;
    }
    return flags;
}

static FILE *fopen_redirected(const char *normalised, const char *mode)
{
    int flags = stdio_flags(mode);
    if (flags < 0) {
        errno = EINVAL;
        return NULL;
    }
    int fd = open_redirected(normalised, flags, 0666);
    if (fd < 0) return NULL;
    FILE *stream = fdopen(fd, mode);
    if (stream == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return stream;
}

UIOEMU_EXPORT FILE *fopen(const char *path, const char *mode)
{
    char normalised[PATH_MAX];
    if (path_classify(AT_FDCWD, path, normalised, sizeof normalised) == PATH_PLAIN) return REAL(fopen)(path, mode);
    return fopen_redirected(normalised, mode);
}

UIOEMU_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    char normalised[PATH_MAX];
    if (path_classify(AT_FDCWD, path, normalised, sizeof normalised) == PATH_PLAIN) return REAL(fopen64)(path, mode);
    return fopen_redirected(normalised, mode);
}

static FILE *freopen_common(FILE *(*real)(const char *, const char *, FILE *), const char *path, const char *mode, FILE *stream)
{
    char normalised[PATH_MAX];
    if (path == NULL || path_classify(AT_FDCWD, path, normalised, sizeof normalised) == PATH_PLAIN)
        return real(path, mode, stream);
    int flags = stdio_flags(mode);
    if (flags < 0) {
        errno = EINVAL;
        return NULL;
    }
    int fd = open_redirected(normalised, flags, 0666);
    if (fd < 0) return NULL;
    /* Reopen the stream on /dev/null with the same mode, then put the board fd under it. */
    if (real("/dev/null", mode, stream) == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    int target = fileno(stream);
    if (dup2(fd, target) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    close(fd);
    return stream;
}

UIOEMU_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    return freopen_common(REAL(freopen), path, mode, stream);
}

UIOEMU_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    return freopen_common(REAL(freopen64), path, mode, stream);
}
