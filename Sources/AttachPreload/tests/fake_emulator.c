/*
 * A fake emulator for testing libuioemu-attach.so on its own: it speaks the attach protocol
 * (uioemu_attach.h) with just enough of a board to exercise every path of the preload library.
 *
 *   uio0 "axi-dma-s2mm"  a minimal AXI DMA S2MM channel (PG021 direct mode: DMACR 0x30, DMASR 0x34,
 *                        DA 0x48, DA_MSB 0x4C, LENGTH 0x58; Reset, RS, IOC/Err enables, W1C, a level
 *                        interrupt masked by the UIO handler): a packet of LENGTH bytes of the
 *                        `counter` pattern (LE words 0, 1, 2...) lands 20 us after LENGTH is written, so the examples
 *                        run against it
 *   uio1 "fake-dev"      a plain register file: writing 0x10 schedules an interrupt that many ns
 *                        later; 0x14 reads the CPU touches seen; 0x18 the sync_for_device writes;
 *                        0x1C the pool's first word; 0x20 low and 0x24 high 32 bits of board time
 *   udmabuf0             64 KiB at physical 0x38000000 in a 1 MiB pool (memfd)
 *   /dev/mem             both register windows and the pool at their physical addresses
 *
 * Virtual time by default (board time moves only in sleeps, waits and blocking reads); --realtime
 * follows CLOCK_MONOTONIC with a ticker thread. --noncoherent makes sync_for_device protect the
 * buffer's pages until sync_for_cpu. Usage:
 *   fake_emulator [--realtime] [--noncoherent] [--preload LIB] -- COMMAND [ARGS...]
 * Exit status: the child's (128 + signal when killed). A PROBLEM request is printed
 * ("fake_emulator: PROBLEM ...") and the child is killed, as uioemu ends the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uioemu_attach.h"

#define POOL_BYTES (1u << 20)
#define POOL_PHYSICAL 0x38000000ull
#define BUFFER_BYTES 65536u
#define DMA_PHYSICAL 0x40400000ull
#define DEV_PHYSICAL 0x43c00000ull
#define WINDOW_BYTES 0x10000u
#define PAGE 4096u
#define DMA_DELAY_NS 20000

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_realtime, g_noncoherent;
static int64_t g_board_ns;
static struct timespec g_start;
static uint8_t *g_pool;
static int g_pool_fd;
static char g_root[256];
static pid_t g_child;

/* ---- the devices ---- */

struct device {
    const char *name;
    uint32_t regs[WINDOW_BYTES / 4];
    uint32_t count;        /* UIO event count */
    bool enabled;          /* UIO irq not masked */
    int64_t irq_at[16];    /* fake-dev: scheduled interrupts (0 = free) */
};
static struct device g_dev[2] = { { .name = "axi-dma-s2mm", .enabled = true }, { .name = "fake-dev", .enabled = true } };
static int64_t g_dma_done_at;      /* board time of the armed transfer's completion, 0 = none */
static uint64_t g_stream_offset;   /* the counter pattern continues across packets */
static uint32_t g_cpu_touches, g_syncs_for_device;
static bool g_device_owns_buffer;

enum { DMACR = 0x30 / 4, DMASR = 0x34 / 4, DA = 0x48 / 4, DA_MSB = 0x4C / 4, LENGTH = 0x58 / 4 };

static void dma_reset(void)
{
    struct device *d = &g_dev[0];
    d->regs[DMACR] = 0x00010002; /* IRQThreshold 1, bit 1 reads as 1 */
    d->regs[DMASR] = 0x1;        /* Halted */
    d->regs[DA] = d->regs[DA_MSB] = d->regs[LENGTH] = 0;
    g_dma_done_at = 0;
}

static void update_dma_irq(void)
{
    struct device *d = &g_dev[0];
    bool level = (d->regs[DMASR] & d->regs[DMACR] & 0x7000) != 0;
    if (level && d->enabled) {
        d->count++;
        d->enabled = false; /* uio_pdrv_genirq masks the line in its handler */
    }
}

static void dma_complete(void)
{
    struct device *d = &g_dev[0];
    uint32_t length = d->regs[LENGTH];
    uint64_t address = ((uint64_t)d->regs[DA_MSB] << 32) | d->regs[DA];
    g_dma_done_at = 0;
    if (address < POOL_PHYSICAL || address + length > POOL_PHYSICAL + POOL_BYTES) {
        d->regs[DMASR] |= 0x40 | 0x4000 | 0x1; /* DMADecErr, Err_Irq, Halted */
        d->regs[DMACR] &= ~1u;
    } else {
        for (uint32_t i = 0; i < length; i++) { /* the emulator's `counter` pattern: LE words 0, 1, 2, ... */
            uint64_t n = g_stream_offset + i;
            g_pool[address - POOL_PHYSICAL + i] = (uint8_t)((uint32_t)(n >> 2) >> (8 * (n & 3)));
        }
        g_stream_offset += length;
        d->regs[DMASR] |= 0x1000 | 0x2; /* IOC_Irq, Idle */
    }
    update_dma_irq();
}

static uint32_t reg_read(int dev, uint32_t offset)
{
    struct device *d = &g_dev[dev];
    if (offset >= WINDOW_BYTES) return 0;
    if (dev == 1) {
        switch (offset) {
        case 0x14: return g_cpu_touches;
        case 0x18: return g_syncs_for_device;
        case 0x1C: { uint32_t v; memcpy(&v, g_pool, 4); return v; }
        case 0x20: return (uint32_t)g_board_ns;
        case 0x24: return (uint32_t)((uint64_t)g_board_ns >> 32);
        }
    }
    return d->regs[offset / 4];
}

static void reg_write(int dev, uint32_t offset, uint32_t value)
{
    struct device *d = &g_dev[dev];
    if (offset >= WINDOW_BYTES) return;
    if (dev == 1) {
        if (offset == 0x10) {
            for (int i = 0; i < 16; i++)
                if (d->irq_at[i] == 0) {
                    d->irq_at[i] = g_board_ns + value + 1;
                    break;
                }
        }
        d->regs[offset / 4] = value;
        return;
    }
    switch (offset / 4) {
    case DMACR:
        if (value & 4) {
            dma_reset();
            return;
        }
        d->regs[DMACR] = (value & 0x7001) | 0x00010002;
        if (value & 1) d->regs[DMASR] &= ~1u;
        else d->regs[DMASR] |= 1;
        break;
    case DMASR:
        d->regs[DMASR] &= ~(value & 0x7000);
        break;
    case LENGTH:
        d->regs[LENGTH] = value & 0x3ffffff;
        if ((d->regs[DMACR] & 1) && value) g_dma_done_at = g_board_ns + DMA_DELAY_NS;
        break;
    default:
        d->regs[offset / 4] = value;
    }
    update_dma_irq();
}

/* The next scheduled board event, or 0. */
static int64_t next_event(void)
{
    int64_t next = g_dma_done_at;
    for (int i = 0; i < 16; i++)
        if (g_dev[1].irq_at[i] && (!next || g_dev[1].irq_at[i] < next)) next = g_dev[1].irq_at[i];
    return next;
}

/* Board time moves to `t`, running what is due on the way. */
static void advance_to(int64_t t)
{
    for (;;) {
        int64_t next = next_event();
        if (!next || next > t) break;
        if (next > g_board_ns) g_board_ns = next;
        if (next == g_dma_done_at) dma_complete();
        for (int i = 0; i < 16; i++)
            if (g_dev[1].irq_at[i] == next) {
                g_dev[1].irq_at[i] = 0;
                g_dev[1].count++;
            }
    }
    if (t > g_board_ns) g_board_ns = t;
}

static int64_t monotonic_since_start(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - g_start.tv_sec) * 1000000000ll + (now.tv_nsec - g_start.tv_nsec);
}

/* ---- connections ---- */

enum handle_kind { H_FREE, H_UIO, H_UDMABUF, H_DEVMEM, H_ATTRIBUTE };

struct handle {
    int kind;
    int device;          /* UIO */
    uint32_t last_count;
    int readiness_fd;    /* real time: our end of the readiness eventfd */
    int pipe_fd;         /* attribute opened for writing: the read end */
    char attribute[32];
};

struct connection {
    int socket;
    int notify;
    pid_t pid;
    struct uioemu_mailbox *mb;
    struct handle handles[64];
    int mapping_device[64]; /* register mapping id -> device (or -1) */
    uint64_t mapping_base[64];
    int mapping_count;
    struct uioemu_protection_change pending[UIOEMU_MAX_PROTECTION_CHANGES];
    uint32_t pending_count;
};

static struct connection *g_connections[32];

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static void send_packet(int fd, uint16_t type, const void *body, uint32_t length, int pass_fd)
{
    struct uioemu_msg_header h = { UIOEMU_ATTACH_MAGIC, UIOEMU_ATTACH_VERSION, type, length, 0 };
    struct iovec iov[2] = { { &h, sizeof h }, { (void *)body, length } };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 3)]; } control;
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    if (pass_fd >= 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    sendmsg(fd, &msg, MSG_NOSIGNAL);
}

static void protect_buffer(struct connection *c, bool accessible)
{
    if (c->pending_count < UIOEMU_MAX_PROTECTION_CHANGES)
        c->pending[c->pending_count++] = (struct uioemu_protection_change){ 0, BUFFER_BYTES, accessible, 0 };
}

static void attribute_written(struct connection *c, const char *name, const char *text)
{
    if (strcmp(name, "sync_for_device") == 0 && strtoul(text, NULL, 0) == 1) {
        g_syncs_for_device++;
        g_device_owns_buffer = true;
        if (g_noncoherent) protect_buffer(c, false);
    } else if (strcmp(name, "sync_for_cpu") == 0 && strtoul(text, NULL, 0) == 1) {
        g_device_owns_buffer = false;
        if (g_noncoherent) protect_buffer(c, true);
    }
}

static void drain_pipes(struct connection *c)
{
    for (int h = 0; h < 64; h++) {
        struct handle *hd = &c->handles[h];
        if (hd->kind != H_ATTRIBUTE || hd->pipe_fd < 0) continue;
        char text[256];
        ssize_t n;
        while ((n = read(hd->pipe_fd, text, sizeof text - 1)) > 0) {
            text[n] = 0;
            attribute_written(c, hd->attribute, text);
        }
    }
}

static int new_handle(struct connection *c, int kind)
{
    for (int h = 0; h < 64; h++)
        if (c->handles[h].kind == H_FREE) {
            memset(&c->handles[h], 0, sizeof c->handles[h]);
            c->handles[h].kind = kind;
            c->handles[h].readiness_fd = c->handles[h].pipe_fd = -1;
            return h;
        }
    return -EMFILE;
}

static void reply_text(struct uioemu_reply *r, const char *text)
{
    r->length = (uint32_t)strlen(text);
    memcpy(r->payload, text, r->length);
}

static int64_t op_open(struct connection *c, struct uioemu_request *rq, struct uioemu_reply *r, int *fd_to_send)
{
    const char *path = (const char *)rq->payload;
    int flags = (int)rq->a[0];
    int uio = -1;
    if (strcmp(path, "/dev/uio0") == 0 || strcmp(path, "/dev/uio1") == 0) {
        uio = path[8] - '0';
        int h = new_handle(c, H_UIO);
        c->handles[h].device = uio;
        c->handles[h].last_count = g_dev[uio].count;
        r->r[0] = UIOEMU_KIND_UIO;
        if (g_realtime) {
            int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            c->handles[h].readiness_fd = efd;
            *fd_to_send = efd;
        }
        return h;
    }
    if (strcmp(path, "/dev/udmabuf0") == 0) {
        r->r[0] = UIOEMU_KIND_UDMABUF;
        r->r[1] = BUFFER_BYTES;
        r->r[2] = (int64_t)POOL_PHYSICAL;
        return new_handle(c, H_UDMABUF);
    }
    if (strcmp(path, "/dev/mem") == 0) {
        r->r[0] = UIOEMU_KIND_DEVMEM;
        return new_handle(c, H_DEVMEM);
    }
    const char *attribute = NULL;
    char text[64] = "";
    if ((strcmp(path, "/sys/class/uio/uio0/event") == 0 || strcmp(path, "/sys/class/uio/uio1/event") == 0) &&
        (uio = path[18] - '0', true)) {
        attribute = "event";
        snprintf(text, sizeof text, "%u\n", g_dev[uio].count);
    } else if (strncmp(path, "/sys/class/u-dma-buf/udmabuf0/sync_", 35) == 0) {
        attribute = path + strlen("/sys/class/u-dma-buf/udmabuf0/");
        snprintf(text, sizeof text, strcmp(attribute, "sync_owner") == 0 ? (g_device_owns_buffer ? "1\n" : "0\n") : "0\n");
    }
    if (attribute != NULL) {
        int h = new_handle(c, H_ATTRIBUTE);
        snprintf(c->handles[h].attribute, sizeof c->handles[h].attribute, "%s", attribute);
        r->r[0] = UIOEMU_KIND_ATTRIBUTE;
        if ((flags & O_ACCMODE) == O_RDONLY) {
            reply_text(r, text);
            r->r[1] = r->length;
        } else {
            int p[2];
            if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return -errno;
            c->handles[h].pipe_fd = p[0];
            *fd_to_send = p[1];
        }
        return h;
    }
    char host[4096];
    snprintf(host, sizeof host, "%s%.3000s", g_root, path);
    struct stat st;
    if (stat(host, &st) != 0) return -ENOENT;
    if ((flags & O_ACCMODE) != O_RDONLY) return -EACCES;
    r->r[0] = UIOEMU_KIND_FILE;
    reply_text(r, host);
    r->payload[r->length++] = 0;
    return 0;
}

static int64_t op_mmap(struct connection *c, struct uioemu_request *rq, struct uioemu_reply *r)
{
    int h = (int)rq->a[0];
    uint64_t offset = (uint64_t)rq->a[1], length = (uint64_t)rq->a[2];
    if (h < 0 || h >= 64 || length == 0) return -EINVAL;
    struct handle *hd = &c->handles[h];
    int device = -1;
    uint64_t physical = 0;
    if (hd->kind == H_UIO) {
        if (offset != 0 || length > WINDOW_BYTES) return -EINVAL; /* map 0 only */
        device = hd->device;
        physical = device == 0 ? DMA_PHYSICAL : DEV_PHYSICAL;
    } else if (hd->kind == H_UDMABUF) {
        if (offset + length > BUFFER_BYTES || offset % PAGE) return -EINVAL;
        r->r[0] = UIOEMU_MAPPING_POOL;
        r->r[2] = (int64_t)offset;
        r->r[3] = (int64_t)(POOL_PHYSICAL + offset);
        return 0;
    } else if (hd->kind == H_DEVMEM) {
        if (offset % PAGE) return -EINVAL;
        if (offset >= POOL_PHYSICAL && offset + length <= POOL_PHYSICAL + POOL_BYTES) {
            r->r[0] = UIOEMU_MAPPING_POOL;
            r->r[2] = (int64_t)(offset - POOL_PHYSICAL);
            r->r[3] = (int64_t)offset;
            return 0;
        }
        for (int d = 0; d < 2; d++) {
            uint64_t base = d == 0 ? DMA_PHYSICAL : DEV_PHYSICAL;
            if (offset >= base && offset + length <= base + WINDOW_BYTES) {
                device = d;
                physical = offset;
            }
        }
        if (device < 0) return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (c->mapping_count >= 64) return -ENOMEM;
    int id = c->mapping_count++;
    c->mapping_device[id] = device;
    c->mapping_base[id] = physical - (device == 0 ? DMA_PHYSICAL : DEV_PHYSICAL);
    r->r[0] = UIOEMU_MAPPING_REGISTERS;
    r->r[1] = id;
    r->r[3] = (int64_t)physical;
    return 0;
}

static bool handle_readable(struct connection *c, int h)
{
    struct handle *hd = &c->handles[h];
    return hd->kind == H_UIO && g_dev[hd->device].count != hd->last_count;
}

static void update_readable(struct connection *c)
{
    for (int h = 0; h < 64; h++) {
        bool readable = handle_readable(c, h);
        c->mb->readable[h] = readable;
        if (g_realtime && c->handles[h].readiness_fd >= 0) {
            uint64_t v;
            if (readable) {
                if (read(c->handles[h].readiness_fd, &v, 8) == 8 || true) {
                    v = 1;
                    if (write(c->handles[h].readiness_fd, &v, 8) < 0) { /* full: already readable */ }
                }
            } else {
                while (read(c->handles[h].readiness_fd, &v, 8) == 8) {}
            }
        }
    }
}

/* Virtual time: run board events until `done` holds or nothing is left (false then). */
static bool run_until(struct connection *c, bool (*done)(struct connection *, struct uioemu_request *), struct uioemu_request *rq,
                      int64_t deadline)
{
    for (;;) {
        if (done(c, rq)) return true;
        int64_t next = next_event();
        if (deadline >= 0 && (!next || next > deadline)) {
            advance_to(deadline);
            return true; /* at the deadline */
        }
        if (!next) return false;
        advance_to(next);
    }
}

static bool read_done(struct connection *c, struct uioemu_request *rq) { return handle_readable(c, (int)rq->a[0]); }

static bool wait_done(struct connection *c, struct uioemu_request *rq)
{
    const uint32_t *handles = (const uint32_t *)rq->payload;
    for (int64_t i = 0; i < rq->a[1]; i++)
        if (handles[i] < 64 && handle_readable(c, (int)handles[i])) return true;
    return false;
}

static int64_t handle_request(struct connection *c, struct uioemu_request *rq, struct uioemu_reply *r, int *fd_to_send)
{
    switch (rq->op) {
    case UIOEMU_OP_OPEN:
        return op_open(c, rq, r, fd_to_send);
    case UIOEMU_OP_CLOSE: {
        int h = (int)rq->a[0];
        if (h < 0 || h >= 64) return -EBADF;
        drain_pipes(c);
        if (c->handles[h].pipe_fd >= 0) close(c->handles[h].pipe_fd);
        if (c->handles[h].readiness_fd >= 0) close(c->handles[h].readiness_fd);
        c->handles[h].kind = H_FREE;
        return 0;
    }
    case UIOEMU_OP_READ: {
        int h = (int)rq->a[0];
        if (h < 0 || h >= 64 || c->handles[h].kind != H_UIO) return -EINVAL;
        if (rq->a[1] != 4) return -EINVAL;
        if (!handle_readable(c, h)) {
            if (rq->a[2] || g_realtime) return -EAGAIN;
            if (!run_until(c, read_done, rq, -1)) {
                fprintf(stderr, "fake_emulator: a blocking read with nothing scheduled: the run would hang\n");
                return -EDEADLK;
            }
        }
        struct handle *hd = &c->handles[h];
        hd->last_count = g_dev[hd->device].count;
        memcpy(r->payload, &hd->last_count, 4);
        r->length = 4;
        return 4;
    }
    case UIOEMU_OP_WRITE: {
        int h = (int)rq->a[0];
        if (h < 0 || h >= 64 || c->handles[h].kind != H_UIO || rq->a[1] != 4) return -EINVAL;
        uint32_t v;
        memcpy(&v, rq->payload, 4);
        struct device *d = &g_dev[c->handles[h].device];
        d->enabled = v != 0;
        if (c->handles[h].device == 0) update_dma_irq();
        return 4;
    }
    case UIOEMU_OP_MMAP:
        return op_mmap(c, rq, r);
    case UIOEMU_OP_MUNMAP:
        return 0;
    case UIOEMU_OP_REGISTER_READ:
    case UIOEMU_OP_REGISTER_WRITE: {
        int id = (int)rq->a[0];
        if (id < 0 || id >= c->mapping_count) return -EINVAL;
        if (rq->a[2] != 4) {
            fprintf(stderr, "fake_emulator: register access of width %" PRId64 "\n", rq->a[2]);
            return -EINVAL;
        }
        uint32_t offset = (uint32_t)(c->mapping_base[id] + (uint64_t)rq->a[1]);
        int device = c->mapping_device[id];
        if (!g_realtime) advance_to(g_board_ns + 100); /* each bus access costs board time */
        if (rq->op == UIOEMU_OP_REGISTER_READ) r->r[0] = reg_read(device, offset);
        else reg_write(device, offset, (uint32_t)rq->a[3]);
        return 0;
    }
    case UIOEMU_OP_SLEEP_UNTIL:
        if (!g_realtime) advance_to(rq->a[0]);
        return 0;
    case UIOEMU_OP_WAIT: {
        if (g_realtime) return -EINVAL;
        if (!run_until(c, wait_done, rq, rq->a[0])) {
            fprintf(stderr, "fake_emulator: a wait with no deadline and nothing scheduled: the run would hang\n");
            return -EDEADLK;
        }
        uint32_t *out = (uint32_t *)r->payload, n = 0;
        const uint32_t *handles = (const uint32_t *)rq->payload;
        for (int64_t i = 0; i < rq->a[1]; i++)
            if (handles[i] < 64 && handle_readable(c, (int)handles[i])) out[n++] = handles[i];
        r->length = n * 4;
        return n;
    }
    case UIOEMU_OP_CPU_TOUCH:
        g_cpu_touches++;
        protect_buffer(c, true);
        return 0;
    case UIOEMU_OP_DETACH: /* the fake's virtual time is its own: a detached process changes nothing here */
    case UIOEMU_OP_FORKED:
        return 0;
    case UIOEMU_OP_PROBLEM:
        fprintf(stderr, "fake_emulator: PROBLEM %" PRId64 " at 0x%" PRIx64 " width %" PRId64 ": %s\n", rq->a[0], rq->a[1], rq->a[2],
                (const char *)rq->payload);
        kill(c->pid, SIGKILL);
        return -EIO;
    default:
        return -ENOSYS;
    }
}

static bool socket_closed(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void *serve(void *arg)
{
    struct connection *c = arg;
    struct uioemu_mailbox *mb = c->mb;
    for (;;) {
        uint32_t seen = __atomic_load_n(&mb->reply_seq, __ATOMIC_ACQUIRE);
        int spins = 0;
        while (__atomic_load_n(&mb->request_seq, __ATOMIC_ACQUIRE) == seen) {
            if (++spins < 1000) continue;
            __atomic_store_n(&mb->emulator_sleeping, 1, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&mb->request_seq, __ATOMIC_SEQ_CST) == seen) {
                struct timespec t = { 0, g_realtime ? 200000 : UIOEMU_LIVENESS_CHECK_NS };
                futex(&mb->request_seq, FUTEX_WAIT, seen, &t);
            }
            __atomic_store_n(&mb->emulator_sleeping, 0, __ATOMIC_SEQ_CST);
            if (socket_closed(c->socket)) goto done;
            if (g_realtime) {
                uint64_t v;
                while (read(c->notify, &v, 8) == 8) {}
                pthread_mutex_lock(&g_lock);
                update_readable(c);
                pthread_mutex_unlock(&g_lock);
            }
        }
        pthread_mutex_lock(&g_lock);
        struct uioemu_request *rq = &mb->request;
        struct uioemu_reply *r = &mb->reply;
        memset(r, 0, offsetof(struct uioemu_reply, protection_changes));
        if (g_realtime) {
            g_board_ns = monotonic_since_start();
            advance_to(g_board_ns);
        } else {
            g_board_ns += rq->debt_ns;
        }
        drain_pipes(c);
        int fd_to_send = -1;
        if (getenv("FAKE_EMULATOR_TRACE"))
            fprintf(stderr, "fake_emulator: t=%" PRId64 " op %u a %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " len %u\n", g_board_ns, rq->op,
                    rq->a[0], rq->a[1], rq->a[2], rq->a[3], rq->length);
        r->result = handle_request(c, rq, r, &fd_to_send);
        if (r->result == -EDEADLK) kill(c->pid, SIGKILL); /* uioemu would end the run */
        drain_pipes(c);
        memcpy(r->protection_changes, c->pending, sizeof c->pending);
        r->protection_change_count = c->pending_count;
        c->pending_count = 0;
        if (fd_to_send >= 0) {
            struct uioemu_fd_message m = { (uint32_t)r->result, g_realtime ? UIOEMU_FD_UIO_READINESS : UIOEMU_FD_ATTRIBUTE_WRITER };
            send_packet(c->socket, UIOEMU_MSG_FD, &m, sizeof m, fd_to_send);
            if (rq->op == UIOEMU_OP_OPEN && r->r[0] == UIOEMU_KIND_ATTRIBUTE) close(fd_to_send); /* the pipe writer is the child's */
            r->fd_follows = 1;
        }
        update_readable(c);
        mb->board_time_ns = g_board_ns;
        pthread_mutex_unlock(&g_lock);
        __atomic_store_n(&mb->reply_seq, mb->request_seq, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&mb->child_sleeping, __ATOMIC_SEQ_CST)) futex(&mb->reply_seq, FUTEX_WAKE, 1, NULL);
    }
done:
    close(c->socket);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int listener = *(int *)arg;
    for (int n = 0;; n++) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        struct {
            struct uioemu_msg_header h;
            struct uioemu_hello hello;
        } packet;
        ssize_t got = recv(fd, &packet, sizeof packet, 0);
        if (got != sizeof packet || packet.h.magic != UIOEMU_ATTACH_MAGIC || packet.h.type != UIOEMU_MSG_HELLO) {
            const char *reason = "malformed HELLO";
            send_packet(fd, UIOEMU_MSG_REFUSED, reason, (uint32_t)strlen(reason) + 1, -1);
            close(fd);
            continue;
        }
        struct connection *c = calloc(1, sizeof *c);
        c->socket = fd;
        c->pid = packet.hello.pid;
        size_t mailbox_bytes = (sizeof(struct uioemu_mailbox) + PAGE - 1) / PAGE * PAGE;
        int mfd = memfd_create("uioemu-mailbox", MFD_CLOEXEC);
        if (ftruncate(mfd, (off_t)mailbox_bytes) != 0) abort();
        c->mb = mmap(NULL, mailbox_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        c->mb->magic = UIOEMU_ATTACH_MAGIC;
        c->mb->version = UIOEMU_ATTACH_VERSION;
        c->mb->clock_read_cost_ns = 50;
        c->mb->board_time_ns = g_realtime ? monotonic_since_start() : g_board_ns;
        c->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct uioemu_welcome w = {
            .flags = (g_realtime ? UIOEMU_WELCOME_REALTIME : 0) | (g_noncoherent ? UIOEMU_WELCOME_NONCOHERENT : 0),
            .mailbox_bytes = (uint32_t)mailbox_bytes, .pool_physical_base = POOL_PHYSICAL, .pool_bytes = POOL_BYTES,
            .page_bytes = PAGE,
        };
        struct uioemu_msg_header h = { UIOEMU_ATTACH_MAGIC, UIOEMU_ATTACH_VERSION, UIOEMU_MSG_WELCOME, sizeof w, 0 };
        struct iovec iov[2] = { { &h, sizeof h }, { &w, sizeof w } };
        union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 3)]; } control;
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * 3) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * 3);
        int fds[3] = { mfd, g_pool_fd, c->notify };
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        sendmsg(fd, &msg, MSG_NOSIGNAL);
        close(mfd);
        if (getenv("FAKE_EMULATOR_VERBOSE")) fprintf(stderr, "fake_emulator: connection %d from pid %d (%s)\n", n, c->pid, packet.hello.comm);
        for (int i = 0; i < 32; i++)
            if (g_connections[i] == NULL) {
                g_connections[i] = c;
                break;
            }
        pthread_t thread;
        pthread_create(&thread, NULL, serve, c);
        pthread_detach(thread);
    }
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec t = { 0, 50000 };
        nanosleep(&t, NULL);
        pthread_mutex_lock(&g_lock);
        g_board_ns = monotonic_since_start();
        advance_to(g_board_ns);
        for (int i = 0; i < 32; i++)
            if (g_connections[i]) update_readable(g_connections[i]);
        pthread_mutex_unlock(&g_lock);
    }
    return NULL;
}

static void write_file(const char *relative, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, relative);
    for (char *p = path + strlen(g_root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void build_tree(void)
{
    static const char *names[2] = { "axi-dma-s2mm", "fake-dev" };
    static const char *addrs[2] = { "0x0000000040400000\n", "0x0000000043c00000\n" };
    for (int d = 0; d < 2; d++) {
        char dir[64], rel[128], text[64];
        snprintf(dir, sizeof dir, "sys/class/uio/uio%d", d);
        snprintf(rel, sizeof rel, "%s/name", dir), snprintf(text, sizeof text, "%s\n", names[d]), write_file(rel, text);
        snprintf(rel, sizeof rel, "%s/version", dir), write_file(rel, "devicetree\n");
        snprintf(rel, sizeof rel, "%s/event", dir), write_file(rel, "0\n");
        snprintf(rel, sizeof rel, "%s/maps/map0/name", dir), write_file(rel, "registers\n");
        snprintf(rel, sizeof rel, "%s/maps/map0/addr", dir), write_file(rel, addrs[d]);
        snprintf(rel, sizeof rel, "%s/maps/map0/size", dir), write_file(rel, "0x0000000000010000\n");
        snprintf(rel, sizeof rel, "%s/maps/map0/offset", dir), write_file(rel, "0x0\n");
        snprintf(rel, sizeof rel, "dev/uio%d", d), write_file(rel, "");
    }
    const char *b = "sys/class/u-dma-buf/udmabuf0/";
    char rel[128];
    snprintf(rel, sizeof rel, "%sphys_addr", b), write_file(rel, "0x0000000038000000\n");
    snprintf(rel, sizeof rel, "%ssize", b), write_file(rel, "65536\n");
    snprintf(rel, sizeof rel, "%ssync_mode", b), write_file(rel, "1\n");
    snprintf(rel, sizeof rel, "%ssync_offset", b), write_file(rel, "0x0\n");
    snprintf(rel, sizeof rel, "%ssync_size", b), write_file(rel, "65536\n");
    snprintf(rel, sizeof rel, "%ssync_direction", b), write_file(rel, "0\n");
    snprintf(rel, sizeof rel, "%ssync_owner", b), write_file(rel, "0\n");
    snprintf(rel, sizeof rel, "%ssync_for_cpu", b), write_file(rel, "0\n");
    snprintf(rel, sizeof rel, "%ssync_for_device", b), write_file(rel, "0\n");
    snprintf(rel, sizeof rel, "%sdma_coherent", b), write_file(rel, g_noncoherent ? "0\n" : "1\n");
    write_file("dev/udmabuf0", "");
    write_file("dev/mem", "");
}

int main(int argc, char **argv)
{
    const char *preload = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--realtime") == 0) g_realtime = true;
        else if (strcmp(argv[i], "--noncoherent") == 0) g_noncoherent = true;
        else if (strcmp(argv[i], "--preload") == 0 && i + 1 < argc) preload = argv[++i];
        else {
            fprintf(stderr, "usage: fake_emulator [--realtime] [--noncoherent] [--preload LIB] -- COMMAND [ARGS...]\n");
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "fake_emulator: no command\n");
        return 2;
    }
    char **command = argv + i + 1;
    clock_gettime(CLOCK_MONOTONIC, &g_start);
    char dir[] = "/tmp/uioemu-fake.XXXXXX";
    if (mkdtemp(dir) == NULL) return 2;
    snprintf(g_root, sizeof g_root, "%s/root", dir);
    mkdir(g_root, 0755);
    build_tree();
    dma_reset();
    g_pool_fd = memfd_create("uioemu-dma-pool", MFD_CLOEXEC);
    if (ftruncate(g_pool_fd, POOL_BYTES) != 0) return 2;
    g_pool = mmap(NULL, POOL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, g_pool_fd, 0);

    char socket_path[300];
    snprintf(socket_path, sizeof socket_path, "%s/control.sock", dir);
    int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof address.sun_path) return 2;
    memcpy(address.sun_path, socket_path, strlen(socket_path) + 1);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 16) != 0) {
        perror("fake_emulator: socket");
        return 2;
    }
    pthread_t thread;
    pthread_create(&thread, NULL, accept_loop, &listener);
    if (g_realtime) pthread_create(&thread, NULL, ticker, NULL);

    g_child = fork();
    if (g_child == 0) {
        setenv(UIOEMU_ENV_SOCKET, socket_path, 1);
        setenv(UIOEMU_ENV_ROOT, g_root, 1);
        if (preload != NULL) setenv("LD_PRELOAD", preload, 1);
        execvp(command[0], command);
        fprintf(stderr, "fake_emulator: %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(g_child, &status, 0) < 0 && errno == EINTR) {}
    char cleanup[400];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", dir);
    if (system(cleanup) != 0) { /* best effort */ }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "fake_emulator: the child was killed by signal %d at board time %" PRId64 " ns\n", WTERMSIG(status), g_board_ns);
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}
