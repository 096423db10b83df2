/*
 * Unit test of the register-trap decoder (decoder.c): instruction bytes -> (length, width,
 * direction, register, ...) for every supported form, and the bytes it must refuse. The forms are
 * the ones gcc, clang, Swift and CPython emit for 32-bit volatile loads and stores (checked with
 * objdump on the examples) plus every encoding variant the decoder claims.
 */
#include "decoder.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { L = DECODED_LOAD, S = DECODED_STORE, NOREG = DECODED_NO_REGISTER };
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct expect {
    const char *name;
    uint8_t bytes[16];
    size_t count;
    int result;
    int length, width, direction, reg, reg_width, high, sign, swap;
    long long immediate;
};

#define OK DECODE_OK
#define WIDTH DECODE_UNSUPPORTED_WIDTH
#define REFUSE DECODE_UNSUPPORTED_INSTRUCTION

static const struct expect cases[] = {
    /* MOV r32, r/m32 and friends */
    { "mov eax,[rdi]", { 0x8b, 0x07 }, 2, OK, 2, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov eax,[rax+0x34] (gcc -O2)", { 0x8b, 0x40, 0x34 }, 3, OK, 3, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov edx,[rax+0x200] disp32", { 0x8b, 0x90, 0x00, 0x02, 0x00, 0x00 }, 6, OK, 6, 4, L, RDX, 4, 0, 0, 0, 0 },
    { "mov r11d,[rsi+0x200] REX.R", { 0x44, 0x8b, 0x9e, 0x00, 0x02, 0x00, 0x00 }, 7, OK, 7, 4, L, R11, 4, 0, 0, 0, 0 },
    { "mov eax,[r12] REX.B SIB", { 0x41, 0x8b, 0x04, 0x24 }, 4, OK, 4, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov eax,[r13+0] REX.B mod1", { 0x41, 0x8b, 0x45, 0x00 }, 4, OK, 4, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov ecx,[rbx+rcx*4+0x10] SIB disp8", { 0x8b, 0x4c, 0x8b, 0x10 }, 4, OK, 4, 4, L, RCX, 4, 0, 0, 0, 0 },
    { "mov eax,[rcx*4+0x1000] SIB no base", { 0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00 }, 7, OK, 7, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov eax,[rip+0x100]", { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }, 6, OK, 6, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov rax,[rdi] REX.W", { 0x48, 0x8b, 0x07 }, 3, OK, 3, 8, L, RAX, 8, 0, 0, 0, 0 },
    { "mov r15,[r8+8]", { 0x4d, 0x8b, 0x78, 0x08 }, 4, OK, 4, 8, L, R15, 8, 0, 0, 0, 0 },
    { "mov ax,[rdi] 66", { 0x66, 0x8b, 0x07 }, 3, OK, 3, 2, L, RAX, 2, 0, 0, 0, 0 },
    { "mov al,[rdi]", { 0x8a, 0x07 }, 2, OK, 2, 1, L, RAX, 1, 0, 0, 0, 0 },
    { "mov ah,[rdx+1]", { 0x8a, 0x62, 0x01 }, 3, OK, 3, 1, L, RAX, 1, 1, 0, 0, 0 },
    { "mov bh,[rax]", { 0x8a, 0x38 }, 2, OK, 2, 1, L, RBX, 1, 1, 0, 0, 0 },
    { "mov spl,[rax] REX", { 0x40, 0x8a, 0x20 }, 3, OK, 3, 1, L, RSP, 1, 0, 0, 0, 0 },
    { "mov eax,fs:[rdi] segment", { 0x64, 0x8b, 0x07 }, 3, OK, 3, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov eax,[edi] 67", { 0x67, 0x8b, 0x07 }, 3, OK, 3, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "rep mov eax,[rdi] (F3 ignored)", { 0xf3, 0x8b, 0x07 }, 3, OK, 3, 4, L, RAX, 4, 0, 0, 0, 0 },
    /* stores */
    { "mov [rdi],eax", { 0x89, 0x07 }, 2, OK, 2, 4, S, RAX, 4, 0, 0, 0, 0 },
    { "mov [rax+0x30],edx", { 0x89, 0x50, 0x30 }, 3, OK, 3, 4, S, RDX, 4, 0, 0, 0, 0 },
    { "mov [rdi+0x58],r9d", { 0x44, 0x89, 0x4f, 0x58 }, 4, OK, 4, 4, S, R9, 4, 0, 0, 0, 0 },
    { "mov [rdi],rax REX.W", { 0x48, 0x89, 0x07 }, 3, OK, 3, 8, S, RAX, 8, 0, 0, 0, 0 },
    { "mov dword [rax+0x30],4 C7", { 0xc7, 0x40, 0x30, 0x04, 0x00, 0x00, 0x00 }, 7, OK, 7, 4, S, NOREG, 0, 0, 0, 0, 4 },
    { "mov dword [rip+0x10],-1", { 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff }, 10, OK, 10, 4, S, NOREG, 0, 0, 0, 0, -1 },
    { "mov qword [rdi],-2 REX.W C7", { 0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff }, 7, OK, 7, 8, S, NOREG, 0, 0, 0, 0, -2 },
    { "mov dword [rsp+8],1 SIB", { 0xc7, 0x44, 0x24, 0x08, 0x01, 0x00, 0x00, 0x00 }, 8, OK, 8, 4, S, NOREG, 0, 0, 0, 0, 1 },
    /* zero and sign extension */
    { "movzx eax,byte [rdi]", { 0x0f, 0xb6, 0x07 }, 3, OK, 3, 1, L, RAX, 4, 0, 0, 0, 0 },
    { "movzx eax,word [rdi+2]", { 0x0f, 0xb7, 0x47, 0x02 }, 4, OK, 4, 2, L, RAX, 4, 0, 0, 0, 0 },
    { "movzx r8,word [rdi] REX.WR", { 0x4c, 0x0f, 0xb7, 0x07 }, 4, OK, 4, 2, L, R8, 8, 0, 0, 0, 0 },
    { "movzx ax,byte [rdi] 66", { 0x66, 0x0f, 0xb6, 0x07 }, 4, OK, 4, 1, L, RAX, 2, 0, 0, 0, 0 },
    { "movsx eax,byte [rdi]", { 0x0f, 0xbe, 0x07 }, 3, OK, 3, 1, L, RAX, 4, 0, 1, 0, 0 },
    { "movsx rax,word [rdi]", { 0x48, 0x0f, 0xbf, 0x07 }, 4, OK, 4, 2, L, RAX, 8, 0, 1, 0, 0 },
    { "movsxd rax,dword [rdi]", { 0x48, 0x63, 0x07 }, 3, OK, 3, 4, L, RAX, 8, 0, 1, 0, 0 },
    { "movsxd eax,dword [rdi] (no REX.W: a move)", { 0x63, 0x07 }, 2, OK, 2, 4, L, RAX, 4, 0, 0, 0, 0 },
    /* MOVBE */
    { "movbe eax,[rdi]", { 0x0f, 0x38, 0xf0, 0x07 }, 4, OK, 4, 4, L, RAX, 4, 0, 0, 1, 0 },
    { "movbe [rdi+0x74],esi", { 0x0f, 0x38, 0xf1, 0x77, 0x74 }, 5, OK, 5, 4, S, RSI, 4, 0, 0, 1, 0 },
    { "movbe rax,[rdi] REX.W", { 0x48, 0x0f, 0x38, 0xf0, 0x07 }, 5, OK, 5, 8, L, RAX, 8, 0, 0, 1, 0 },
    /* moffs */
    { "mov eax,[moffs64]", { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, OK, 9, 4, L, RAX, 4, 0, 0, 0, 0 },
    { "mov [moffs64],eax", { 0xa3, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, OK, 9, 4, S, RAX, 4, 0, 0, 0, 0 },
    /* read-only ALU forms (a load folded into an operation) */
    { "test dword [rax+0x30],4 (clang -O2)", { 0xf7, 0x40, 0x30, 0x04, 0x00, 0x00, 0x00 }, 7, OK, 7, 4, L, NOREG, 0, 0, 0, 0, 4 },
    { "test byte [rdi+0x30],4", { 0xf6, 0x47, 0x30, 0x04 }, 4, OK, 4, 1, L, NOREG, 0, 0, 0, 0, 4 },
    { "cmp dword [rdi],0 (83 /7)", { 0x83, 0x3f, 0x00 }, 3, OK, 3, 4, L, NOREG, 0, 0, 0, 0, 0 },
    { "cmp dword [rdi],-1 (81 /7)", { 0x81, 0x3f, 0xff, 0xff, 0xff, 0xff }, 6, OK, 6, 4, L, NOREG, 0, 0, 0, 0, -1 },
    { "cmp [rdi],esi", { 0x39, 0x37 }, 2, OK, 2, 4, L, RSI, 4, 0, 0, 0, 0 },
    { "cmp esi,[rdi]", { 0x3b, 0x37 }, 2, OK, 2, 4, L, RSI, 4, 0, 0, 0, 0 },
    { "test [rdi],ecx", { 0x85, 0x0f }, 2, OK, 2, 4, L, RCX, 4, 0, 0, 0, 0 },
    { "and ecx,[rax+0x34]", { 0x23, 0x48, 0x34 }, 3, OK, 3, 4, L, RCX, 4, 0, 0, 0, 0 },
    { "or r8d,[rdi]", { 0x44, 0x0b, 0x07 }, 3, OK, 3, 4, L, R8, 4, 0, 0, 0, 0 },
    { "add rax,[rdi] REX.W", { 0x48, 0x03, 0x07 }, 3, OK, 3, 8, L, RAX, 8, 0, 0, 0, 0 },
    { "sub al,[rdi]", { 0x2a, 0x07 }, 2, OK, 2, 1, L, RAX, 1, 0, 0, 0, 0 },
    /* read-modify-write with a memory destination (clang -O2 for volatile |=, &=, +=) */
    { "or dword [rdi+0x30],4 (83 /1)", { 0x83, 0x4f, 0x30, 0x04 }, 4, OK, 4, 4, 3, NOREG, 0, 0, 0, 0, 4 },
    { "and dword [rdi+0x34],0xfffffffe (83 /4)", { 0x83, 0x67, 0x34, 0xfe }, 4, OK, 4, 4, 3, NOREG, 0, 0, 0, 0, -2 },
    { "and dword [rdi],0xfffffffb (81 /4)", { 0x81, 0x27, 0xfb, 0xff, 0xff, 0xff }, 6, OK, 6, 4, 3, NOREG, 0, 0, 0, 0, -5 },
    { "or [rdi],eax", { 0x09, 0x07 }, 2, OK, 2, 4, 3, RAX, 4, 0, 0, 0, 0 },
    { "add [rdi],r10 REX.WR", { 0x4c, 0x01, 0x17 }, 3, OK, 3, 8, 3, R10, 8, 0, 0, 0, 0 },
    { "inc dword [rdi+4]", { 0xff, 0x47, 0x04 }, 3, OK, 3, 4, 3, NOREG, 0, 0, 0, 0, 0 },
    { "not dword [rdi]", { 0xf7, 0x17 }, 2, OK, 2, 4, 3, NOREG, 0, 0, 0, 0, 0 },
    { "neg dword [rdi]", { 0xf7, 0x1f }, 2, OK, 2, 4, 3, NOREG, 0, 0, 0, 0, 0 },
    { "or byte [rdi],1 (a 1-byte store)", { 0x80, 0x0f, 0x01 }, 3, WIDTH, 3, 1, 3, NOREG, 0, 0, 0, 0, 1 },
    { "or word [rdi],ax (a 2-byte store)", { 0x66, 0x09, 0x07 }, 3, WIDTH, 3, 2, 3, RAX, 2, 0, 0, 0, 0 },
    /* refused by width: stores narrower than the 32-bit register */
    { "mov [rdi],al", { 0x88, 0x07 }, 2, WIDTH, 2, 1, S, RAX, 1, 0, 0, 0, 0 },
    { "mov [rdi],ax", { 0x66, 0x89, 0x07 }, 3, WIDTH, 3, 2, S, RAX, 2, 0, 0, 0, 0 },
    { "mov byte [rdi],1", { 0xc6, 0x07, 0x01 }, 3, WIDTH, 3, 1, S, NOREG, 0, 0, 0, 0, 1 },
    { "mov word [rbp+0],1", { 0x66, 0xc7, 0x45, 0x00, 0x01, 0x00 }, 6, WIDTH, 6, 2, S, NOREG, 0, 0, 0, 0, 1 },
    { "movbe [rdi],ax", { 0x66, 0x0f, 0x38, 0xf1, 0x07 }, 5, WIDTH, 5, 2, S, RAX, 2, 0, 0, 1, 0 },
};

struct refusal {
    const char *name;
    uint8_t bytes[16];
    size_t count;
};

static const struct refusal refusals[] = {
    { "mul dword [rdi] (F7 /4)", { 0xf7, 0x27 }, 2 },
    { "shl dword [rdi],1", { 0xd1, 0x27 }, 2 },
    { "call [rdi] (FF /2)", { 0xff, 0x17 }, 2 },
    { "xchg [rdi],eax", { 0x87, 0x07 }, 2 },
    { "lock or [rdi],eax", { 0xf0, 0x09, 0x07 }, 3 },
    { "lock xadd [rdi],eax", { 0xf0, 0x0f, 0xc1, 0x07 }, 4 },
    { "movd xmm0,[rdi]", { 0x66, 0x0f, 0x6e, 0x07 }, 4 },
    { "movss xmm0,[rdi]", { 0xf3, 0x0f, 0x10, 0x07 }, 4 },
    { "movdqu xmm0,[rdi]", { 0xf3, 0x0f, 0x6f, 0x07 }, 4 },
    { "vmovd xmm0,[rdi] VEX", { 0xc5, 0xf9, 0x6e, 0x07 }, 4 },
    { "evex vmovdqu32", { 0x62, 0xf1, 0x7e, 0x48, 0x6f, 0x07 }, 6 },
    { "rep movsb", { 0xf3, 0xa4 }, 2 },
    { "stosd", { 0xab }, 1 },
    { "crc32 eax,dword [rdi] (F2 0F 38 F1)", { 0xf2, 0x0f, 0x38, 0xf1, 0x07 }, 5 },
    { "bt dword [rdi],1", { 0x0f, 0xba, 0x27, 0x01 }, 4 },
    { "mov eax,ecx (no memory operand)", { 0x8b, 0xc1 }, 2 },
    { "C7 /1 (not MOV)", { 0xc7, 0x0f, 0x01, 0x00, 0x00, 0x00 }, 6 },
    { "truncated disp32", { 0x8b, 0x80, 0x00, 0x02 }, 4 },
    { "truncated immediate", { 0xc7, 0x07, 0x01 }, 3 },
    { "prefixes only", { 0x66, 0x66, 0x66 }, 3 },
    { "push [rdi]", { 0xff, 0x37 }, 2 },
};

/* Flags of the ALU emulation against the CPU's own. */
static int check_alu(int *passed, int *failed)
{
    static const uint64_t values[] = { 0, 1, 4, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678, 0xfffffffe };
    const uint64_t mask = 0x8d5; /* CF PF AF ZF SF OF */
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
            uint32_t a = (uint32_t)values[i], b = (uint32_t)values[j];
            struct { int alu; uint32_t cpu_result; uint64_t cpu_flags; } runs[5];
            uint32_t r;
            uint64_t f;
            r = a; __asm__("cmpl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(r), "r"(b) : "cc"); runs[0] = (typeof(runs[0])){ DECODED_ALU_CMP, a, f };
            r = a; __asm__("testl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(r), "r"(b) : "cc"); runs[1] = (typeof(runs[1])){ DECODED_ALU_TEST, a, f };
            r = a; __asm__("addl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f), "+r"(r) : "r"(b) : "cc"); runs[2] = (typeof(runs[2])){ DECODED_ALU_ADD, r, f };
            r = a; __asm__("subl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f), "+r"(r) : "r"(b) : "cc"); runs[3] = (typeof(runs[3])){ DECODED_ALU_SUB, r, f };
            r = a; __asm__("andl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f), "+r"(r) : "r"(b) : "cc"); runs[4] = (typeof(runs[4])){ DECODED_ALU_AND, r, f };
            for (int k = 0; k < 5; k++) {
                uint64_t flags = 0;
                uint64_t result = decoded_alu_execute(runs[k].alu, 4, a, b, &flags);
                uint64_t want_mask = runs[k].alu == DECODED_ALU_TEST || runs[k].alu == DECODED_ALU_AND ? mask & ~0x10ull : mask; /* AF undefined for logic */
                bool result_ok = runs[k].alu == DECODED_ALU_CMP || runs[k].alu == DECODED_ALU_TEST || (uint32_t)result == runs[k].cpu_result;
                if (result_ok && (flags & want_mask) == (runs[k].cpu_flags & want_mask)) (*passed)++;
                else {
                    (*failed)++;
                    printf("FAIL alu %d on %x, %x: flags %llx, the CPU says %llx\n", runs[k].alu, a, b, (unsigned long long)(flags & mask),
                           (unsigned long long)(runs[k].cpu_flags & mask));
                }
            }
        }
    return 0;
}

int main(void)
{
    int passed = 0, failed = 0;
    check_alu(&passed, &failed);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct expect *e = &cases[i];
        struct decoded_access d;
        const char *reason;
        int rc = decode_access(e->bytes, e->count, &d, &reason);
        long long immediate = d.reg == DECODED_NO_REGISTER ? d.immediate : 0;
        if (rc == e->result && d.length == e->length && d.width == e->width && d.direction == e->direction && d.reg == e->reg &&
            d.reg_width == e->reg_width && d.high_byte == e->high && d.sign_extend == e->sign && d.byte_swap == e->swap &&
            immediate == e->immediate) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: rc %d len %d width %d dir %d reg %d reg_width %d high %d sign %d swap %d imm %lld (%s)\n", e->name, rc,
                   d.length, d.width, d.direction, d.reg, d.reg_width, d.high_byte, d.sign_extend, d.byte_swap, immediate, reason);
        }
        /* The same bytes cut one short must never decode as something else. */
        if (rc == DECODE_OK && e->count > 1) {
            int short_rc = decode_access(e->bytes, e->length - 1, &d, &reason);
            if (short_rc == DECODE_OK) {
                failed++;
                printf("FAIL %s: decoded with its last byte missing\n", e->name);
            } else {
                passed++;
            }
        }
    }
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        struct decoded_access d;
        const char *reason = NULL;
        int rc = decode_access(refusals[i].bytes, refusals[i].count, &d, &reason);
        if (rc == DECODE_UNSUPPORTED_INSTRUCTION && reason != NULL && reason[0] != 0) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: expected a refusal, got rc %d\n", refusals[i].name, rc);
        }
    }
    printf("decoder_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
