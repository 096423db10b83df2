/*
 * The fault handler. A load or store to a register mapping (kept PROT_NONE) faults; the handler
 * decodes the instruction at RIP (decoder.c), performs the access as register requests, writes a
 * load's result into the destination register in the ucontext and steps RIP over the instruction:
 * one signal per access, no mprotect, no single-step. A touch of a device-owned pool page (a
 * non-coherent board) becomes OP_CPU_TOUCH and the instruction is retried. Every other fault goes to
 * the program's own handler (sigaction/signal are interposed so that a handler the program or its
 * runtime installs, such as Rust's stack-overflow handler, becomes the next one), or gets the
 * default action.
 *
 * Widths: 4 bytes exact; 1- and 2-byte loads read the aligned 32-bit register and take their bytes
 * (reads have no side effects on this core); 8-byte loads and stores are two 32-bit accesses, low
 * address first (what a 32-bit AXI4-Lite interconnect does). Anything else stops the run with
 * OP_PROBLEM naming the instruction address, its bytes and the width.
 *
 * Async-signal-safe: system calls and the mailbox only.
 */
#include "preload.h"
#include "decoder.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <ucontext.h>

static struct sigaction g_next[2]; /* the program's SIGSEGV and SIGBUS actions */
static bool g_installed;

static int slot(int sig) { return sig == SIGSEGV ? 0 : sig == SIGBUS ? 1 : -1; }

#if defined(__x86_64__)

/* ucontext gregs index of register number 0-15 (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15). */
static const int g_greg_index[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static size_t hex_bytes(char *out, const uint8_t *bytes, size_t count)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (i) out[n++] = ' ';
        out[n++] = digits[bytes[i] >> 4];
        out[n++] = digits[bytes[i] & 15];
    }
    out[n] = 0;
    return n;
}

static size_t hex_u64(char *out, uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do tmp[n++] = digits[value & 15], value >>= 4;
    while (value);
    size_t k = 0;
    out[k++] = '0';
    out[k++] = 'x';
    while (n) out[k++] = tmp[--n];
    out[k] = 0;
    return k;
}

static _Noreturn void refuse(uint32_t problem, uint64_t rip, const uint8_t *bytes, size_t count, unsigned width,
                             uint64_t offset, const char *reason)
{
    char text[512], number[24], hex[64];
    strcpy(text, "the instruction at ");
    hex_u64(number, rip);
    strcat(text, number);
    strcat(text, " (bytes ");
    hex_bytes(hex, bytes, count);
    strcat(text, hex);
    strcat(text, ") accessing register offset ");
    hex_u64(number, offset);
    strcat(text, number);
    if (width) {
        strcat(text, " with width ");
        char w[4] = { (char)('0' + width % 10), 0 };
        strcat(text, w);
    }
    strcat(text, ": ");
    strncat(text, reason, sizeof text - strlen(text) - 1);
    attach_problem(problem, rip, width, text);
}

static uint32_t register_request(uint32_t op, const struct mapping *m, uint64_t offset, uint32_t value, uint64_t rip)
{
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = op;
    rq->length = 0;
    rq->a[0] = m->id;
    rq->a[1] = (int64_t)offset;
    rq->a[2] = 4;
    rq->a[3] = value;
    rq->a[4] = (int64_t)rip;
    int64_t result = attach_call_locked(NULL);
    uint32_t read = (uint32_t)g_attach.mailbox->reply.r[0];
    attach_unlock();
    if (result < 0) attach_wait_for_end(); /* the emulator stopped the run */
    return read;
}

static uint64_t byte_swap(uint64_t v, int width)
{
    switch (width) {
    case 2: return __builtin_bswap16((uint16_t)v);
    case 4: return __builtin_bswap32((uint32_t)v);
    case 8: return __builtin_bswap64(v);
    default: return v;
    }
}

static void register_access(struct mapping *m, uintptr_t address, ucontext_t *uc)
{
    greg_t *gregs = uc->uc_mcontext.gregs;
    uint64_t rip = (uint64_t)gregs[REG_RIP];
    uint8_t code[16];
    long got;
    if ((rip & 4095) <= 4096 - 15) {
        /* The instruction was just fetched from this page: its 15 bytes are readable. */
        memcpy(code, (const void *)rip, 15);
        got = 15;
    } else {
        /* It may end on the next page, which may not be mapped: read what there is safely. */
        struct iovec local = { code, 15 }, remote = { (void *)rip, 15 };
        got = RAW6(SYS_process_vm_readv, attach_pid(), &local, 1, &remote, 1, 0);
        if (got <= 0) { /* the last bytes of the text mapping: copy up to its end */
            got = (long)(4096 - (rip & 4095));
            if (got > 15) got = 15;
            memcpy(code, (const void *)rip, (size_t)got);
        }
    }
    uint64_t offset = address - m->start;
    if (m->generation != g_attach.generation || g_attach.connected_pid == 0)
        attach_fatal("a forked child touched registers its parent mapped; map them again in the child");
    attach_check_board_thread(rip);

    struct decoded_access d;
    const char *reason;
    int rc = decode_access(code, (size_t)got, &d, &reason);
    if (rc == DECODE_UNSUPPORTED_INSTRUCTION)
        refuse(UIOEMU_PROBLEM_UNSUPPORTED_INSTRUCTION, rip, code, d.length ? d.length : (size_t)got, 0, offset, reason);
    if (rc == DECODE_UNSUPPORTED_WIDTH)
        refuse(UIOEMU_PROBLEM_UNSUPPORTED_WIDTH, rip, code, d.length, d.width, offset, reason);

    unsigned misalignment = (unsigned)(offset & 3);
    if (d.width >= 4 ? misalignment != 0 : misalignment + d.width > 4)
        refuse(UIOEMU_PROBLEM_UNSUPPORTED_WIDTH, rip, code, d.length, d.width, offset,
               "an access that is not within one aligned 32-bit register");

    if (d.direction == DECODED_READ_MODIFY_WRITE) { /* one read, one write: what the bus sees */
        uint64_t value = register_request(UIOEMU_OP_REGISTER_READ, m, offset, 0, rip);
        if (d.width == 8) value |= (uint64_t)register_request(UIOEMU_OP_REGISTER_READ, m, offset + 4, 0, rip) << 32;
        uint64_t operand = d.reg == DECODED_NO_REGISTER ? (uint64_t)d.immediate : (uint64_t)gregs[g_greg_index[d.reg]];
        uint64_t flags = (uint64_t)gregs[REG_EFL];
        uint64_t result = decoded_alu_execute(d.alu, d.width, value, operand, &flags);
        register_request(UIOEMU_OP_REGISTER_WRITE, m, offset, (uint32_t)result, rip);
        if (d.width == 8) register_request(UIOEMU_OP_REGISTER_WRITE, m, offset + 4, (uint32_t)(result >> 32), rip);
        gregs[REG_EFL] = (greg_t)flags;
    } else if (d.direction == DECODED_LOAD) {
        uint64_t value;
        if (d.width == 8) {
            uint64_t low = register_request(UIOEMU_OP_REGISTER_READ, m, offset, 0, rip);
            uint64_t high = register_request(UIOEMU_OP_REGISTER_READ, m, offset + 4, 0, rip);
            value = low | (high << 32);
        } else {
            uint32_t word = register_request(UIOEMU_OP_REGISTER_READ, m, offset - misalignment, 0, rip);
            value = word >> (8 * misalignment);
            if (d.width < 4) value &= (1u << (8 * d.width)) - 1;
        }
        if (d.byte_swap) value = byte_swap(value, d.width);
        if (d.alu != DECODED_ALU_NONE) { /* a load folded into an operation: flags, maybe a register */
            uint64_t operand;
            if (d.reg == DECODED_NO_REGISTER) {
                operand = (uint64_t)d.immediate;
            } else {
                operand = (uint64_t)gregs[g_greg_index[d.reg]];
                if (d.high_byte) operand >>= 8;
            }
            uint64_t flags = (uint64_t)gregs[REG_EFL];
            uint64_t result = d.memory_first ? decoded_alu_execute(d.alu, d.width, value, operand, &flags)
                                             : decoded_alu_execute(d.alu, d.width, operand, value, &flags);
            gregs[REG_EFL] = (greg_t)flags;
            if (!d.writes_register) {
                gregs[REG_RIP] = (greg_t)(rip + d.length);
                return;
            }
            value = result;
        }
        if (d.sign_extend && d.width < 8) {
            int shift = 64 - 8 * d.width;
            value = (uint64_t)((int64_t)(value << shift) >> shift);
        }
        greg_t *target = &gregs[g_greg_index[d.reg]];
        uint64_t old = (uint64_t)*target;
        switch (d.reg_width) {
        case 1:
            if (d.high_byte) old = (old & ~0xff00ull) | ((value & 0xff) << 8);
            else old = (old & ~0xffull) | (value & 0xff);
            break;
        case 2: old = (old & ~0xffffull) | (value & 0xffff); break;
        case 4: old = value & 0xffffffffull; break; /* 32-bit destinations zero-extend */
        default: old = value; break;
        }
        *target = (greg_t)old;
    } else {
        uint64_t value = d.reg == DECODED_NO_REGISTER ? (uint64_t)d.immediate : (uint64_t)gregs[g_greg_index[d.reg]];
        if (d.byte_swap) value = byte_swap(value, d.width);
        register_request(UIOEMU_OP_REGISTER_WRITE, m, offset, (uint32_t)value, rip);
        if (d.width == 8) register_request(UIOEMU_OP_REGISTER_WRITE, m, offset + 4, (uint32_t)(value >> 32), rip);
    }
    gregs[REG_RIP] = (greg_t)(rip + d.length);
}

static void cpu_touch(struct mapping *m, uintptr_t address, ucontext_t *uc)
{
    uint64_t pool_offset = m->pool_offset + (address - m->start);
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    bool is_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_CPU_TOUCH;
    rq->length = 0;
    rq->a[0] = (int64_t)(g_attach.pool_physical_base + pool_offset);
    rq->a[1] = is_write;
    rq->a[2] = (int64_t)rip;
    int64_t result = attach_call_locked(NULL);
    attach_unlock();
    if (result < 0) attach_wait_for_end();
    /* The emulator unprotects what it wants to; the touched page must become accessible or the
       instruction would fault forever. */
    if (mmap_pool_page_device_owned(pool_offset)) mmap_pool_force_accessible(pool_offset, 1);
}
#endif

static void default_action(int sig, siginfo_t *info)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    REAL(sigaction)(sig, &dfl, NULL);
    /* A fault re-executes and dies; a sent signal is sent again (it is blocked until we return). */
    if (info == NULL || info->si_code <= 0) RAW3(SYS_tgkill, RAW0(SYS_getpid), RAW0(SYS_gettid), sig);
}

static void handler(int sig, siginfo_t *info, void *context)
{
    int saved_errno = errno;
#if defined(__x86_64__)
    if (info != NULL && info->si_code > 0 && g_attach.mode == ATTACH_ATTACHED) {
        uintptr_t address = (uintptr_t)info->si_addr;
        struct mapping *m = sig == SIGSEGV && info->si_code == SEGV_ACCERR ? mapping_find(address) : NULL;
        if (m != NULL && m->kind == MAPPING_REGISTERS) {
            register_access(m, address, context);
            errno = saved_errno;
            return;
        }
        if (m != NULL && m->kind == MAPPING_POOL && m->generation == g_attach.generation &&
            mmap_pool_page_device_owned(m->pool_offset + (address - m->start))) {
            cpu_touch(m, address, context);
            errno = saved_errno;
            return;
        }
    }
#endif
    errno = saved_errno;
    int s = slot(sig);
    struct sigaction next = g_next[s];
    if (next.sa_handler == SIG_DFL || next.sa_handler == SIG_IGN) {
        default_action(sig, info);
        return;
    }
    if (next.sa_flags & SA_RESETHAND) {
        memset(&g_next[s], 0, sizeof g_next[s]);
        g_next[s].sa_handler = SIG_DFL;
    }
    if (next.sa_flags & SA_SIGINFO) next.sa_sigaction(sig, info, context);
    else next.sa_handler(sig);
}

void fault_install(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int sig = SIGBUS; sig; sig = sig == SIGBUS ? SIGSEGV : 0) {
        struct sigaction old;
        if (REAL(sigaction)(sig, &action, &old) == 0) g_next[slot(sig)] = old;
    }
    g_installed = true;
}

/* ---- the program's own SIGSEGV/SIGBUS handlers become the next ones ---- */

UIOEMU_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int s = slot(sig);
    if (s < 0 || !g_installed) return REAL(sigaction)(sig, act, old);
    struct sigaction previous = g_next[s];
    if (act != NULL) g_next[s] = *act;
    if (old != NULL) *old = previous;
    return 0;
}

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
UIOEMU_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old) { return sigaction(sig, act, old); }

static sighandler_t install_simple(int sig, sighandler_t handler_function, int flags)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler_function;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
    return old.sa_handler;
}

UIOEMU_EXPORT sighandler_t signal(int sig, sighandler_t handler_function)
{
    if (slot(sig) < 0 || !g_installed) return REAL(signal)(sig, handler_function);
    return install_simple(sig, handler_function, SA_RESTART);
}

UIOEMU_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler_function)
{
    if (slot(sig) < 0 || !g_installed) return REAL(bsd_signal)(sig, handler_function);
    return install_simple(sig, handler_function, SA_RESTART);
}

UIOEMU_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler_function)
{
    if (slot(sig) < 0 || !g_installed) return REAL(sysv_signal)(sig, handler_function);
    return install_simple(sig, handler_function, SA_RESETHAND | SA_NODEFER);
}

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
UIOEMU_EXPORT sighandler_t sigset(int sig, sighandler_t handler_function)
{
    if (slot(sig) < 0 || !g_installed || handler_function == SIG_HOLD) return REAL(sigset)(sig, handler_function);
    return install_simple(sig, handler_function, 0);
}
