/*
 * The transport: the constructor, the handshake on the control socket (HELLO / WELCOME with the
 * mailbox memfd, the DMA pool memfd and the notify eventfd), requests through the shared mailbox
 * (spin briefly, then a shared futex with a liveness timeout), fds that follow a reply, and fork
 * (the child drops the inherited connection and reconnects at its next board operation).
 *
 * Everything on the request path is async-signal-safe: the fault handler makes requests too.
 */
#include "preload.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <fcntl.h>
#include <poll.h>

struct attach_state g_attach = { .socket_fd = -1, .pool_fd = -1, .notify_fd = -1 };

/* Spins on reply_seq this many times before sleeping on the futex (a round trip is ~10 us). */
#define SPIN_ITERATIONS 400

static uint32_t g_lock;          /* the mailbox lock: 0 free, 1 held, 2 held with waiters */
static int g_lock_owner;         /* tid holding it (a handler on the same thread must not deadlock) */
static int64_t g_debt_ns;        /* virtual time: clock reads since the last request */
static int g_board_tid;          /* virtual time: the first thread that touched the board */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void attach_say(const char *a, const char *b, const char *c)
{
    const char *parts[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        if (parts[i] == NULL) continue;
        size_t n = strlen(parts[i]);
        while (n > 0) {
            long w = RAW3(SYS_write, 2, parts[i], n);
            if (w <= 0) break;
            parts[i] += w;
            n -= (size_t)w;
        }
    }
}

void attach_fatal(const char *message)
{
    attach_say("uioemu attach: ", message, "\n");
    RAW1(SYS_exit_group, 70);
    __builtin_unreachable();
}

/* The calling thread's id and the process's id, cached: the fault handler asks on every register
   access. Initial-exec TLS (the library is loaded at start-up) is async-signal-safe; a forked child
   forgets both (after_fork_in_child). */
static __thread int t_tid __attribute__((tls_model("initial-exec")));
static int g_pid;

int attach_tid(void)
{
    if (__builtin_expect(t_tid == 0, 0)) t_tid = (int)RAW0(SYS_gettid);
    return t_tid;
}

int attach_pid(void)
{
    if (__builtin_expect(g_pid == 0, 0)) g_pid = (int)RAW0(SYS_getpid);
    return g_pid;
}

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return RAW6(SYS_futex, word, op, value, timeout, 0, 0);
}

/* ---- the mailbox lock (futex based, usable from the fault handler) ---- */

void attach_lock(void)
{
    int tid = attach_tid();
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&g_lock, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        g_lock_owner = tid;
        return;
    }
    if (__atomic_load_n(&g_lock_owner, __ATOMIC_RELAXED) == tid)
        attach_fatal("a board access from a signal handler interrupted a board request of the same thread");
    while (__atomic_exchange_n(&g_lock, 2, __ATOMIC_ACQUIRE) != 0)
        futex(&g_lock, FUTEX_WAIT_PRIVATE, 2, NULL);
    g_lock_owner = tid;
}

void attach_unlock(void)
{
    g_lock_owner = 0;
    if (__atomic_exchange_n(&g_lock, 0, __ATOMIC_RELEASE) == 2)
        futex(&g_lock, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* ---- the control socket ---- */

static void socket_send(int fd, uint16_t type, const void *body, uint32_t length)
{
    struct uioemu_msg_header header = {
        .magic = UIOEMU_ATTACH_MAGIC, .version = UIOEMU_ATTACH_VERSION, .type = type, .length = length,
    };
    struct iovec iov[2] = { { &header, sizeof header }, { (void *)body, length } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    long n = RAW3(SYS_sendmsg, fd, &msg, MSG_NOSIGNAL);
    if (n != (long)(sizeof header + length)) attach_fatal("cannot send HELLO on the control socket");
}

/* Receives one packet: returns the body length (the header checked), or -1 at EOF. Up to `max_fds`
   descriptors go to fds[] (count in *fd_count). */
static long socket_receive(int fd, uint16_t *type, void *body, size_t body_size, int *fds, int max_fds, int *fd_count)
{
    struct {
        struct uioemu_msg_header header;
        uint8_t body[4096];
    } packet;
    union {
        struct cmsghdr align;
        char buffer[CMSG_SPACE(sizeof(int) * 8)];
    } control;
    struct iovec iov = { &packet, sizeof packet };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                          .msg_controllen = sizeof control.buffer };
    long n;
    do n = RAW3(SYS_recvmsg, fd, &msg, MSG_CMSG_CLOEXEC);
    while (n == -EINTR);
    *fd_count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        const int *received = (const int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*fd_count < max_fds) fds[(*fd_count)++] = received[i];
            else RAW1(SYS_close, received[i]);
        }
    }
    if (n == 0) return -1;
    if (n < 0) attach_fatal("cannot receive on the control socket");
    if ((size_t)n < sizeof packet.header) attach_fatal("a truncated message on the control socket (shorter than its header)");
    if (packet.header.magic != UIOEMU_ATTACH_MAGIC) attach_fatal("a message with a wrong magic on the control socket");
    if (packet.header.version != UIOEMU_ATTACH_VERSION)
        attach_fatal("the emulator speaks another attach protocol version (rebuild libuioemu-attach.so with uioemu)");
    if (packet.header.length != (size_t)n - sizeof packet.header)
        attach_fatal("a message whose length field does not match its size on the control socket");
    *type = packet.header.type;
    if (packet.header.type == UIOEMU_MSG_REFUSED) {
        packet.body[packet.header.length < sizeof packet.body ? packet.header.length : sizeof packet.body - 1] = 0;
        attach_say("uioemu attach: the emulator refused this process: ", (const char *)packet.body, "\n");
        RAW1(SYS_exit_group, 70);
    }
    size_t copy = packet.header.length < body_size ? packet.header.length : body_size;
    memcpy(body, packet.body, copy);
    return packet.header.length;
}

static void close_connection(void)
{
    if (g_attach.mailbox != NULL) RAW2(SYS_munmap, g_attach.mailbox, g_attach.mailbox_bytes);
    if (g_attach.socket_fd >= 0) RAW1(SYS_close, g_attach.socket_fd);
    if (g_attach.pool_fd >= 0) RAW1(SYS_close, g_attach.pool_fd);
    if (g_attach.notify_fd >= 0) RAW1(SYS_close, g_attach.notify_fd);
    g_attach.mailbox = NULL;
    g_attach.socket_fd = g_attach.pool_fd = g_attach.notify_fd = -1;
    g_attach.connected_pid = 0;
}

/* Connects and shakes hands; any failure exits 70 with a message. */
static void connect_to_emulator(void)
{
    int fd = (int)RAW3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) attach_fatal("cannot create the control socket");
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    memcpy(address.sun_path, g_attach.socket_path, sizeof address.sun_path);
    long rc;
    do rc = RAW3(SYS_connect, fd, &address, sizeof address);
    while (rc == -EINTR);
    if (rc < 0) {
        attach_say("uioemu attach: cannot connect to ", g_attach.socket_path, ": ");
        attach_fatal(strerror((int)-rc));
    }
    struct uioemu_hello hello = {
        .pid = (int32_t)RAW0(SYS_getpid), .ppid = (int32_t)RAW0(SYS_getppid), .tid = attach_tid(),
#if defined(__x86_64__)
        .host_is_x86_64 = 1,
#endif
    };
    RAW2(SYS_prctl, PR_GET_NAME, hello.comm);
    socket_send(fd, UIOEMU_MSG_HELLO, &hello, sizeof hello);

    struct uioemu_welcome welcome;
    uint16_t type = 0;
    int fds[3], fd_count = 0;
    long length = socket_receive(fd, &type, &welcome, sizeof welcome, fds, 3, &fd_count);
    if (length < 0) attach_fatal("the emulator closed the control socket during the handshake");
    if (type != UIOEMU_MSG_WELCOME) attach_fatal("expected WELCOME from the emulator, got another message");
    if ((size_t)length != sizeof welcome) attach_fatal("a WELCOME of the wrong size");
    if (fd_count != 3) attach_fatal("a WELCOME without its three descriptors (mailbox, DMA pool, notify)");
    if (welcome.mailbox_bytes < sizeof(struct uioemu_mailbox)) attach_fatal("a WELCOME with a mailbox smaller than the protocol's");
    void *mailbox = (void *)RAW6(SYS_mmap, 0, welcome.mailbox_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    if ((unsigned long)mailbox > -4096UL) attach_fatal("cannot map the mailbox");
    RAW1(SYS_close, fds[0]);
    g_attach.mailbox = mailbox;
    if (g_attach.mailbox->magic != UIOEMU_ATTACH_MAGIC || g_attach.mailbox->version != UIOEMU_ATTACH_VERSION)
        attach_fatal("the mailbox has a wrong magic or version");
    g_attach.mailbox_bytes = welcome.mailbox_bytes;
    g_attach.socket_fd = fd;
    g_attach.pool_fd = fds[1];
    g_attach.notify_fd = fds[2];
    g_attach.realtime = (welcome.flags & UIOEMU_WELCOME_REALTIME) != 0;
    g_attach.noncoherent = (welcome.flags & UIOEMU_WELCOME_NONCOHERENT) != 0;
    g_attach.pool_physical_base = welcome.pool_physical_base;
    g_attach.pool_bytes = welcome.pool_bytes;
    g_attach.page_bytes = welcome.page_bytes ? welcome.page_bytes : 4096;
    g_attach.connected_pid = hello.pid;
    g_attach.generation++;
    g_debt_ns = 0;
    g_board_tid = 0;
    mmap_init_pool_state();
}

static void after_fork_in_child(void)
{
    t_tid = 0;
    g_pid = 0;
    if (g_attach.mode != ATTACH_ATTACHED) return;
    /* The connection, the mailbox and every board fd belong to the parent now. */
    g_lock = 0;
    g_lock_owner = 0;
    close_connection();
    fd_mark_all_stale();
}

static void initialise(void)
{
    const char *socket_path = getenv(UIOEMU_ENV_SOCKET);
    if (socket_path == NULL || socket_path[0] == 0) {
        g_attach.mode = ATTACH_PASSTHROUGH;
        /* Once per process tree: a shell or launcher that starts more processes does not repeat it. */
        if (getenv("UIOEMU_ATTACH_PASSTHROUGH_NOTED") == NULL) {
            attach_say("uioemu-attach: not started by uioemu attach; passing every call through\n", NULL, NULL);
            setenv("UIOEMU_ATTACH_PASSTHROUGH_NOTED", "1", 1);
        }
        return;
    }
#if !defined(__x86_64__)
    attach_fatal("uioemu attach supports x86-64 hosts only");
#endif
    if (strlen(socket_path) >= sizeof g_attach.socket_path) attach_fatal("$UIOEMU_ATTACH_SOCKET is too long for a Unix socket path");
    strcpy(g_attach.socket_path, socket_path);
    const char *root = getenv(UIOEMU_ENV_ROOT);
    if (root == NULL || root[0] != '/' || strlen(root) >= sizeof g_attach.root - 1)
        attach_fatal("$UIOEMU_ATTACH_ROOT is missing or not an absolute path");
    strcpy(g_attach.root, root);
    g_attach.root_length = strlen(root);
    while (g_attach.root_length > 1 && g_attach.root[g_attach.root_length - 1] == '/')
        g_attach.root[--g_attach.root_length] = 0;
    connect_to_emulator();
    pthread_atfork(NULL, NULL, after_fork_in_child);
    fault_install();
    g_attach.mode = ATTACH_ATTACHED;
}

__attribute__((constructor(101))) static void attach_constructor(void) { pthread_once(&g_once, initialise); }

bool attach_active(void)
{
    if (__builtin_expect(g_attach.mode == ATTACH_UNINITIALISED, 0)) pthread_once(&g_once, initialise);
    if (g_attach.mode != ATTACH_ATTACHED) return false;
    if (__builtin_expect(g_attach.connected_pid == 0, 0)) {
        attach_lock();
        if (g_attach.connected_pid == 0) connect_to_emulator();
        attach_unlock();
    }
    return true;
}

bool attach_virtual_time(void) { return attach_active() && !g_attach.realtime; }

/* ---- requests ---- */

_Noreturn void attach_wait_for_end(void)
{
    /* The emulator ends the run: it closes the socket (or kills us). */
    for (;;) {
        char byte;
        long n = RAW4(SYS_recvfrom, g_attach.socket_fd, &byte, 1, 0);
        if (n == 0 || (n < 0 && n != -EINTR && n != -EAGAIN)) {
            attach_say("uioemu attach: the emulator went away\n", NULL, NULL);
            RAW1(SYS_exit_group, 70);
        }
    }
}

/* The emulator closed its end (a pending FD message is not EOF, but a hang-up with one still
   queued is: the peer of a SOCK_SEQPACKET socket reports POLLHUP once it is closed). */
static bool emulator_gone(void)
{
    struct pollfd p = { .fd = g_attach.socket_fd, .events = POLLIN | POLLRDHUP, .revents = 0 };
    struct timespec zero = { 0, 0 };
    long r = RAW6(SYS_ppoll, &p, 1, &zero, 0, 0, 0);
    if (r == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR))) return true;
    char byte;
    long n = RAW6(SYS_recvfrom, g_attach.socket_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT, 0, 0);
    return n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR);
}

static int receive_fd_message(void)
{
    struct uioemu_fd_message message;
    uint16_t type = 0;
    int fds[1] = { -1 }, fd_count = 0;
    long length = socket_receive(g_attach.socket_fd, &type, &message, sizeof message, fds, 1, &fd_count);
    if (length < 0) attach_fatal("the emulator went away");
    if (type != UIOEMU_MSG_FD || fd_count != 1) attach_fatal("expected an FD message with one descriptor after a reply with fd_follows");
    return fds[0];
}

int64_t attach_call_locked(int *fd_out)
{
    struct uioemu_mailbox *mb = g_attach.mailbox;
    if (fd_out) *fd_out = -1;
    mb->request.debt_ns = __atomic_exchange_n(&g_debt_ns, 0, __ATOMIC_RELAXED);
    int cpu = sched_getcpu() + 1; /* 0 when not known (sched_getcpu reads rseq or the vDSO: no system call) */
    __atomic_store_n(&mb->child_cpu, cpu, __ATOMIC_RELAXED);
    uint32_t seq = __atomic_load_n(&mb->request_seq, __ATOMIC_RELAXED) + 1;
    __atomic_store_n(&mb->request_seq, seq, __ATOMIC_SEQ_CST);
    /* The emulator spins for a while after each reply; only a sleeping one needs waking: through
       its reactor's notify eventfd in real time, through the futex in virtual time. */
    bool woke = false;
    if (__atomic_load_n(&mb->emulator_sleeping, __ATOMIC_SEQ_CST)) {
        woke = true;
        if (g_attach.realtime) {
            uint64_t one = 1;
            RAW3(SYS_write, g_attach.notify_fd, &one, sizeof one);
        } else {
            futex(&mb->request_seq, FUTEX_WAKE, 1, NULL);
        }
    }

    /* Spin only while the emulator can answer beside us: awake, and last seen on another CPU. An
       emulator just woken is often placed on this CPU (the scheduler's wake-affine choice), and one
       on this CPU runs only once we sleep: spinning then only delays the reply (measured: the
       access 4x slower than sleeping at once). Every 64th wait spins anyway, so that two processes
       the scheduler has spread over two CPUs find out and stay spinning. */
    int emulator_cpu = __atomic_load_n(&mb->emulator_cpu, __ATOMIC_RELAXED);
    static unsigned waits;
    /* Real time keeps spinning first: the board runs on by the wall clock meanwhile, and a slower
       access changes what a driver sees (measured: the built-in driver's first interrupts coalesced). */
    bool spin = g_attach.realtime || (!woke && (emulator_cpu == 0 || emulator_cpu != cpu));
    if (spin || (++waits & 63) == 0) {
        for (int i = 0; i < SPIN_ITERATIONS; i++) {
            if (__atomic_load_n(&mb->reply_seq, __ATOMIC_ACQUIRE) == seq) goto replied;
            __builtin_ia32_pause();
        }
    }
    for (;;) {
        __atomic_store_n(&mb->child_sleeping, 1, __ATOMIC_SEQ_CST);
        uint32_t seen = __atomic_load_n(&mb->reply_seq, __ATOMIC_SEQ_CST);
        if (seen == seq) break;
        struct timespec timeout = { 0, UIOEMU_LIVENESS_CHECK_NS };
        long rc = futex(&mb->reply_seq, FUTEX_WAIT, seen, &timeout);
        if (rc == -ETIMEDOUT && emulator_gone()) attach_fatal("the emulator went away");
        if (__atomic_load_n(&mb->reply_seq, __ATOMIC_ACQUIRE) == seq) break;
    }
    __atomic_store_n(&mb->child_sleeping, 0, __ATOMIC_RELAXED);
replied:
    if (mb->reply.protection_change_count > 0) mmap_apply_protection_changes(&mb->reply);
    if (mb->reply.fd_follows) {
        int fd = receive_fd_message();
        if (fd_out) *fd_out = fd;
        else RAW1(SYS_close, fd);
    }
    return mb->reply.result;
}

_Noreturn void attach_problem(uint32_t problem, uint64_t instruction_address, uint32_t width, const char *description)
{
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_PROBLEM;
    rq->a[0] = problem;
    rq->a[1] = (int64_t)instruction_address;
    rq->a[2] = width;
    rq->a[3] = attach_tid();
    size_t n = strlen(description);
    if (n >= UIOEMU_PAYLOAD_BYTES) n = UIOEMU_PAYLOAD_BYTES - 1;
    memcpy(rq->payload, description, n);
    rq->payload[n] = 0;
    rq->length = (uint32_t)n + 1;
    attach_call_locked(NULL);
    attach_unlock();
    attach_wait_for_end();
}

void attach_check_board_thread(uint64_t instruction_address)
{
    if (g_attach.realtime) return;
    int tid = attach_tid();
    int expected = 0;
    if (__atomic_compare_exchange_n(&g_board_tid, &expected, tid, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    if (expected == tid) return;
    char path[64] = "/proc/self/task/";
    char digits[16];
    int n = 0;
    for (int v = tid; v > 0; v /= 10) digits[n++] = (char)('0' + v % 10);
    size_t p = strlen(path);
    while (n > 0) path[p++] = digits[--n];
    memcpy(path + p, "/comm", 6);
    char name[32] = "?";
    int fd = (int)RAW3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        long r = RAW3(SYS_read, fd, name, sizeof name - 1);
        if (r > 0) name[r - 1 < (long)sizeof name - 1 && name[r - 1] == '\n' ? r - 1 : r] = 0;
        RAW1(SYS_close, fd);
    }
    char description[160] = "a second thread touched the board in virtual time: thread '";
    strncat(description, name, 40);
    strcat(description, "' (the first board access was by another thread; run with --time realtime for multi-threaded drivers)");
    attach_problem(UIOEMU_PROBLEM_SECOND_THREAD, instruction_address, 0, description);
}

/* ---- board time ---- */

int64_t attach_peek_now(void)
{
    return __atomic_load_n(&g_attach.mailbox->board_time_ns, __ATOMIC_ACQUIRE) + __atomic_load_n(&g_debt_ns, __ATOMIC_RELAXED);
}

int64_t attach_now(void)
{
    int64_t cost = g_attach.mailbox->clock_read_cost_ns;
    int64_t debt = __atomic_add_fetch(&g_debt_ns, cost, __ATOMIC_RELAXED);
    return __atomic_load_n(&g_attach.mailbox->board_time_ns, __ATOMIC_ACQUIRE) + debt;
}

void attach_add_debt(int64_t ns) { __atomic_add_fetch(&g_debt_ns, ns, __ATOMIC_RELAXED); }

void attach_sleep_until(int64_t board_ns)
{
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_SLEEP_UNTIL;
    rq->length = 0;
    rq->a[0] = board_ns;
    int64_t result = attach_call_locked(NULL);
    attach_unlock();
    if (result < 0) attach_wait_for_end();
}

void attach_detach(int reason, int64_t pid)
{
    if (!attach_virtual_time()) return;
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_DETACH;
    rq->length = 0;
    rq->a[0] = reason;
    rq->a[1] = pid;
    int64_t result = attach_call_locked(NULL);
    attach_unlock();
    if (result < 0) attach_wait_for_end();
}
