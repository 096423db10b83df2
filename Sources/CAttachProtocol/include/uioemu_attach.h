/*
 * uioemu attach protocol: how the preload library inside a user's driver process (the child) and
 * the emulator (uioemu attach) talk. Shared by both sides: the C preload library includes it and
 * Swift imports it as the CAttachProtocol module, so the two can never disagree on a layout.
 *
 * Two channels (DESIGN.md, "Attaching a user's driver process"):
 *
 * 1. A control socket (AF_UNIX, SOCK_SEQPACKET) at $UIOEMU_ATTACH_SOCKET, in a private 0700
 *    directory. Used for the handshake and for passing file descriptors (SCM_RIGHTS), and as the
 *    liveness signal: EOF on it means the other side is gone. Each message is one packet:
 *    a `uioemu_msg_header` and `length` bytes of body. Anything else is malformed: the receiver
 *    ends that connection with an error naming what was wrong.
 *
 * 2. A mailbox: one shared page per connected process (a memfd sent in WELCOME), holding one
 *    request and one reply. Every board operation (open, read, write, mmap, register access,
 *    waits) is a request. The child is single-threaded with respect to the board (a second thread
 *    touching the device is a finding), so one slot suffices. Both sides spin briefly, then sleep
 *    on a shared (not PRIVATE) futex:
 *      child:    fill `request`, store request_seq = seq + 1 (seq_cst); if emulator_sleeping, wake it:
 *                in real time write 1 to the notify eventfd, in virtual time FUTEX_WAKE request_seq;
 *                then wait until reply_seq == request_seq (acquire).
 *      emulator: handle the request, fill `reply`, store reply_seq = request_seq (release),
 *                FUTEX_WAKE reply_seq if child_sleeping.
 *    A sleeping side wakes at least every UIOEMU_LIVENESS_CHECK_NS to check the socket for EOF.
 *
 * Board time: `board_time_ns` is the board's time whenever the child runs (the emulator writes it
 * before every reply). In virtual time the child's clocks read it (plus its own clock-read debt,
 * see `clock_read_cost_ns`) and its sleeps and wait timeouts are requests, so board time advances
 * only while the child waits. In real time the child's clocks are its own and only board
 * operations are requests.
 *
 * All integers are in the host's byte order (both ends run on the same x86-64 host).
 */
#ifndef UIOEMU_ATTACH_H
#define UIOEMU_ATTACH_H

#include <stdint.h>

#define UIOEMU_ATTACH_MAGIC 0x656f6975u /* "uioe" in memory on a little-endian host */
#define UIOEMU_ATTACH_VERSION 1u

/* Environment of the child. */
#define UIOEMU_ENV_SOCKET "UIOEMU_ATTACH_SOCKET" /* path of the control socket */
#define UIOEMU_ENV_ROOT "UIOEMU_ATTACH_ROOT"     /* directory holding sys/class/... and dev/ stand-ins */
#define UIOEMU_ENV_PRELOAD_MARK "UIOEMU_ATTACH_PRELOADED"

/* The wall-clock epoch CLOCK_REALTIME reads at board time 0 in virtual time: 2026-01-01T00:00:00Z. */
#define UIOEMU_REALTIME_EPOCH_SECONDS 1767225600ll

#define UIOEMU_LIVENESS_CHECK_NS 20000000ll /* 20 ms */
#define UIOEMU_PAYLOAD_BYTES 3072
#define UIOEMU_MAX_HANDLES 256
#define UIOEMU_MAX_PROTECTION_CHANGES 16

/* ---- control socket messages ---- */

enum uioemu_msg_type {
    UIOEMU_MSG_HELLO = 1,   /* child -> emulator: struct uioemu_hello */
    UIOEMU_MSG_WELCOME = 2, /* emulator -> child: struct uioemu_welcome + SCM_RIGHTS
                               [mailbox memfd, DMA pool memfd, notify eventfd] */
    UIOEMU_MSG_FD = 3,      /* emulator -> child: struct uioemu_fd_message + SCM_RIGHTS [fd];
                               sent just before the mailbox reply whose `fd_follows` is 1 */
    UIOEMU_MSG_REFUSED = 4, /* emulator -> child: a NUL-terminated reason; then the socket closes */
};

struct uioemu_msg_header {
    uint32_t magic;   /* UIOEMU_ATTACH_MAGIC */
    uint16_t version; /* UIOEMU_ATTACH_VERSION */
    uint16_t type;    /* enum uioemu_msg_type */
    uint32_t length;  /* bytes of body after this header */
    uint32_t reserved;
};

struct uioemu_hello {
    int32_t pid;
    int32_t ppid;
    int32_t tid;
    uint32_t host_is_x86_64; /* 1 when the preload library was built for x86-64 */
    char comm[16];           /* the process name (prctl PR_GET_NAME), NUL-padded */
};

enum uioemu_welcome_flags {
    UIOEMU_WELCOME_REALTIME = 1u << 0,     /* real-time attach: clocks and sleeps pass through */
    UIOEMU_WELCOME_NONCOHERENT = 1u << 1,  /* the board's DMA pool is not cache-coherent */
};

struct uioemu_welcome {
    uint32_t flags;              /* enum uioemu_welcome_flags */
    uint32_t mailbox_bytes;      /* size of the mailbox memfd (sizeof(struct uioemu_mailbox) rounded up) */
    uint64_t pool_physical_base; /* physical address of the DMA pool's first byte */
    uint64_t pool_bytes;         /* size of the DMA pool memfd */
    uint64_t page_bytes;         /* the emulated kernel's page size (UIO map N is at N x this) */
};

struct uioemu_fd_message {
    uint32_t handle; /* the handle the fd belongs to */
    uint32_t purpose; /* enum uioemu_fd_purpose */
};

enum uioemu_fd_purpose {
    UIOEMU_FD_UIO_READINESS = 1, /* an eventfd readable while the UIO file's count differs (real time) */
    UIOEMU_FD_ATTRIBUTE_WRITER = 2, /* the write end of a pipe: bytes written reach a sysfs attribute */
};

/* ---- mailbox ---- */

enum uioemu_op {
    UIOEMU_OP_NONE = 0,
    /* open a redirected path. payload: NUL-terminated absolute path as the child named it.
       a[0] = open flags (O_*), a[1] = mode.
       reply: result = handle >= 0, or -errno. r[0] = enum uioemu_open_kind; r[1] = size in bytes
       (buffers, attributes' current text length), r[2] = physical address (u-dma-buf buffers);
       KIND_FILE: payload = the host path to open natively (a static file of the stand-in tree);
       [preload, noted:] a KIND_FILE handle is never used again (no OP_CLOSE for it); every other
       kind gets OP_CLOSE when the child's last copy of the fd closes;
       KIND_ATTRIBUTE opened for reading: payload = the attribute's text now. */
    UIOEMU_OP_OPEN = 1,
    UIOEMU_OP_CLOSE = 2, /* a[0] = handle. reply: result 0 */
    /* a[0] = handle, a[1] = bytes asked for, a[2] = 1 when the fd is O_NONBLOCK.
       UIO: reply result = 4 and payload = the s32 count, or -EINVAL/-EAGAIN/-EIO; blocking reads in
       virtual time are answered when the count changes. ATTRIBUTE: payload = text, result = bytes. */
    UIOEMU_OP_READ = 3,
    /* a[0] = handle, a[1] = bytes, payload = the bytes. reply: result = bytes written or -errno. */
    UIOEMU_OP_WRITE = 4,
    /* a[0] = handle (uio, udmabuf or devmem), a[1] = offset argument of mmap, a[2] = length, a[3] = prot.
       reply: result 0 or -errno; r[0] = enum uioemu_mapping_kind; r[1] = mapping id (registers),
       r[2] = pool offset (pool pages: map the pool memfd there), r[3] = physical address of the
       first byte of the mapping. */
    UIOEMU_OP_MMAP = 5,
    UIOEMU_OP_MUNMAP = 6, /* a[0] = mapping id (registers). reply: result 0 */
    /* a register access trapped in the child. a[0] = mapping id, a[1] = byte offset in the mapping,
       a[2] = width in bytes, a[3] = value (writes), a[4] = instruction address (for messages).
       reply: result 0 and r[0] = value read (zero-extended), or -errno when the run stops (the
       child then waits for the emulator to end it).
       [preload, noted:] the preload always sends width 4 at a 4-aligned offset: a 1/2-byte load is
       one 4-byte read of the aligned register (bytes taken in the child), an 8-byte access two
       4-byte accesses (low address first), a read-modify-write instruction (clang's `orl $4,
       0x30(%rdi)` for a volatile |=) one READ then one WRITE. */
    UIOEMU_OP_REGISTER_READ = 7,
    UIOEMU_OP_REGISTER_WRITE = 8,
    /* virtual time only: sleep until board time a[0] (absolute ns). reply: result 0 at that time. */
    UIOEMU_OP_SLEEP_UNTIL = 9,
    /* virtual time only: wait until one of the UIO handles in payload (uint32_t[a[1]]) is readable
       or board time reaches a[0] (absolute ns; -1: no deadline). reply: result = number of ready
       handles (0 at the deadline); payload = uint32_t ready handles.
       [preload, noted:] a negative result (as for SLEEP_UNTIL) means the run stopped: the child
       waits for the emulator to end it. */
    UIOEMU_OP_WAIT = 10,
    /* the child touched a device-owned buffer page (non-coherent board). a[0] = physical address,
       a[1] = 1 for a write, a[2] = instruction address. reply: result 0; the protection changes in
       the reply say what to unprotect. */
    UIOEMU_OP_CPU_TOUCH = 11,
    /* something the child cannot do right: a[0] = enum uioemu_problem, a[1] = instruction address,
       a[2] = width, a[3] = tid; payload = a NUL-terminated description. reply: -errno; the emulator
       ends the run. */
    UIOEMU_OP_PROBLEM = 12,
    /* the process is about to block outside the board, or is back from it. a[0] = enum
       uioemu_detach_reason; a[1] = waitpid's pid argument (UIOEMU_DETACH_WAITPID). While detached it
       does not hold board time; when a child it waits for ends it holds board time again until it
       says it is back (UIOEMU_DETACH_BACK), so the board does not run on while it returns.
       reply: result 0 at once. */
    UIOEMU_OP_DETACH = 13,
    /* the process started another one (fork, vfork, posix_spawn): a[0] = its pid. Until that process
       connects (or ends), board time waits for it, so nothing on the board runs ahead while it
       starts. reply: result 0 at once. */
    UIOEMU_OP_FORKED = 14,
};

enum uioemu_detach_reason {
    UIOEMU_DETACH_BACK = 0,    /* the blocking call returned */
    UIOEMU_DETACH_WAITPID = 1, /* waitpid/wait4/waitid for a child (a[1]: pid, -1 any, 0 or < -1 a group) */
    UIOEMU_DETACH_READ = 2,    /* a blocking read, or a wait on real fds only */
};

enum uioemu_open_kind {
    UIOEMU_KIND_FILE = 1,      /* a static file or directory of the stand-in tree: open natively */
    UIOEMU_KIND_UIO = 2,       /* /dev/uioN */
    UIOEMU_KIND_UDMABUF = 3,   /* /dev/udmabufN (or the buffer's own name) */
    UIOEMU_KIND_DEVMEM = 4,    /* /dev/mem */
    UIOEMU_KIND_ATTRIBUTE = 5, /* a live sysfs attribute (uio event, u-dma-buf sync_*) */
};

enum uioemu_mapping_kind {
    UIOEMU_MAPPING_REGISTERS = 1, /* keep PROT_NONE: every access traps and becomes a request */
    UIOEMU_MAPPING_POOL = 2,      /* map the DMA pool memfd at r[2], MAP_SHARED */
};

enum uioemu_problem {
    UIOEMU_PROBLEM_UNSUPPORTED_INSTRUCTION = 1, /* the decoder does not know it */
    UIOEMU_PROBLEM_UNSUPPORTED_WIDTH = 2,       /* a width the register model cannot do exactly */
    UIOEMU_PROBLEM_SECOND_THREAD = 3,           /* another thread touched the board (virtual time) */
    UIOEMU_PROBLEM_UNSUPPORTED_CALL = 4,        /* a call on a board file the emulation cannot do */
};

/* What the child must do to its mappings of the DMA pool after a reply (non-coherent boards): a
   buffer's pages are inaccessible while the device owns them, so a CPU touch is caught. */
struct uioemu_protection_change {
    uint64_t pool_offset;
    uint64_t length;
    uint32_t accessible; /* 1: PROT_READ|PROT_WRITE, 0: PROT_NONE */
    uint32_t reserved;
};

struct uioemu_request {
    uint32_t op;     /* enum uioemu_op */
    uint32_t length; /* bytes used in payload */
    int64_t debt_ns; /* virtual time: board time the child's clock reads added since its last request */
    int64_t a[6];
    uint8_t payload[UIOEMU_PAYLOAD_BYTES];
};

struct uioemu_reply {
    int64_t result;
    uint32_t length;     /* bytes used in payload */
    uint32_t fd_follows; /* 1: a UIOEMU_MSG_FD message is waiting on the socket */
    int64_t r[4];
    uint32_t protection_change_count;
    uint32_t reserved;
    struct uioemu_protection_change protection_changes[UIOEMU_MAX_PROTECTION_CHANGES];
    uint8_t payload[UIOEMU_PAYLOAD_BYTES];
};

struct uioemu_mailbox {
    uint32_t magic;   /* UIOEMU_ATTACH_MAGIC */
    uint32_t version; /* UIOEMU_ATTACH_VERSION */
    /* written by the emulator before every reply */
    int64_t board_time_ns;
    int64_t clock_read_cost_ns; /* virtual time: each clock read by the child costs this much */
    /* futex words (shared, not FUTEX_PRIVATE) */
    uint32_t request_seq;       /* child stores, emulator waits */
    uint32_t reply_seq;         /* emulator stores, child waits */
    uint32_t emulator_sleeping; /* the emulator is (about to be) asleep: in FUTEX_WAIT on request_seq
                                   (virtual time) or in its reactor's wait (real time); it starts set */
    uint32_t child_sleeping;    /* the child is (about to be) in FUTEX_WAIT on reply_seq */
    /* readable[h] != 0 while UIO handle h's count differs from the count it last read; the
       emulator keeps it current, so the child can answer a non-blocking poll without a request. */
    uint8_t readable[UIOEMU_MAX_HANDLES];
    struct uioemu_request request;
    struct uioemu_reply reply;
    /* Where each side runs, as CPU number + 1 (0: not known), stored just before it starts waiting
       for the other: the child before it publishes a request, the emulator before it publishes a
       reply. A side spins for the other only while the other can be running beside it: awake (not
       asleep, nor just woken: a woken task is often placed on its waker's CPU) and on another CPU.
       Spinning for a peer that waits for this very CPU only delays it. (At the end: the fields
       before keep their offsets.) */
    int32_t child_cpu;
    int32_t emulator_cpu;
};

#endif
