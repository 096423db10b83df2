#define _GNU_SOURCE  // REG_RAX and REG_RIP in ucontext_t (the trapped-load floor)
#include "floors.h"
#include "stream_kernels.h"

#include <sys/types.h>
#include <sys/time.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct event_base *precise_base(void) {
    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

// ---- eventfd ping-pong -------------------------------------------------------------------------

struct pingpong {
    int fd[2];
    long remaining;
    struct event_base *base;
};

static void pingpong_cb(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    struct pingpong *p = arg;
    uint64_t v;
    if (read(fd, &v, 8) != 8) return;
    int other = fd == p->fd[0] ? p->fd[1] : p->fd[0];
    if (fd == p->fd[1]) {
        // The round trip closes when side 1 answers; count it there.
        if (--p->remaining <= 0) { event_base_loopbreak(p->base); return; }
    }
    uint64_t one = 1;
    if (write(other, &one, 8) != 8) event_base_loopbreak(p->base);
}

double floor_eventfd_pingpong_ns(long iterations) {
    struct pingpong p;
    p.fd[0] = eventfd(0, EFD_NONBLOCK);
    p.fd[1] = eventfd(0, EFD_NONBLOCK);
    p.base = precise_base();
    if (p.fd[0] < 0 || p.fd[1] < 0 || !p.base) return -1;
    struct event *e0 = event_new(p.base, p.fd[0], EV_READ | EV_PERSIST, pingpong_cb, &p);
    struct event *e1 = event_new(p.base, p.fd[1], EV_READ | EV_PERSIST, pingpong_cb, &p);
    event_add(e0, NULL);
    event_add(e1, NULL);
    uint64_t one = 1;
    p.remaining = iterations / 10 + 1;  // warm-up
    if (write(p.fd[0], &one, 8) != 8) return -1;
    event_base_dispatch(p.base);
    p.remaining = iterations;
    double t0 = now_ns();
    if (write(p.fd[0], &one, 8) != 8) return -1;
    event_base_dispatch(p.base);
    double t1 = now_ns();
    event_free(e0);
    event_free(e1);
    event_base_free(p.base);
    close(p.fd[0]);
    close(p.fd[1]);
    return (t1 - t0) / (double)iterations;
}

// ---- event_active self re-post -----------------------------------------------------------------

struct repost {
    struct event *ev;
    long remaining;
};

static void repost_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct repost *r = arg;
    if (--r->remaining > 0) event_active(r->ev, 0, 0);
}

double floor_event_active_ns(long iterations) {
    struct event_base *base = precise_base();
    if (!base) return -1;
    struct repost r;
    r.ev = event_new(base, -1, 0, repost_cb, &r);
    r.remaining = iterations / 10 + 1;
    event_active(r.ev, 0, 0);
    event_base_dispatch(base);
    r.remaining = iterations;
    double t0 = now_ns();
    event_active(r.ev, 0, 0);
    event_base_dispatch(base);
    double t1 = now_ns();
    event_free(r.ev);
    event_base_free(base);
    return (t1 - t0) / (double)iterations;
}

// ---- zero-delay timer --------------------------------------------------------------------------

static void timer_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct repost *r = arg;
    if (--r->remaining > 0) {
        struct timeval zero = {0, 0};
        event_add(r->ev, &zero);
    }
}

double floor_zero_timer_ns(long iterations) {
    struct event_base *base = precise_base();
    if (!base) return -1;
    struct repost r;
    r.ev = event_new(base, -1, 0, timer_cb, &r);
    struct timeval zero = {0, 0};
    r.remaining = iterations / 10 + 1;
    event_add(r.ev, &zero);
    event_base_dispatch(base);
    r.remaining = iterations;
    double t0 = now_ns();
    event_add(r.ev, &zero);
    event_base_dispatch(base);
    double t1 = now_ns();
    event_free(r.ev);
    event_base_free(base);
    return (t1 - t0) / (double)iterations;
}

// ---- memcpy ------------------------------------------------------------------------------------

double floor_memcpy_ns(size_t bytes, long iterations) {
    void *src = NULL, *dst = NULL;
    if (posix_memalign(&src, 4096, bytes) != 0 || posix_memalign(&dst, 4096, bytes) != 0) return -1;
    memset(src, 0xA5, bytes);
    memset(dst, 0, bytes);
    for (long i = 0; i < iterations / 10 + 1; i++) memcpy(dst, src, bytes);
    double t0 = now_ns();
    for (long i = 0; i < iterations; i++) {
        memcpy(dst, src, bytes);
        // Keep the copy from being hoisted or elided.
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    double t1 = now_ns();
    free(src);
    free(dst);
    return (t1 - t0) / (double)iterations;
}

// ---- the fleet's memory traffic alone -----------------------------------------------------------

double floor_ring_stream_ns(int channels, int ring, size_t bytes, long rounds) {
    size_t words = bytes / 4, total = (size_t)channels * (size_t)ring * bytes;
    unsigned char *pool = NULL;
    if (channels < 1 || ring < 1 || words == 0 || posix_memalign((void **)&pool, 4096, total) != 0) return -1;
    memset(pool, 0, total);
    uint32_t *start = calloc((size_t)channels, sizeof(uint32_t));
    if (start == NULL) { free(pool); return -1; }
    uint32_t difference = 0;
    long warm = rounds / 10 + ring;
    double t0 = 0;
    for (long r = 0; r < warm + rounds; r++) {  // bounded: warm-up + rounds
        if (r == warm) t0 = now_ns();
        size_t slot = (size_t)(r % ring);
        // As the fleet runs: every channel's transfer completes at the same instant (one reactor
        // turn fills them all), then each interrupt is handled and its buffer verified.
        for (int c = 0; c < channels; c++) {  // bounded: channels
            uioemu_fill_counter(pool + ((size_t)c * (size_t)ring + slot) * bytes, words, start[c]);
        }
        for (int c = 0; c < channels; c++) {  // bounded: channels
            difference |= uioemu_counter_difference(pool + ((size_t)c * (size_t)ring + slot) * bytes, words, start[c]);
            start[c] += (uint32_t)words;
        }
    }
    double t1 = now_ns();
    free(start);
    free(pool);
    // Every buffer must have verified: a floor that skipped its checks would not be one.
    if (difference != 0) return -1;
    return (t1 - t0) / ((double)rounds * (double)channels);
}

// ---- a file written through the page cache -----------------------------------------------------

double floor_file_write_ns(const char *path, size_t bytes, size_t block) {
    if (block == 0) return -1;
    char *buffer = malloc(block);
    if (buffer == NULL) return -1;
    for (size_t i = 0; i < block; i++) buffer[i] = (i % 96 == 95) ? '\n' : (char)('a' + i % 26);  // bounded: block
    double t0 = now_ns();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { free(buffer); return -1; }
    size_t done = 0;
    while (done < bytes) {  // bounded: each turn writes at least a byte or fails
        size_t want = bytes - done < block ? bytes - done : block;
        ssize_t n = write(fd, buffer, want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { close(fd); free(buffer); return -1; }
        done += (size_t)n;
    }
    int closed = close(fd);
    double t1 = now_ns();
    free(buffer);
    return closed == 0 ? t1 - t0 : -1;
}

// ---- eventfd wake-up latency -------------------------------------------------------------------

struct latency {
    int fd;
    long remaining;
    long interval_us;
    double *samples;
    long taken;
    double written_at;
    struct event *timer;
    struct event_base *base;
};

static void latency_timer_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    struct latency *l = arg;
    uint64_t one = 1;
    l->written_at = now_ns();
    if (write(l->fd, &one, 8) != 8) event_base_loopbreak(l->base);
}

static void latency_read_cb(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    struct latency *l = arg;
    uint64_t v;
    if (read(fd, &v, 8) != 8) return;
    l->samples[l->taken++] = now_ns() - l->written_at;
    if (--l->remaining <= 0) { event_base_loopbreak(l->base); return; }
    struct timeval tv = {0, l->interval_us};
    event_add(l->timer, &tv);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int floor_eventfd_latency(long samples, long interval_us, double *p50, double *p99, double *p999) {
    struct latency l;
    memset(&l, 0, sizeof l);
    l.fd = eventfd(0, EFD_NONBLOCK);
    l.base = precise_base();
    l.samples = calloc((size_t)samples, sizeof(double));
    if (l.fd < 0 || !l.base || !l.samples) return -1;
    l.remaining = samples;
    l.interval_us = interval_us;
    struct event *watch = event_new(l.base, l.fd, EV_READ | EV_PERSIST, latency_read_cb, &l);
    l.timer = event_new(l.base, -1, 0, latency_timer_cb, &l);
    event_add(watch, NULL);
    struct timeval tv = {0, interval_us};
    event_add(l.timer, &tv);
    event_base_dispatch(l.base);
    qsort(l.samples, (size_t)l.taken, sizeof(double), compare_doubles);
    *p50 = l.samples[(l.taken * 50) / 100];
    *p99 = l.samples[(l.taken * 99) / 100];
    *p999 = l.samples[(l.taken * 999) / 1000];
    event_free(watch);
    event_free(l.timer);
    event_base_free(l.base);
    close(l.fd);
    free(l.samples);
    return 0;
}

// ---- cross-process round trips (the attach transport's floors) -------------------------------

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

double floor_unix_socket_round_trip_ns(long iterations) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) return -1;
    long warm = iterations / 10 + 1;
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        char request[64];
        uint64_t reply = 0;
        close(sv[0]);
        for (long i = 0; i < iterations + warm; i++) {
            if (read(sv[1], request, sizeof request) <= 0) break;
            reply++;
            if (write(sv[1], &reply, sizeof reply) != sizeof reply) break;
        }
        _exit(0);
    }
    close(sv[1]);
    char request[64] = {0};
    uint64_t reply;
    double start = 0;
    for (long i = 0; i < iterations + warm; i++) {
        if (i == warm) start = now_ns();
        if (write(sv[0], request, sizeof request) != sizeof request || read(sv[0], &reply, sizeof reply) != sizeof reply) {
            close(sv[0]);
            waitpid(child, NULL, 0);
            return -1;
        }
    }
    double elapsed = now_ns() - start;
    close(sv[0]);
    waitpid(child, NULL, 0);
    return elapsed / (double)iterations;
}

struct futex_page {
    uint32_t request;
    uint32_t reply;
    uint32_t server_sleeping;
    uint32_t client_sleeping;
};

static void futex_wait_word(uint32_t *word, uint32_t expected) {
    syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake_word(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }

static int spin_limit = 20000;

/// Waits until *word != old: spins, then sleeps on the futex with `sleeping` raised.
static void await_change(uint32_t *word, uint32_t old, uint32_t *sleeping) {
    for (int spin = 0; spin < spin_limit; spin++) {
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != old) return;
    }
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == old) {
        __atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == old) futex_wait_word(word, old);
        __atomic_store_n(sleeping, 0, __ATOMIC_SEQ_CST);
    }
}

static void publish(uint32_t *word, uint32_t value, uint32_t *sleeping) {
    __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(sleeping, __ATOMIC_SEQ_CST)) futex_wake_word(word);
}

double floor_shared_futex_round_trip_spin_ns(long iterations, int spin) {
    int saved = spin_limit;
    spin_limit = spin;
    double result = floor_shared_futex_round_trip_ns(iterations);
    spin_limit = saved;
    return result;
}

double floor_shared_futex_round_trip_ns(long iterations) {
    struct futex_page *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return -1;
    memset(page, 0, sizeof *page);
    long warm = iterations / 10 + 1;
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        for (uint32_t seq = 1; seq <= (uint32_t)(iterations + warm); seq++) {
            await_change(&page->request, seq - 1, &page->server_sleeping);
            publish(&page->reply, seq, &page->client_sleeping);
        }
        _exit(0);
    }
    double start = 0;
    for (uint32_t seq = 1; seq <= (uint32_t)(iterations + warm); seq++) {
        if (seq == (uint32_t)warm + 1) start = now_ns();
        publish(&page->request, seq, &page->server_sleeping);
        await_change(&page->reply, seq - 1, &page->client_sleeping);
    }
    double elapsed = now_ns() - start;
    waitpid(child, NULL, 0);
    munmap(page, 4096);
    return elapsed / (double)iterations;
}

// ---- one trapped load (the attach register trap's floor) --------------------------------------

#if defined(__x86_64__)
#include <signal.h>
#include <ucontext.h>

/// The value every trapped load reads.
#define TRAPPED_VALUE 0x10002u

/// Completes the one instruction the floor traps, `mov (%rdi), %eax` (8b 07, two bytes): the
/// loaded register gets the value and the program counter moves past it. No decoding: the
/// floor is the kernel's delivery and sigreturn, which any trap-per-access design pays.
static void trapped_load_handler(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)info;
    ucontext_t *uc = context;
    uc->uc_mcontext.gregs[REG_RAX] = TRAPPED_VALUE;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static inline uint32_t trapped_load(const volatile uint32_t *address) {
    uint32_t value;
    __asm__ volatile(".byte 0x8b, 0x07" : "=a"(value) : "D"(address) : "memory");
    return value;
}

double floor_trapped_load_ns(long iterations) {
    void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return -1;
    struct sigaction action, saved;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = trapped_load_handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &saved) != 0) {
        munmap(page, 4096);
        return -1;
    }
    long warm = iterations / 10 + 1;
    uint32_t sum = 0;
    double start = 0;
    for (long i = 0; i < iterations + warm; i++) {  // bounded: iterations + warm
        if (i == warm) start = now_ns();
        sum += trapped_load(page);
    }
    double elapsed = now_ns() - start;
    sigaction(SIGSEGV, &saved, NULL);
    munmap(page, 4096);
    if (sum != (uint32_t)((uint64_t)TRAPPED_VALUE * (uint64_t)(iterations + warm))) return -1;
    return elapsed / (double)iterations;
}
#else
double floor_trapped_load_ns(long iterations) {
    (void)iterations;
    return -1;
}
#endif
