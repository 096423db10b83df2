/*
 * libuioemu-attach.so: the preload library that puts an unmodified driver process on the emulated
 * board (DESIGN.md, "Attaching a user's driver process"; the protocol is
 * Sources/CAttachProtocol/include/uioemu_attach.h).
 *
 * Internal declarations shared by the files of the library, one file per concept:
 *   transport.c  constructor, handshake, mailbox requests, futex waits, fork
 *   paths.c      path normalisation, which paths are redirected, static queries (stat, opendir...)
 *   opens.c      open/fopen of redirected paths (OP_OPEN and its kinds)
 *   fdtable.c    which fds are board files, dup/close tracking, read/write/fcntl on them
 *   mmap.c       mmap/munmap of board files, the mapping table, pool protection
 *   decoder.c    the x86-64 instruction decoder (decoder.h, also used by its unit test)
 *   fault.c      the SIGSEGV/SIGBUS handler and the sigaction/signal interposition
 *   clock.c      clocks and sleeps in board time
 *   waits.c      poll/select/epoll and emulated timerfds
 */
#ifndef UIOEMU_PRELOAD_H
#define UIOEMU_PRELOAD_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "uioemu_attach.h"

#define UIOEMU_EXPORT __attribute__((visibility("default")))
#define UIOEMU_HIDDEN __attribute__((visibility("hidden")))

/* The next definition of an interposed libc function (resolved once per call site). */
#define REAL(name)                                                                       \
    ({                                                                                   \
        static __typeof__(&name) real_##name##_;                                         \
        if (__builtin_expect(real_##name##_ == NULL, 0))                                 \
            real_##name##_ = (__typeof__(&name))dlsym(RTLD_NEXT, #name);                 \
        real_##name##_;                                                                  \
    })

/* Raw system calls for the library's own use: they never re-enter an interposed function and are
   async-signal-safe. They return -errno on failure (no errno). */
static inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
#if defined(__x86_64__)
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
#else
    (void)r10; (void)r8; (void)r9;
    ret = syscall(n, a, b, c, d, e, f);
    if (ret == -1) ret = -errno;
#endif
    return ret;
}
#define RAW0(n) raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW6(n, a, b, c, d, e, f) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* ---- transport.c ---- */

enum attach_mode {
    ATTACH_UNINITIALISED = 0,
    ATTACH_PASSTHROUGH,   /* not started by uioemu attach: every call passes through */
    ATTACH_ATTACHED,      /* connected (or reconnecting lazily after fork) */
};

struct attach_state {
    int mode;                       /* enum attach_mode */
    bool realtime;                  /* WELCOME flags */
    bool noncoherent;
    int connected_pid;              /* the process the connection belongs to (0: not connected) */
    unsigned generation;            /* bumped on every (re)connection: stale board fds are refused */
    int socket_fd;
    int pool_fd;
    int notify_fd;
    struct uioemu_mailbox *mailbox;
    uint64_t mailbox_bytes;
    uint64_t pool_physical_base;
    uint64_t pool_bytes;
    uint64_t page_bytes;
    char root[4096];                /* $UIOEMU_ATTACH_ROOT, without a trailing slash */
    size_t root_length;
    char socket_path[108];
};

UIOEMU_HIDDEN extern struct attach_state g_attach;

/* Makes sure the library is initialised; true when attached (connected, or connects now: after a
   fork the child reconnects lazily here). Not async-signal-safe (first call may connect). */
UIOEMU_HIDDEN bool attach_active(void);
/* True when attached without connecting (for the cheap checks on every call). */
static inline bool attach_enabled(void) { return g_attach.mode == ATTACH_ATTACHED; }
UIOEMU_HIDDEN bool attach_virtual_time(void); /* attached and not real time */

/* One request: `fill` has set op, a[], payload and length in g_attach.mailbox->request. Takes the
   mailbox lock first (attach_lock), sends the clock debt, waits for the reply, applies its protection
   changes and receives the fd that follows (returned in *fd_out, -1 if none; fd_out may be NULL, then
   the fd is closed). Returns reply.result. Async-signal-safe. */
UIOEMU_HIDDEN void attach_lock(void);
UIOEMU_HIDDEN void attach_unlock(void);
UIOEMU_HIDDEN int64_t attach_call_locked(int *fd_out);
/* The emulator has stopped the run (or the child cannot go on): waits for the emulator to end the
   process, exits 70 when the socket closes. */
UIOEMU_HIDDEN _Noreturn void attach_wait_for_end(void);
UIOEMU_HIDDEN _Noreturn void attach_fatal(const char *message);
/* stderr without stdio (async-signal-safe). */
UIOEMU_HIDDEN void attach_say(const char *a, const char *b, const char *c);
UIOEMU_HIDDEN int attach_tid(void);
UIOEMU_HIDDEN int attach_pid(void);
/* Virtual time: board-time reads. `attach_now` adds the clock-read cost to the debt (a clock read),
   `attach_peek_now` does not (the library's own bookkeeping). */
UIOEMU_HIDDEN int64_t attach_now(void);
UIOEMU_HIDDEN int64_t attach_peek_now(void);
UIOEMU_HIDDEN void attach_add_debt(int64_t ns);
/* Virtual time: the single board thread. Returns false (after reporting the problem and waiting for
   the end) never; it does not return when another thread touches the board. */
UIOEMU_HIDDEN void attach_check_board_thread(uint64_t instruction_address);
/* Sends OP_PROBLEM and waits for the end. */
UIOEMU_HIDDEN _Noreturn void attach_problem(uint32_t problem, uint64_t instruction_address, uint32_t width,
                                            const char *description);
/* OP_SLEEP_UNTIL (virtual time). */
UIOEMU_HIDDEN void attach_sleep_until(int64_t board_ns);
/* Virtual time: tell the emulator this process is about to block outside the board (waitpid, a
   wait on real fds only), so board time goes on without it until its next request. */
UIOEMU_HIDDEN void attach_detach(int reason, int64_t pid);
/* Virtual time: detach before a read of a real fd that has nothing to read yet (a pipe from
   another process of the program, a terminal): it may block, and the writer may need board time. */
UIOEMU_HIDDEN bool attach_detach_if_blocking(int fd);

/* ---- paths.c ---- */

enum path_class {
    PATH_PLAIN = 0,   /* not ours: pass through */
    PATH_SYS,         /* /sys/class/uio..., /sys/class/u-dma-buf... */
    PATH_DEV,         /* /dev/uioN, /dev/udmabuf*, /dev/mem, /dev/<a name in the stand-in dev/> */
};

/* Normalises `path` (relative to `dirfd`, or the cwd for AT_FDCWD) into `out` (an absolute path in
   the child's /sys or /dev spelling) and classifies it. Returns PATH_PLAIN when not redirected (also
   when not attached). */
UIOEMU_HIDDEN int path_classify(int dirfd, const char *path, char *out, size_t out_size);
/* The stand-in path of a normalised redirected path: $ROOT + path. */
UIOEMU_HIDDEN void path_stand_in(const char *normalised, char *out, size_t out_size);
/* If `host` is inside the stand-in root and its /sys or /dev spelling is redirected, rewrites it in
   place into that spelling. */
UIOEMU_HIDDEN void path_map_back(char *host);

/* ---- fdtable.c ---- */

enum board_kind {
    BOARD_NONE = 0,
    BOARD_UIO,        /* /dev/uioN */
    BOARD_UDMABUF,    /* /dev/udmabufN or the buffer's own name */
    BOARD_DEVMEM,     /* /dev/mem */
    BOARD_ATTRIBUTE,  /* a live sysfs attribute (memfd or pipe writer, native I/O; OP_CLOSE at the end) */
    BOARD_TIMERFD,    /* an emulated timerfd (virtual time) */
    BOARD_EPOLL,      /* an epoll instance with emulated members (virtual time) */
};

struct epoll_member {
    int fd;                 /* the fd named in epoll_ctl */
    int object;             /* index of the member's board object */
    uint32_t events;
    uint64_t data;
    bool reported; /* EPOLLET: reported since it last became ready */
    bool disabled; /* EPOLLONESHOT fired */
};
#define EPOLL_MEMBERS_MAX 32

struct board_object {
    int kind;               /* enum board_kind; BOARD_NONE: free slot */
    int references;         /* fds referring to it */
    unsigned generation;    /* g_attach.generation when opened */
    uint32_t handle;        /* emulator handle (UIO, UDMABUF, DEVMEM, ATTRIBUTE) */
    int open_flags;         /* flags given to open (O_ACCMODE, O_NONBLOCK updated by F_SETFL/FIONBIO) */
    uint64_t size;          /* r[1] of OPEN */
    uint64_t physical;      /* r[2] of OPEN */
    int64_t position;       /* read/write position (u-dma-buf file I/O) */
    char path[96];          /* the child's spelling, for fstat and messages */
    /* BOARD_TIMERFD */
    int clock;
    int64_t deadline_ns;    /* board time of the next expiry, 0 = disarmed */
    int64_t interval_ns;
    /* BOARD_EPOLL */
    int member_count;
    struct epoll_member members[EPOLL_MEMBERS_MAX];
};

/* The board object of `fd`, or NULL (one array load: every read/write/close asks). */
UIOEMU_HIDDEN struct board_object *fd_object(int fd);
/* Registers `fd` as a new reference to a new object of `kind` (returns it, or NULL when full). */
UIOEMU_HIDDEN struct board_object *fd_attach_new(int fd, int kind);
/* Makes `newfd` another reference to `fd`'s object (after a successful dup). */
UIOEMU_HIDDEN void fd_copy(int fd, int newfd);
/* Removes `fd` from the table (before the real close). Returns its object when that was the last
   reference: the caller closes the fd and then calls fd_release(object) (OP_CLOSE, free). */
UIOEMU_HIDDEN struct board_object *fd_detach(int fd);
UIOEMU_HIDDEN void fd_release(struct board_object *object);
/* Fork: every object belongs to the parent's connection now. */
UIOEMU_HIDDEN void fd_mark_all_stale(void);
/* The object's open file is usable on this connection (not inherited over fork). */
UIOEMU_HIDDEN bool fd_object_current(const struct board_object *object);
/* Removes `object` from every tracked epoll set (its last reference closed). */
UIOEMU_HIDDEN void waits_forget_object(struct board_object *object);
UIOEMU_HIDDEN struct board_object *fd_object_at(int index);
UIOEMU_HIDDEN int fd_object_index(const struct board_object *object);
/* read() on an emulated timerfd (waits.c). */
UIOEMU_HIDDEN ssize_t waits_timerfd_read(struct board_object *object, void *buffer, size_t count);

/* ---- mmap.c ---- */

enum mapping_kind_local { MAPPING_FREE = 0, MAPPING_REGISTERS = 1, MAPPING_POOL = 2 };

struct mapping {
    uintptr_t start;
    uint64_t length;
    int kind;
    unsigned generation;
    int64_t id;             /* registers: the emulator's mapping id */
    uint64_t pool_offset;   /* pool: offset of `start` in the pool memfd */
    uint64_t physical;      /* physical address of `start` */
    int prot;               /* the prot the program asked for (pool pages get it back when unprotected) */
};

/* The mapping containing `address`, or NULL (async-signal-safe: a scan of a fixed table). */
UIOEMU_HIDDEN struct mapping *mapping_find(uintptr_t address);
/* Applies the protection changes of the reply in the mailbox (async-signal-safe). */
UIOEMU_HIDDEN void mmap_apply_protection_changes(const struct uioemu_reply *reply);
/* Whether the pool page holding pool offset `offset` is device-owned (inaccessible). */
UIOEMU_HIDDEN bool mmap_pool_page_device_owned(uint64_t offset);
/* Makes the pool page at `offset` accessible locally (a touch the emulator did not unprotect). */
UIOEMU_HIDDEN void mmap_pool_force_accessible(uint64_t offset, uint64_t length);
UIOEMU_HIDDEN void mmap_init_pool_state(void);

/* ---- fault.c ---- */

UIOEMU_HIDDEN void fault_install(void);

/* ---- clock.c ---- */

UIOEMU_HIDDEN int64_t clock_board_ns_for(int clock_id, bool *emulated);

#endif
