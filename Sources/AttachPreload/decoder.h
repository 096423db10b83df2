/*
 * The x86-64 instruction decoder for register accesses: the instruction at the faulting RIP of a
 * load or store to a trapped register page, as what it moves (width, direction, register) and how
 * long it is. Pure: no state, no system calls (fault.c uses it in the signal handler; the unit test
 * tests/decoder_test.c drives it with instruction bytes).
 *
 * Decoded: legacy prefixes 66 (operand size), 67 (address size), F2/F3 (ignored on these opcodes),
 * segment overrides 2E/36/3E/26/64/65; REX; ModRM with SIB, disp8, disp32 and RIP-relative forms.
 * Opcodes: MOV 88/89/8A/8B, MOV C6/C7 /0 (immediate), MOV A0-A3 (moffs), MOVZX 0F B6/B7,
 * MOVSX 0F BE/BF, MOVSXD 63, MOVBE 0F 38 F0/F1; and the read-only ALU forms compilers fold a
 * volatile load into (clang -O2 turns `while (regs[CR] & RESET)` into `testl $4, 0x30(%rax)`): one
 * register read, the flags (and for the register-destination forms the register) computed here:
 * ADD/OR/ADC/SBB/AND/SUB/XOR/CMP reg, r/m (02-3B even/odd, reg destination), CMP r/m, reg (38/39),
 * TEST r/m, reg (84/85), CMP r/m, imm (80/81/83 /7), TEST r/m, imm (F6/F7 /0).
 * And read-modify-write with a memory destination, done as one read and one write (what the CPU puts
 * on the bus for an uncached location): ADD/OR/ADC/SBB/AND/SUB/XOR r/m, reg (00-31 even/odd),
 * the same with an immediate (80/81/83 /0-/6), INC/DEC (FE/FF /0 /1), NOT/NEG (F6/F7 /2 /3).
 * Refused: everything else (LOCK, XCHG, shifts, SIMD/VEX/EVEX, string moves, register-only forms),
 * and by policy stores of 1 and 2 bytes, read-modify-write included (a 32-bit AXI4-Lite register
 * cannot take them exactly).
 */
#ifndef UIOEMU_DECODER_H
#define UIOEMU_DECODER_H

#include <stddef.h>
#include <stdint.h>

enum decoded_direction {
    DECODED_LOAD = 1,
    DECODED_STORE = 2,
    /* read-modify-write with a memory destination (clang -O2 emits `orl $4, 0x30(%rdi)` for a volatile
       `r[12] |= 4`): one register read, then one write of the result, as the CPU's bus does */
    DECODED_READ_MODIFY_WRITE = 3,
};

#define DECODED_NO_REGISTER 0xFF

struct decoded_access {
    uint8_t length;        /* instruction bytes (RIP advances by this) */
    uint8_t width;         /* bytes moved to or from memory: 1, 2, 4, 8 */
    uint8_t direction;     /* enum decoded_direction */
    uint8_t reg;           /* 0-15 = RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15; DECODED_NO_REGISTER for an immediate */
    uint8_t reg_width;     /* bytes of the register written (loads) or read (stores) */
    uint8_t high_byte;     /* AH, CH, DH, BH: bits 8-15 of register reg (0-3) */
    uint8_t sign_extend;   /* loads: sign-extend (MOVSX, MOVSXD) rather than zero-extend into reg_width */
    uint8_t byte_swap;     /* MOVBE */
    int64_t immediate;     /* stores of an immediate, sign-extended to 64 bits */
    /* Read-only ALU forms (direction DECODED_LOAD, width = operand width): */
    uint8_t alu;           /* enum decoded_alu; DECODED_ALU_NONE for moves */
    uint8_t memory_first;  /* the memory value is the left operand (CMP r/m, x; TEST) */
    uint8_t writes_register; /* the result goes to `reg` (ADD/OR/AND/... reg, r/m), else flags only */
};

enum decoded_alu {
    DECODED_ALU_NONE = 0, DECODED_ALU_ADD, DECODED_ALU_OR, DECODED_ALU_ADC, DECODED_ALU_SBB,
    DECODED_ALU_AND, DECODED_ALU_SUB, DECODED_ALU_XOR, DECODED_ALU_CMP, DECODED_ALU_TEST,
    DECODED_ALU_INC, DECODED_ALU_DEC, DECODED_ALU_NOT, DECODED_ALU_NEG,
};

/* The result and new RFLAGS (CF, PF, AF, ZF, SF, OF; other bits of `flags` kept) of `alu` on
   `width`-byte operands a and b, as the CPU computes them. */
uint64_t decoded_alu_execute(int alu, int width, uint64_t a, uint64_t b, uint64_t *flags);

enum decode_result {
    DECODE_OK = 0,
    DECODE_UNSUPPORTED_WIDTH = 1,       /* decoded (out is filled) but a width the register model cannot do exactly */
    DECODE_UNSUPPORTED_INSTRUCTION = 2, /* not an instruction the decoder knows (out->length may be 0) */
};

/* Decodes the instruction at `code` (`available` bytes readable, 15 are enough). `reason` gets a
   static text saying why it was refused. */
int decode_access(const uint8_t *code, size_t available, struct decoded_access *out, const char **reason);

#endif
