/*
 * Paths and redirection: which paths are the board's, how a path a program names is normalised
 * (relative to the cwd or a dirfd, `//`, `.`, `..`), and the static queries that the stand-in tree
 * at $UIOEMU_ATTACH_ROOT answers natively (stat family, access, opendir, scandir, glob, readlink,
 * realpath). Only these are redirected:
 *   /sys/class/uio and below, /sys/class/u-dma-buf and below,
 *   /dev/uio[0-9]+, /dev/udmabuf*, /dev/mem, and any /dev/<name> present in $ROOT/dev/.
 * Opens are in opens.c (they ask the emulator).
 */
#include "preload.h"

/* Interposers stay robust to NULL arguments that glibc declares nonnull. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool has_prefix_component(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* Collapses `//`, `.` and `..` of an absolute path in place. */
static void collapse(char *path)
{
    char *out = path;
    const char *in = path;
    while (*in) {
        while (*in == '/') in++;
        if (*in == 0) break;
        const char *end = strchr(in, '/');
        size_t n = end ? (size_t)(end - in) : strlen(in);
        if (n == 1 && in[0] == '.') {
            /* nothing */
        } else if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *(out - 1) != '/') out--;
            if (out > path) out--; /* the slash before the removed component */
        } else {
            *out++ = '/';
            memmove(out, in, n);
            out += n;
        }
        in += n;
    }
    if (out == path) *out++ = '/';
    *out = 0;
}

static bool classify_normalised(const char *p, int *class_out)
{
    if (has_prefix_component(p, "/sys/class/uio") || has_prefix_component(p, "/sys/class/u-dma-buf")) {
        *class_out = PATH_SYS;
        return true;
    }
    if (strncmp(p, "/dev/", 5) != 0) return false;
    const char *name = p + 5;
    if (name[0] == 0 || strchr(name, '/') != NULL) return false;
    bool known = strcmp(name, "mem") == 0 || strncmp(name, "udmabuf", 7) == 0;
    if (!known && strncmp(name, "uio", 3) == 0 && name[3] != 0) {
        known = true;
        for (const char *c = name + 3; *c; c++)
            if (*c < '0' || *c > '9') known = false;
    }
    if (!known) {
        char stand_in[PATH_MAX];
        path_stand_in(p, stand_in, sizeof stand_in);
        struct stat st;
        known = RAW4(SYS_newfstatat, AT_FDCWD, stand_in, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode);
    }
    if (known) *class_out = PATH_DEV;
    return known;
}

int path_classify(int dirfd, const char *path, char *out, size_t out_size)
{
    if (path == NULL || !attach_enabled()) return PATH_PLAIN;
    /* Fast exit for the common case: an absolute path outside /sys and /dev, or inside the root. */
    if (path[0] == '/' && strncmp(path, "/sys/", 5) != 0 && strncmp(path, "/dev/", 5) != 0 &&
        strncmp(path, g_attach.root, g_attach.root_length) != 0 && strstr(path, "/.") == NULL && path[1] != '/')
        return PATH_PLAIN;
    char buffer[PATH_MAX * 2];
    size_t used = 0;
    if (path[0] != '/') {
        long n;
        if (dirfd == AT_FDCWD) {
            n = RAW2(SYS_getcwd, buffer, PATH_MAX);
            if (n <= 0) return PATH_PLAIN;
            n = (long)strlen(buffer);
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            n = RAW4(SYS_readlinkat, AT_FDCWD, link, buffer, PATH_MAX - 1);
            if (n <= 0 || buffer[0] != '/') return PATH_PLAIN;
        }
        used = (size_t)n;
        buffer[used++] = '/';
    }
    size_t length = strlen(path);
    if (used + length >= sizeof buffer) return PATH_PLAIN;
    memcpy(buffer + used, path, length + 1);
    collapse(buffer);
    /* A path inside the stand-in root (a cwd or dirfd there) is named in its /sys or /dev spelling. */
    const char *p = buffer;
    if (strncmp(p, g_attach.root, g_attach.root_length) == 0 && p[g_attach.root_length] == '/')
        p += g_attach.root_length;
    int cls = PATH_PLAIN;
    if (!classify_normalised(p, &cls)) return PATH_PLAIN;
    if (strlen(p) >= out_size) return PATH_PLAIN;
    strcpy(out, p);
    return cls;
}

void path_stand_in(const char *normalised, char *out, size_t out_size)
{
    size_t n = strlen(normalised);
    if (g_attach.root_length + n + 1 > out_size) n = out_size - g_attach.root_length - 1;
    memcpy(out, g_attach.root, g_attach.root_length);
    memcpy(out + g_attach.root_length, normalised, n);
    out[g_attach.root_length + n] = 0;
}

void path_map_back(char *host)
{
    if (host == NULL || !attach_enabled()) return;
    if (strncmp(host, g_attach.root, g_attach.root_length) != 0 || host[g_attach.root_length] != '/') return;
    const char *spelled = host + g_attach.root_length;
    int cls;
    if (!classify_normalised(spelled, &cls)) return;
    memmove(host, spelled, strlen(spelled) + 1);
}

/* The stand-in path for `path` (relative to dirfd), or NULL when the path is not redirected. */
static const char *redirect(int dirfd, const char *path, char *host, size_t host_size, int *cls_out)
{
    char normalised[PATH_MAX];
    int cls = path_classify(dirfd, path, normalised, sizeof normalised);
    if (cls == PATH_PLAIN) return NULL;
    path_stand_in(normalised, host, host_size);
    if (cls_out) *cls_out = cls;
    return host;
}

/* /dev stand-ins are regular files; the kernel's are character devices. */
static void patch_device_mode(int cls, struct stat *st)
{
    if (cls == PATH_DEV && S_ISREG(st->st_mode)) {
        st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
        st->st_size = 0;
    }
}

/* ---- stat family ---- */

UIOEMU_EXPORT int stat(const char *path, struct stat *st)
{
    char host[PATH_MAX];
    int cls = 0;
    if (redirect(AT_FDCWD, path, host, sizeof host, &cls) == NULL) return REAL(stat)(path, st);
    int rc = REAL(stat)(host, st);
    if (rc == 0) patch_device_mode(cls, st);
    return rc;
}

UIOEMU_EXPORT int stat64(const char *path, struct stat64 *st)
{
    char host[PATH_MAX];
    int cls = 0;
    if (redirect(AT_FDCWD, path, host, sizeof host, &cls) == NULL) return REAL(stat64)(path, st);
    int rc = REAL(stat64)(host, st);
    if (rc == 0) patch_device_mode(cls, (struct stat *)st);
    return rc;
}

UIOEMU_EXPORT int lstat(const char *path, struct stat *st)
{
    char host[PATH_MAX];
    int cls = 0;
    if (redirect(AT_FDCWD, path, host, sizeof host, &cls) == NULL) return REAL(lstat)(path, st);
    int rc = REAL(lstat)(host, st);
    if (rc == 0) patch_device_mode(cls, st);
    return rc;
}

UIOEMU_EXPORT int lstat64(const char *path, struct stat64 *st)
{
    char host[PATH_MAX];
    int cls = 0;
    if (redirect(AT_FDCWD, path, host, sizeof host, &cls) == NULL) return REAL(lstat64)(path, st);
    int rc = REAL(lstat64)(host, st);
    if (rc == 0) patch_device_mode(cls, (struct stat *)st);
    return rc;
}

UIOEMU_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    char host[PATH_MAX];
    int cls = 0;
    if (path == NULL || path[0] == 0 || redirect(dirfd, path, host, sizeof host, &cls) == NULL) {
        if (path != NULL && path[0] == 0 && (flags & AT_EMPTY_PATH)) return fstat(dirfd, st);
        return REAL(fstatat)(dirfd, path, st, flags);
    }
    int rc = REAL(fstatat)(AT_FDCWD, host, st, flags);
    if (rc == 0) patch_device_mode(cls, st);
    return rc;
}

UIOEMU_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    return fstatat(dirfd, path, (struct stat *)st, flags);
}

UIOEMU_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
    char host[PATH_MAX];
    int cls = 0;
    if (path != NULL && path[0] == 0 && (flags & AT_EMPTY_PATH) && fd_object(dirfd) != NULL) {
        struct stat st;
        if (fstat(dirfd, &st) != 0) return -1;
        memset(stx, 0, sizeof *stx);
        stx->stx_mask = STATX_BASIC_STATS;
        stx->stx_mode = (uint16_t)st.st_mode;
        stx->stx_nlink = (uint32_t)st.st_nlink;
        stx->stx_uid = st.st_uid;
        stx->stx_gid = st.st_gid;
        stx->stx_ino = st.st_ino;
        stx->stx_blksize = (uint32_t)st.st_blksize;
        return 0;
    }
    if (path == NULL || redirect(dirfd, path, host, sizeof host, &cls) == NULL)
        return REAL(statx)(dirfd, path, flags, mask, stx);
    int rc = REAL(statx)(AT_FDCWD, host, flags, mask, stx);
    if (rc == 0 && cls == PATH_DEV && S_ISREG(stx->stx_mode)) {
        stx->stx_mode = (uint16_t)((stx->stx_mode & ~S_IFMT) | S_IFCHR);
        stx->stx_size = 0;
    }
    return rc;
}

/* The pre-2.33 glibc entry points that older binaries call. */
int __xstat(int version, const char *path, struct stat *st);
int __xstat64(int version, const char *path, struct stat64 *st);
int __lxstat(int version, const char *path, struct stat *st);
int __lxstat64(int version, const char *path, struct stat64 *st);
int __fxstatat(int version, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int version, int dirfd, const char *path, struct stat64 *st, int flags);

UIOEMU_EXPORT int __xstat(int version, const char *path, struct stat *st)
{
    (void)version;
    return stat(path, st);
}
UIOEMU_EXPORT int __xstat64(int version, const char *path, struct stat64 *st)
{
    (void)version;
    return stat64(path, st);
}
UIOEMU_EXPORT int __lxstat(int version, const char *path, struct stat *st)
{
    (void)version;
    return lstat(path, st);
}
UIOEMU_EXPORT int __lxstat64(int version, const char *path, struct stat64 *st)
{
    (void)version;
    return lstat64(path, st);
}
UIOEMU_EXPORT int __fxstatat(int version, int dirfd, const char *path, struct stat *st, int flags)
{
    (void)version;
    return fstatat(dirfd, path, st, flags);
}
UIOEMU_EXPORT int __fxstatat64(int version, int dirfd, const char *path, struct stat64 *st, int flags)
{
    (void)version;
    return fstatat64(dirfd, path, st, flags);
}

/* ---- access ---- */

UIOEMU_EXPORT int access(const char *path, int mode)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(access)(path, mode);
    return REAL(access)(host, mode);
}

UIOEMU_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
    char host[PATH_MAX];
    if (redirect(dirfd, path, host, sizeof host, NULL) == NULL) return REAL(faccessat)(dirfd, path, mode, flags);
    return REAL(faccessat)(AT_FDCWD, host, mode, flags);
}

UIOEMU_EXPORT int euidaccess(const char *path, int mode)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(euidaccess)(path, mode);
    return REAL(euidaccess)(host, mode);
}

UIOEMU_EXPORT int eaccess(const char *path, int mode) { return euidaccess(path, mode); }

/* ---- directories ---- */

UIOEMU_EXPORT DIR *opendir(const char *path)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(opendir)(path);
    return REAL(opendir)(host);
}

UIOEMU_EXPORT int scandir(const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
                          int (*compare)(const struct dirent **, const struct dirent **))
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(scandir)(path, list, filter, compare);
    return REAL(scandir)(host, list, filter, compare);
}

UIOEMU_EXPORT int scandir64(const char *path, struct dirent64 ***list, int (*filter)(const struct dirent64 *),
                            int (*compare)(const struct dirent64 **, const struct dirent64 **))
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(scandir64)(path, list, filter, compare);
    return REAL(scandir64)(host, list, filter, compare);
}

UIOEMU_EXPORT int scandirat(int dirfd, const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
                            int (*compare)(const struct dirent **, const struct dirent **))
{
    char host[PATH_MAX];
    if (redirect(dirfd, path, host, sizeof host, NULL) == NULL) return REAL(scandirat)(dirfd, path, list, filter, compare);
    return REAL(scandirat)(AT_FDCWD, host, list, filter, compare);
}

UIOEMU_EXPORT int chdir(const char *path)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(chdir)(path);
    return REAL(chdir)(host);
}

UIOEMU_EXPORT char *getcwd(char *buffer, size_t size)
{
    char *result = REAL(getcwd)(buffer, size);
    if (result != NULL) path_map_back(result);
    return result;
}

/* ---- glob ---- */

static void glob_map_back(glob_t *g, size_t first)
{
    for (size_t i = first; i < g->gl_pathc; i++) path_map_back(g->gl_pathv[g->gl_offs + i]);
}

UIOEMU_EXPORT int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
    char host[PATH_MAX];
    if (pattern == NULL || pattern[0] != '/' || redirect(AT_FDCWD, pattern, host, sizeof host, NULL) == NULL)
        return REAL(glob)(pattern, flags, errfunc, g);
    size_t first = (flags & GLOB_APPEND) ? g->gl_pathc : 0;
    int rc = REAL(glob)(host, flags, errfunc, g);
    if (rc == 0) {
        glob_map_back(g, first);
    } else if (rc == GLOB_NOMATCH && (flags & GLOB_NOCHECK)) {
        glob_map_back(g, first);
    }
    return rc;
}

UIOEMU_EXPORT int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *g)
{
    char host[PATH_MAX];
    if (pattern == NULL || pattern[0] != '/' || redirect(AT_FDCWD, pattern, host, sizeof host, NULL) == NULL)
        return REAL(glob64)(pattern, flags, errfunc, g);
    size_t first = (flags & GLOB_APPEND) ? g->gl_pathc : 0;
    int rc = REAL(glob64)(host, flags, errfunc, g);
    if (rc == 0 || (rc == GLOB_NOMATCH && (flags & GLOB_NOCHECK)))
        for (size_t i = first; i < g->gl_pathc; i++) path_map_back(g->gl_pathv[g->gl_offs + i]);
    return rc;
}

/* ---- links and canonical names ---- */

static ssize_t map_link_text(char *buffer, ssize_t n, size_t size)
{
    if (n <= 0 || (size_t)n >= size) return n;
    char text[PATH_MAX];
    memcpy(text, buffer, (size_t)n);
    text[n] = 0;
    path_map_back(text);
    size_t m = strlen(text);
    memcpy(buffer, text, m);
    return (ssize_t)m;
}

UIOEMU_EXPORT ssize_t readlink(const char *path, char *buffer, size_t size)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(readlink)(path, buffer, size);
    return map_link_text(buffer, REAL(readlink)(host, buffer, size), size);
}

UIOEMU_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buffer, size_t size)
{
    char host[PATH_MAX];
    if (redirect(dirfd, path, host, sizeof host, NULL) == NULL) return REAL(readlinkat)(dirfd, path, buffer, size);
    return map_link_text(buffer, REAL(readlinkat)(AT_FDCWD, host, buffer, size), size);
}

UIOEMU_EXPORT char *realpath(const char *path, char *resolved)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(realpath)(path, resolved);
    char *result = REAL(realpath)(host, resolved);
    if (result != NULL) path_map_back(result);
    return result;
}

UIOEMU_EXPORT char *canonicalize_file_name(const char *path)
{
    char host[PATH_MAX];
    if (redirect(AT_FDCWD, path, host, sizeof host, NULL) == NULL) return REAL(canonicalize_file_name)(path);
    char *result = REAL(canonicalize_file_name)(host);
    if (result != NULL) path_map_back(result);
    return result;
}
