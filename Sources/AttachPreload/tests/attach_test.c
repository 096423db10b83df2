/*
 * Runs under tests/fake_emulator with libuioemu-attach.so preloaded and checks the library from the
 * inside: path redirection, register traps of every width and form, readiness with poll/select/
 * epoll, timerfds and clocks in board time, fork, a program's own SIGSEGV handler. Prints TAP-like
 * lines and "N passed, M failed"; exits 1 on any failure.
 *   attach_test            everything (virtual time)
 *   attach_test realtime   the real-time subset (under fake_emulator --realtime)
 *   attach_test noncoherent  a CPU touch of a device-owned buffer (under --noncoherent)
 *   attach_test store16    a 2-byte register store (the emulator must stop the run)
 *   attach_test passthrough  (without the emulator) everything passes through
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int passed, failed; /* volatile: a test longjmps out of a fault */

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (cond) {                                       \
            passed++;                                     \
            if (getenv("ATTACH_TEST_VERBOSE")) printf("ok %d: line %d\n", passed, __LINE__); \
        } else {                                          \
            failed++;                                     \
            printf("not ok: %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                          \
            printf("\n");                                 \
        }                                                 \
    } while (0)

static volatile uint32_t *dev_regs; /* uio1 "fake-dev" map 0 */
static int dev_fd;

static int64_t now_ns(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t wall_ns(void) /* the real clock, bypassing the library */
{
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t board_ns(void) { return (int64_t)dev_regs[0x20 / 4] | ((int64_t)dev_regs[0x24 / 4] << 32); }

static char *read_text(const char *path, char *buffer, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return NULL;
    size_t n = fread(buffer, 1, size - 1, f);
    buffer[n] = 0;
    fclose(f);
    return buffer;
}

static void test_paths(void)
{
    DIR *d = opendir("/sys/class/uio");
    CHECK(d != NULL, "opendir /sys/class/uio: %s", strerror(errno));
    int found = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) found += strcmp(e->d_name, "uio0") == 0 || strcmp(e->d_name, "uio1") == 0;
        closedir(d);
    }
    CHECK(found == 2, "readdir found %d of uio0, uio1", found);

    struct dirent **list;
    int n = scandir("/sys/class/uio", &list, NULL, alphasort);
    CHECK(n == 4 && strcmp(list[2]->d_name, "uio0") == 0, "scandir gave %d entries", n);
    for (int i = 0; i < n; i++) free(list[i]);
    if (n >= 0) free(list);

    glob_t g;
    int rc = glob("/sys/class/uio/uio*/name", 0, NULL, &g);
    CHECK(rc == 0 && g.gl_pathc == 2 && strcmp(g.gl_pathv[0], "/sys/class/uio/uio0/name") == 0, "glob rc %d, first %s", rc,
          rc == 0 ? g.gl_pathv[0] : "-");
    if (rc == 0) globfree(&g);

    char text[256];
    CHECK(read_text("/sys/class/uio/uio1/name", text, sizeof text) && strcmp(text, "fake-dev\n") == 0, "fopen name: %s", text);
    CHECK(read_text("/sys/class/uio/uio0/maps/map0/size", text, sizeof text) && strcmp(text, "0x0000000000010000\n") == 0,
          "map0 size");

    struct stat st;
    CHECK(stat("/dev/uio0", &st) == 0 && S_ISCHR(st.st_mode), "stat /dev/uio0 is a character device");
    CHECK(stat("/sys/class/uio/uio0", &st) == 0 && S_ISDIR(st.st_mode), "stat uio0 directory");
    CHECK(lstat("/sys/class/u-dma-buf/udmabuf0/phys_addr", &st) == 0 && S_ISREG(st.st_mode), "lstat phys_addr");
    CHECK(access("/sys/class/uio/uio0/name", R_OK) == 0, "access name");
    CHECK(access("/sys/class/uio/uio7/name", F_OK) != 0 && errno == ENOENT, "access missing -> ENOENT");
    CHECK(faccessat(AT_FDCWD, "/dev/udmabuf0", F_OK, 0) == 0, "faccessat /dev/udmabuf0");

    char resolved[PATH_MAX];
    CHECK(realpath("/sys/class/uio/../uio//uio1/./name", resolved) && strcmp(resolved, "/sys/class/uio/uio1/name") == 0,
          "realpath: %s", resolved);
    char *canonical = canonicalize_file_name("/sys/class/u-dma-buf/udmabuf0");
    CHECK(canonical && strcmp(canonical, "/sys/class/u-dma-buf/udmabuf0") == 0, "canonicalize_file_name");
    free(canonical);

    int dir = open("/sys/class/uio", O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0, "open directory");
    int fd = openat(dir, "uio1/name", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    CHECK(got == 9 && memcmp(text, "fake-dev\n", 9) == 0, "openat relative to a dirfd");
    if (fd >= 0) close(fd);
    CHECK(fstatat(dir, "uio0/maps", &st, 0) == 0 && S_ISDIR(st.st_mode), "fstatat relative to a dirfd");
    close(dir);

    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = 0;
    CHECK(chdir("/sys/class/u-dma-buf") == 0, "chdir into the tree");
    char here[PATH_MAX];
    CHECK(getcwd(here, sizeof here) && strcmp(here, "/sys/class/u-dma-buf") == 0, "getcwd spelled as /sys: %s", here);
    CHECK(read_text("udmabuf0/phys_addr", text, sizeof text) && strcmp(text, "0x0000000038000000\n") == 0, "relative fopen");
    if (chdir(cwd) != 0) perror("chdir back");

    /* Paths that are not the board's pass through. */
    CHECK(open("/sys/class/uio-not-ours", O_RDONLY) < 0, "a neighbour path is not redirected");
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null untouched");
    CHECK(stat("/proc/self", &st) == 0, "/proc untouched");

    /* Live attributes: event (read through a memfd) and sync_for_device (written through a pipe). */
    CHECK(read_text("/sys/class/uio/uio1/event", text, sizeof text) != NULL, "read event");
    uint32_t syncs = dev_regs[0x18 / 4];
    FILE *f = fopen("/sys/class/u-dma-buf/udmabuf0/sync_for_device", "w");
    CHECK(f != NULL, "fopen sync_for_device for writing");
    if (f) {
        fprintf(f, "1\n");
        fclose(f);
    }
    fd = open("/sys/class/u-dma-buf/udmabuf0/sync_for_device", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "1", 1) == 1, "write sync_for_device");
    if (fd >= 0) close(fd);
    CHECK(dev_regs[0x18 / 4] == syncs + 2, "both sync_for_device writes reached the emulator (%u -> %u)", syncs, dev_regs[0x18 / 4]);
}

static void test_registers(void)
{
    volatile uint32_t *r = dev_regs;
    r[0x40 / 4] = 0x11223344;
    CHECK(r[0x40 / 4] == 0x11223344, "32-bit store then load");
    volatile uint8_t *b = (volatile uint8_t *)r;
    volatile uint16_t *h = (volatile uint16_t *)r;
    CHECK(b[0x40] == 0x44 && b[0x41] == 0x33 && b[0x43] == 0x11, "8-bit loads from the aligned register");
    CHECK(h[0x40 / 2] == 0x3344 && h[0x42 / 2] == 0x1122, "16-bit loads");
    volatile int8_t *sb = (volatile int8_t *)r;
    r[0x44 / 4] = 0x000080ff;
    CHECK(sb[0x44] == -1 && (int)sb[0x45] == -128, "MOVSX byte loads");
    volatile int16_t *sh = (volatile int16_t *)r;
    CHECK(sh[0x44 / 2] == (int16_t)0x80ff, "MOVSX word load");
    volatile int32_t *s32 = (volatile int32_t *)r;
    r[0x48 / 4] = 0x80000000u;
    int64_t wide = s32[0x48 / 4];
    CHECK(wide == INT32_MIN, "MOVSXD");
    volatile uint64_t *q = (volatile uint64_t *)r;
    q[0x50 / 8] = 0x0123456789abcdefull;
    CHECK(r[0x50 / 4] == 0x89abcdef && r[0x54 / 4] == 0x01234567, "64-bit store is two 32-bit stores, low first");
    CHECK(q[0x50 / 8] == 0x0123456789abcdefull, "64-bit load");

    uint64_t out = 0xffffffffffffffffull;
    volatile void *base = r;
    /* forms compilers emit: immediate store, SIB with index, disp8/disp32, REX registers, AH */
    __asm__ volatile("movl $0x5a5a1234, 0x60(%0)" ::"r"(base) : "memory");
    CHECK(r[0x60 / 4] == 0x5a5a1234, "MOV C7 imm32 store");
    __asm__ volatile("movq $-2, 0x68(%0)" ::"r"(base) : "memory");
    CHECK(r[0x68 / 4] == 0xfffffffe && r[0x6c / 4] == 0xffffffff, "MOV REX.W C7 sign-extended imm32");
    __asm__ volatile("movl (%1,%2,4), %k0" : "=r"(out) : "r"(base), "r"((long)(0x60 / 4)) : "memory");
    CHECK(out == 0x5a5a1234, "SIB load zero-extends into 64 bits: %llx", (unsigned long long)out);
    __asm__ volatile("mov $0xffffffffffffffff, %%r11\n\tmovl 0x200(%1), %%r11d\n\tmov %%r11, %0" : "=r"(out) : "r"(base) : "r11", "memory");
    r[0x200 / 4] = 7;
    __asm__ volatile("mov $0xffffffffffffffff, %%r11\n\tmovl 0x200(%1), %%r11d\n\tmov %%r11, %0" : "=r"(out) : "r"(base) : "r11", "memory");
    CHECK(out == 7, "REX.R destination with disp32");
    uint64_t rax = 0x1111111111111111ull;
    __asm__ volatile("movb 0x61(%1), %%ah" : "+a"(rax) : "r"((volatile uint8_t *)base) : "memory");
    CHECK(rax == 0x1111111111111211ull, "AH destination: %llx", (unsigned long long)rax);
    uint64_t partial = 0xaaaaaaaaaaaaaaaaull;
    __asm__ volatile("movw 0x60(%1), %w0" : "+r"(partial) : "r"(base) : "memory");
    CHECK(partial == 0xaaaaaaaaaaaa1234ull, "16-bit destination keeps the upper bits: %llx", (unsigned long long)partial);
    uint32_t swapped = 0;
    r[0x70 / 4] = 0x11223344;
    __asm__ volatile("movbe 0x70(%1), %0" : "=r"(swapped) : "r"(base) : "memory");
    CHECK(swapped == 0x44332211, "MOVBE load: %x", swapped);
    __asm__ volatile("movbe %1, 0x74(%0)" ::"r"(base), "r"(0xaabbccddu) : "memory");
    CHECK(r[0x74 / 4] == 0xddccbbaa, "MOVBE store");
    uint32_t eax_value;
    __asm__ volatile("movl 0x70(%1), %%eax" : "=a"(eax_value) : "r"(base) : "memory");
    CHECK(eax_value == 0x11223344, "load into EAX");
    __asm__ volatile("movl %%eax, 0x78(%0)" ::"r"(base), "a"(0xcafef00du) : "memory");
    CHECK(r[0x78 / 4] == 0xcafef00d, "store from EAX");

    /* loads folded into an operation (clang -O2 emits `testl $imm, mem` for volatile tests) */
    r[0x7c / 4] = 0x104;
    unsigned char nonzero = 0, equal = 0;
    __asm__ volatile("testl $4, 0x7c(%1)\n\tsetnz %0" : "=r"(nonzero) : "r"(base) : "cc", "memory");
    CHECK(nonzero == 1, "TEST mem, imm sets the flags from the register");
    __asm__ volatile("cmpl $0x104, 0x7c(%1)\n\tsete %0" : "=r"(equal) : "r"(base) : "cc", "memory");
    CHECK(equal == 1, "CMP mem, imm");
    uint32_t masked = 0xff;
    __asm__ volatile("andl 0x7c(%1), %0" : "+r"(masked) : "r"(base) : "cc", "memory");
    CHECK(masked == 0x04, "AND reg, mem writes the register (%x)", masked);

    /* read-modify-write with a memory destination (clang -O2 for volatile |=): one read, one write */
    r[0x7c / 4] = 0x100;
    __asm__ volatile("orl $4, 0x7c(%0)" ::"r"(base) : "cc", "memory");
    __asm__ volatile("incl 0x7c(%0)" ::"r"(base) : "cc", "memory");
    CHECK(r[0x7c / 4] == 0x105, "OR mem, imm and INC mem (%x)", r[0x7c / 4]);
    unsigned char zero = 0;
    __asm__ volatile("andl $0x10, 0x7c(%1)\n\tsetz %0" : "=r"(zero) : "r"(base) : "cc", "memory");
    CHECK(zero == 1 && r[0x7c / 4] == 0, "AND mem, imm sets ZF");

    /* mmap with a wrong size or offset gets the kernel's EINVAL */
    void *bad = mmap(NULL, 0x20000, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
    CHECK(bad == MAP_FAILED && errno == EINVAL, "mmap too long: EINVAL");
    bad = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 4096);
    CHECK(bad == MAP_FAILED && errno == EINVAL, "mmap of map 1: EINVAL");
}

static void test_uio_semantics(void)
{
    uint32_t count = 0;
    int fd = open("/dev/uio1", O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0, "open /dev/uio1 non-blocking");
    CHECK(read(fd, &count, 4) < 0 && errno == EAGAIN, "non-blocking read with no interrupt: EAGAIN");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "fstat of a UIO fd: character device");
    int flags = fcntl(fd, F_GETFL);
    CHECK(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0, "F_SETFL clears O_NONBLOCK");
    int64_t t0 = board_ns();
    dev_regs[0x10 / 4] = 5000; /* an interrupt 5 us later */
    CHECK(read(fd, &count, 4) == 4 && count >= 1, "blocking read returns the count");
    CHECK(board_ns() - t0 >= 5000, "the read waited in board time (%lld ns)", (long long)(board_ns() - t0));
    CHECK(read(fd, &count, 3) < 0 && errno == EINVAL, "a 3-byte read: EINVAL");
    uint32_t one = 1;
    CHECK(write(fd, &one, 4) == 4, "write 1 unmasks");

    /* dup keeps it a board fd; closing one copy keeps the other */
    int copy = dup(fd);
    int copy2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    close(fd);
    int nb = 1;
    CHECK(ioctl(copy, FIONBIO, &nb) == 0, "FIONBIO");
    CHECK(read(copy, &count, 4) < 0 && errno == EAGAIN, "the dup is still the UIO file (non-blocking via FIONBIO)");
    CHECK(copy2 >= 100 && read(copy2, &count, 4) < 0 && errno == EAGAIN, "F_DUPFD_CLOEXEC copy");
    int target = dup2(copy, 50);
    CHECK(target == 50 && read(50, &count, 4) < 0 && errno == EAGAIN, "dup2 copy");
    close(copy);
    close(copy2);

    /* poll: readable exactly when readable[] says so */
    struct pollfd p = { 50, POLLIN, 0 };
    CHECK(poll(&p, 1, 0) == 0, "poll with timeout 0: not readable");
    dev_regs[0x10 / 4] = 1000;
    t0 = board_ns();
    CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll wakes on the interrupt");
    CHECK(board_ns() - t0 >= 1000 && board_ns() - t0 < 1000000, "in board time (%lld ns)", (long long)(board_ns() - t0));
    CHECK(poll(&p, 1, 0) == 1, "still readable until read");
    CHECK(read(50, &count, 4) == 4, "read it");
    t0 = board_ns();
    CHECK(poll(&p, 1, 7) == 0, "poll times out");
    CHECK(board_ns() - t0 >= 7000000, "after 7 ms of board time");

    /* select */
    fd_set set;
    FD_ZERO(&set);
    FD_SET(50, &set);
    struct timeval tv = { 0, 0 };
    CHECK(select(51, &set, NULL, NULL, &tv) == 0, "select timeout 0: nothing");
    dev_regs[0x10 / 4] = 3000;
    FD_SET(50, &set);
    CHECK(select(51, &set, NULL, NULL, NULL) == 1 && FD_ISSET(50, &set), "select wakes on the interrupt");
    CHECK(read(50, &count, 4) == 4, "read it");

    /* epoll with a UIO fd, a timerfd (virtual time) and a real pipe */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int pipefd[2];
    CHECK(pipe(pipefd) == 0, "pipe");
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 50, &ev) == 0, "epoll_ctl ADD uio");
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    ev.data.u32 = 2;
    CHECK(tfd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) == 0, "epoll_ctl ADD timerfd");
    ev.data.u32 = 3;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev) == 0, "epoll_ctl ADD pipe");
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "epoll nothing ready");
    struct itimerspec its = { { 0, 0 }, { 0, 2000000 } };
    int64_t m0 = now_ns(CLOCK_MONOTONIC);
    CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0, "timerfd_settime 2 ms");
    int64_t w0 = wall_ns();
    int n = epoll_wait(ep, out, 4, -1);
    CHECK(n == 1 && out[0].data.u32 == 2, "epoll_wait(-1) returns the timerfd (n=%d)", n);
    int64_t m1 = now_ns(CLOCK_MONOTONIC);
    CHECK(m1 - m0 >= 2000000 && m1 - m0 < 2100000, "the timer fired at 2 ms of board time (%lld)", (long long)(m1 - m0));
    CHECK(wall_ns() - w0 < 1000000000, "without waiting 2 ms of wall time for real");
    uint64_t expirations = 0;
    CHECK(read(tfd, &expirations, 8) == 8 && expirations == 1, "timerfd read: 1 expiration");
    CHECK(read(tfd, &expirations, 8) < 0 && errno == EAGAIN, "then EAGAIN");
    dev_regs[0x10 / 4] = 100;
    n = epoll_wait(ep, out, 4, 1000);
    CHECK(n == 1 && out[0].data.u32 == 1, "epoll_wait returns the UIO fd");
    CHECK(read(50, &count, 4) == 4, "read it");
    CHECK(write(pipefd[1], "x", 1) == 1, "pipe write");
    n = epoll_wait(ep, out, 4, 1000);
    CHECK(n == 1 && out[0].data.u32 == 3, "epoll_wait returns the real pipe");
    /* periodic timer, blocking read */
    int tfd2 = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec periodic = { { 0, 1000000 }, { 0, 1000000 } };
    timerfd_settime(tfd2, 0, &periodic, NULL);
    CHECK(read(tfd2, &expirations, 8) == 8 && expirations == 1, "blocking timerfd read");
    struct timespec ts = { 0, 3500000 };
    nanosleep(&ts, NULL);
    CHECK(read(tfd2, &expirations, 8) == 8 && expirations == 3, "3 periods later: 3 expirations (%llu)", (unsigned long long)expirations);
    struct itimerspec left;
    CHECK(timerfd_gettime(tfd2, &left) == 0 && left.it_value.tv_nsec > 0 && left.it_value.tv_nsec <= 1000000, "timerfd_gettime");
    close(tfd2);
    close(tfd);
    close(ep);
    close(pipefd[0]);
    close(pipefd[1]);
    close(50);
}

static void test_time(void)
{
    int64_t m0 = now_ns(CLOCK_MONOTONIC);
    int64_t w0 = wall_ns();
    struct timespec ts = { 0, 10000000 };
    CHECK(nanosleep(&ts, NULL) == 0, "nanosleep");
    int64_t m1 = now_ns(CLOCK_MONOTONIC);
    CHECK(m1 - m0 >= 10000000 && m1 - m0 < 10010000, "10 ms of board time (%lld)", (long long)(m1 - m0));
    usleep(1000);
    CHECK(now_ns(CLOCK_MONOTONIC) - m1 >= 1000000, "usleep");
    sleep(2);
    CHECK(now_ns(CLOCK_BOOTTIME) - m1 >= 2001000000, "sleep(2) in board time");
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 1;
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) == 0, "clock_nanosleep TIMER_ABSTIME");
    CHECK(now_ns(CLOCK_MONOTONIC) >= (int64_t)abs.tv_sec * 1000000000 + abs.tv_nsec, "woke at the absolute time");
    CHECK(wall_ns() - w0 < 1000000000, "3 s of board sleeps took less than 1 s of wall time");
    int64_t real = now_ns(CLOCK_REALTIME);
    CHECK(real / 1000000000 >= 1767225600 && real / 1000000000 < 1767225600 + 60, "REALTIME is the fixed epoch plus board time");
    CHECK(time(NULL) == real / 1000000000, "time()");
    /* a loop spinning on the clock sees time pass and ends */
    int64_t start = now_ns(CLOCK_MONOTONIC);
    long spins = 0;
    while (now_ns(CLOCK_MONOTONIC) < start + 100000) spins++;
    CHECK(spins > 0 && spins < 100000, "a clock-spinning loop ends (%ld reads)", spins);
    int64_t b0 = board_ns();
    CHECK(b0 >= start + 100000, "the clock-read debt reached the emulator");
    /* CPU-time clocks pass through */
    struct timespec cpu;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 && (cpu.tv_sec > 0 || cpu.tv_nsec > 0), "CPU clock passes through");
}

static sigjmp_buf g_jump;
static volatile int g_handler_calls;
static void own_handler(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)info, (void)context;
    g_handler_calls++;
    siglongjmp(g_jump, 1);
}

static void test_own_segv_handler(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = own_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL, "the program sees SIG_DFL at first (Rust checks this)");
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "install own handler");
    volatile char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sigsetjmp(g_jump, 1) == 0) {
        page[10] = 1;
        CHECK(0, "no fault?");
    }
    CHECK(g_handler_calls == 1, "the program's own handler got its own fault");
    dev_regs[0x40 / 4] = 99;
    CHECK(dev_regs[0x40 / 4] == 99 && g_handler_calls == 1, "register traps still work and do not reach it");
    CHECK(sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_sigaction == own_handler, "sigaction reports the program's handler");
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = 0;
    sigaction(SIGSEGV, &sa, NULL);
    /* a fault with no handler of the program's: the default action (the process dies) */
    pid_t child = fork();
    if (child == 0) {
        page[0] = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "an unhandled fault kills with SIGSEGV (status %x)", status);
    munmap((void *)page, 4096);
}

static void test_fork(void)
{
    dev_regs[0x80 / 4] = 0xabcdef01;
    pid_t child = fork();
    if (child == 0) {
        /* the inherited board fd belongs to the parent's connection */
        uint32_t count;
        int stale = read(dev_fd, &count, 4) < 0 && errno == EIO;
        int fd = open("/dev/uio1", O_RDWR);
        volatile uint32_t *r = fd >= 0 ? mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
        int ok = r != MAP_FAILED && r[0x80 / 4] == 0xabcdef01;
        struct timespec ts = { 0, 1000 };
        nanosleep(&ts, NULL);
        _exit(ok && stale ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child reconnects, maps and reads (status %x)", status);
    CHECK(dev_regs[0x80 / 4] == 0xabcdef01, "the parent still works after the fork");
}

static void test_udmabuf(void)
{
    int fd = open("/dev/udmabuf0", O_RDWR | O_SYNC);
    CHECK(fd >= 0, "open /dev/udmabuf0");
    volatile uint32_t *buffer = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(buffer != MAP_FAILED, "mmap the buffer");
    if (buffer == MAP_FAILED) return;
    buffer[0] = 0x600dcafe;
    CHECK(dev_regs[0x1C / 4] == 0x600dcafe, "the emulator sees the same pages (no copy)");
    void *bad = mmap(NULL, 65536 * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(bad == MAP_FAILED && errno == EINVAL, "mmap larger than the buffer: EINVAL");
    uint32_t word = 0;
    CHECK(pread(fd, &word, 4, 0) == 4 && word == 0x600dcafe, "pread of the buffer file");
    munmap((void *)buffer, 65536);
    close(fd);

    dev_regs[0x80 / 4] = 0xabcdef01;
    int mem = open("/dev/mem", O_RDWR | O_SYNC);
    volatile uint32_t *regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0x43c00000);
    CHECK(regs != MAP_FAILED && regs[0x80 / 4] == 0xabcdef01, "/dev/mem maps the registers at their physical address");
    volatile uint32_t *pool = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0x38000000);
    CHECK(pool != MAP_FAILED && pool[0] == 0x600dcafe, "/dev/mem maps the pool");
    void *nothing = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mem, 0x10000000);
    CHECK(nothing == MAP_FAILED && errno == EINVAL, "/dev/mem outside every window: error");
    close(mem);
}

static void test_noncoherent(void)
{
    int fd = open("/dev/udmabuf0", O_RDWR);
    volatile uint32_t *buffer = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    buffer[1] = 5;
    int sync = open("/sys/class/u-dma-buf/udmabuf0/sync_for_device", O_WRONLY);
    CHECK(write(sync, "1", 1) == 1, "sync_for_device");
    close(sync);
    uint32_t before = dev_regs[0x14 / 4]; /* a request: the emulator drained the pipe and protected the buffer */
    uint32_t value = buffer[1];           /* a touch of a device-owned buffer */
    CHECK(value == 5, "the touch completed after the emulator saw it");
    CHECK(dev_regs[0x14 / 4] == before + 1, "one CPU touch reported (%u -> %u)", before, dev_regs[0x14 / 4]);
    value = buffer[2];
    CHECK(dev_regs[0x14 / 4] == before + 1, "the page is accessible again: no second report");
}

static void test_realtime(void)
{
    int fd = open("/dev/uio1", O_RDWR);
    CHECK(fd >= 0, "open in real time");
    uint32_t count = 0;
    int64_t w0 = wall_ns();
    dev_regs[0x10 / 4] = 2000000; /* 2 ms of real time */
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 1000) == 1, "native poll on the readiness eventfd");
    CHECK(read(fd, &count, 4) == 4 && count == 1, "read the count (%u)", count);
    CHECK(wall_ns() - w0 >= 1500000, "took real time");
    dev_regs[0x10 / 4] = 1000000;
    CHECK(read(fd, &count, 4) == 4 && count == 2, "blocking read waits natively (%u)", count);
    CHECK(poll(&p, 1, 0) == 0, "not readable after the read");
    close(fd);
}

static void open_device(void)
{
    dev_fd = open("/dev/uio1", O_RDWR | O_CLOEXEC);
    if (dev_fd < 0) {
        perror("open /dev/uio1");
        exit(1);
    }
    dev_regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
    if (dev_regs == MAP_FAILED) {
        perror("mmap /dev/uio1");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "all";
    if (strcmp(mode, "passthrough") == 0) {
        int fd = open("/dev/null", O_RDONLY);
        CHECK(fd >= 0, "open passes through");
        struct stat st;
        CHECK(stat("/sys/class/uio/uio0/name", &st) != 0 || 1, "stat passes through");
        CHECK(now_ns(CLOCK_REALTIME) / 1000000000 > 1767225600 - 86400 * 365 * 10, "the real clock");
        int64_t w0 = wall_ns();
        usleep(2000);
        CHECK(wall_ns() - w0 >= 2000000, "a real sleep");
    } else {
        open_device();
        if (strcmp(mode, "all") == 0) {
            test_paths();
            test_registers();
            test_uio_semantics();
            test_time();
            test_udmabuf();
            test_fork();
            test_own_segv_handler();
        } else if (strcmp(mode, "realtime") == 0) {
            test_paths();
            test_registers();
            test_realtime();
        } else if (strcmp(mode, "noncoherent") == 0) {
            test_noncoherent();
        } else if (strcmp(mode, "store16") == 0) {
            *(volatile uint16_t *)dev_regs = 1;
            printf("the 2-byte store returned\n");
            return 1;
        } else {
            fprintf(stderr, "unknown mode %s\n", mode);
            return 2;
        }
    }
    printf("attach_test %s: %d passed, %d failed\n", mode, passed, failed);
    return failed ? 1 : 0;
}
