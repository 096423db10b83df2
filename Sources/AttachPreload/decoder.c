/*
 * The x86-64 instruction decoder (decoder.h): Intel SDM vol. 2, chapter 2 (instruction format) and
 * the MOV, MOVZX, MOVSX/MOVSXD and MOVBE pages.
 */
#include "decoder.h"

#include <string.h>

/* Bytes after the opcode taken by ModRM, SIB and displacement; -1 when more bytes are needed than
   available or the form has no memory operand. */
static int modrm_length(const uint8_t *p, size_t available, const char **reason)
{
    if (available < 1) {
        *reason = "truncated instruction (no ModRM byte)";
        return -1;
    }
    uint8_t modrm = p[0];
    int mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3) {
        *reason = "a register-only form (no memory operand)";
        return -1;
    }
    int length = 1;
    if (rm == 4) { /* SIB */
        if (available < 2) {
            *reason = "truncated instruction (no SIB byte)";
            return -1;
        }
        uint8_t sib = p[1];
        length++;
        if (mod == 0 && (sib & 7) == 5) length += 4; /* no base: disp32 */
    } else if (mod == 0 && rm == 5) {
        length += 4; /* RIP-relative disp32 */
    }
    if (mod == 1) length += 1;
    if (mod == 2) length += 4;
    if ((size_t)length > available) {
        *reason = "truncated instruction (displacement)";
        return -1;
    }
    return length;
}

static int64_t read_signed(const uint8_t *p, int bytes)
{
    switch (bytes) {
    case 1: return (int8_t)p[0];
    case 2: { int16_t v; memcpy(&v, p, 2); return v; }
    default: { int32_t v; memcpy(&v, p, 4); return v; }
    }
}

int decode_access(const uint8_t *code, size_t available, struct decoded_access *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    *reason = "";
    size_t i = 0;
    int operand16 = 0, address32 = 0;
    uint8_t rex = 0;
    /* legacy prefixes, in any order */
    for (;; i++) {
        if (i >= available || i >= 14) {
            *reason = "truncated instruction (prefixes)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        uint8_t b = code[i];
        if (b == 0x66) operand16 = 1;
        else if (b == 0x67) address32 = 1;
        else if (b == 0xF2 || b == 0xF3) continue; /* no meaning for MOV; MOVBE with F2 is CRC32, checked below */
        else if (b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65) continue;
        else if (b == 0xF0) {
            *reason = "a LOCK-prefixed (atomic read-modify-write) instruction";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        } else break;
    }
    int has_f2 = memchr(code, 0xF2, i) != NULL;
    if (i < available && (code[i] & 0xF0) == 0x40) rex = code[i++];
    if (i >= available) {
        *reason = "truncated instruction (opcode)";
        return DECODE_UNSUPPORTED_INSTRUCTION;
    }
    int w = (rex >> 3) & 1, r = (rex >> 2) & 1;
    int operand_width = w ? 8 : operand16 ? 2 : 4;
    uint8_t op = code[i++];
    int direction = 0, width = 0, reg_width = 0, sign = 0, swap = 0, imm_bytes = 0, needs_modrm = 1;
    int reg_from_modrm = 1;
    int alu = 0, memory_first = 0, writes_register = 0, group = -1; /* group: ModRM.reg must be this */

    /* Read-only ALU forms: op reg, r/m (a load into an operation) and CMP/TEST with memory first. */
    if (op < 0x40 && (op & 7) >= 2 && (op & 7) <= 3) {
        static const uint8_t ops[8] = { DECODED_ALU_ADD, DECODED_ALU_OR, DECODED_ALU_ADC, DECODED_ALU_SBB,
                                        DECODED_ALU_AND, DECODED_ALU_SUB, DECODED_ALU_XOR, DECODED_ALU_CMP };
        alu = ops[op >> 3];
        writes_register = alu != DECODED_ALU_CMP;
    } else if (op == 0x38 || op == 0x39) {
        alu = DECODED_ALU_CMP, memory_first = 1;
    } else if (op == 0x84 || op == 0x85) {
        alu = DECODED_ALU_TEST, memory_first = 1;
    } else if (op == 0x80 || op == 0x81 || op == 0x83) {
        alu = DECODED_ALU_CMP, memory_first = 1, group = 7, reg_from_modrm = 0;
        imm_bytes = op == 0x81 ? (operand16 ? 2 : 4) : 1;
    } else if (op == 0xF6 || op == 0xF7) {
        alu = DECODED_ALU_TEST, memory_first = 1, group = 0, reg_from_modrm = 0;
        imm_bytes = op == 0xF7 ? (operand16 ? 2 : 4) : 1;
    }
    static const uint8_t group1[8] = { DECODED_ALU_ADD, DECODED_ALU_OR, DECODED_ALU_ADC, DECODED_ALU_SBB,
                                       DECODED_ALU_AND, DECODED_ALU_SUB, DECODED_ALU_XOR, DECODED_ALU_CMP };
    int rmw = 0;
    if (op < 0x38 && (op & 7) <= 1) { /* op r/m, reg with a memory destination */
        alu = group1[op >> 3], rmw = 1, memory_first = 1;
    } else if ((op == 0x80 || op == 0x81 || op == 0x83) && i < available && ((code[i] >> 3) & 7) != 7) {
        alu = group1[(code[i] >> 3) & 7], rmw = 1, memory_first = 1, reg_from_modrm = 0;
        imm_bytes = op == 0x81 ? (operand16 ? 2 : 4) : 1;
    } else if ((op == 0xFE || op == 0xFF) && i < available && ((code[i] >> 3) & 7) <= 1) {
        alu = ((code[i] >> 3) & 7) == 0 ? DECODED_ALU_INC : DECODED_ALU_DEC, rmw = 1, memory_first = 1, reg_from_modrm = 0;
    } else if ((op == 0xF6 || op == 0xF7) && i < available && (((code[i] >> 3) & 7) == 2 || ((code[i] >> 3) & 7) == 3)) {
        alu = ((code[i] >> 3) & 7) == 2 ? DECODED_ALU_NOT : DECODED_ALU_NEG, rmw = 1, memory_first = 1, reg_from_modrm = 0;
        imm_bytes = 0;
    }
    if (rmw) {
        direction = DECODED_READ_MODIFY_WRITE;
        width = reg_width = (op & 1) || op == 0x83 ? operand_width : 1;
        goto operands;
    }
    if (alu) {
        direction = DECODED_LOAD;
        width = reg_width = (op & 1) || op == 0x83 ? operand_width : 1;
        if (i < available && group >= 0 && ((code[i] >> 3) & 7) != group) {
            *reason = op == 0xF6 || op == 0xF7 ? "a unary instruction (NOT/NEG/MUL/DIV) with a memory operand"
                                               : "an arithmetic read-modify-write instruction with a memory destination";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        goto operands;
    }

    switch (op) {
    case 0x88: direction = DECODED_STORE; width = reg_width = 1; break;
    case 0x89: direction = DECODED_STORE; width = reg_width = operand_width; break;
    case 0x8A: direction = DECODED_LOAD; width = reg_width = 1; break;
    case 0x8B: direction = DECODED_LOAD; width = reg_width = operand_width; break;
    case 0xC6: direction = DECODED_STORE; width = 1; imm_bytes = 1; reg_from_modrm = 0; break;
    case 0xC7: direction = DECODED_STORE; width = operand_width; imm_bytes = operand16 ? 2 : 4; reg_from_modrm = 0; break;
    case 0x63:
        direction = DECODED_LOAD;
        reg_width = operand_width;
        width = w ? 4 : operand_width; /* without REX.W MOVSXD is a plain 16/32-bit move */
        sign = w;
        break;
    case 0xA0: case 0xA1: case 0xA2: case 0xA3: {
        direction = (op & 2) ? DECODED_STORE : DECODED_LOAD;
        width = reg_width = (op & 1) ? operand_width : 1;
        needs_modrm = 0;
        size_t offset_bytes = address32 ? 4 : 8;
        if (i + offset_bytes > available) {
            *reason = "truncated instruction (moffs)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        i += offset_bytes;
        out->reg = 0; /* AL/AX/EAX/RAX */
        reg_from_modrm = 0;
        break;
    }
    case 0x0F: {
        if (i >= available) {
            *reason = "truncated instruction (0F opcode)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        uint8_t op2 = code[i++];
        if (op2 == 0xB6 || op2 == 0xB7 || op2 == 0xBE || op2 == 0xBF) {
            direction = DECODED_LOAD;
            width = (op2 & 1) ? 2 : 1;
            reg_width = operand_width;
            sign = op2 >= 0xBE;
        } else if (op2 == 0x38 && i < available && (code[i] == 0xF0 || code[i] == 0xF1)) {
            if (has_f2) {
                *reason = "CRC32 (F2 0F 38 F0/F1), not a move";
                return DECODE_UNSUPPORTED_INSTRUCTION;
            }
            direction = code[i] == 0xF0 ? DECODED_LOAD : DECODED_STORE;
            i++;
            width = reg_width = operand_width;
            swap = 1;
        } else {
            *reason = "an instruction the register trap does not decode (two-byte opcode 0F: SIMD, bit test or other)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        break;
    }
    case 0xC4: case 0xC5: case 0x62:
        *reason = "a VEX/EVEX (AVX) instruction";
        return DECODE_UNSUPPORTED_INSTRUCTION;
    case 0xA4: case 0xA5: case 0xAA: case 0xAB: case 0xAC: case 0xAD:
        *reason = "a string instruction (MOVS/STOS/LODS)";
        return DECODE_UNSUPPORTED_INSTRUCTION;
    default:
        if (op < 0x40 && (op & 7) < 4) *reason = "an arithmetic or compare instruction with a memory operand (read-modify-write or compare on a register)";
        else if (op >= 0x80 && op <= 0x87) *reason = "an arithmetic, compare, TEST or XCHG instruction with a memory operand";
        else if (op == 0xF6 || op == 0xF7 || op == 0xFE || op == 0xFF || (op >= 0xD0 && op <= 0xD3) || op == 0xC0 || op == 0xC1)
            *reason = "a unary, shift, TEST or INC/DEC instruction with a memory operand";
        else *reason = "an instruction the register trap does not decode";
        return DECODE_UNSUPPORTED_INSTRUCTION;
    }

operands:
    if (needs_modrm) {
        const char *why;
        int n = modrm_length(code + i, available - i, &why);
        if (n < 0) {
            *reason = why;
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        uint8_t modrm = code[i];
        int modrm_reg = (modrm >> 3) & 7;
        if (!reg_from_modrm && !alu && modrm_reg != 0) {
            *reason = "C6/C7 with a ModRM.reg other than 0 (not MOV)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        if (reg_from_modrm) out->reg = (uint8_t)(modrm_reg | (r << 3));
        i += (size_t)n;
    }
    if (imm_bytes) {
        if (i + (size_t)imm_bytes > available) {
            *reason = "truncated instruction (immediate)";
            return DECODE_UNSUPPORTED_INSTRUCTION;
        }
        out->immediate = read_signed(code + i, imm_bytes);
        i += (size_t)imm_bytes;
        out->reg = DECODED_NO_REGISTER;
        reg_width = 0;
    }
    if (i > 15) {
        *reason = "longer than 15 bytes";
        return DECODE_UNSUPPORTED_INSTRUCTION;
    }
    out->length = (uint8_t)i;
    out->width = (uint8_t)width;
    out->direction = (uint8_t)direction;
    out->reg_width = (uint8_t)reg_width;
    out->sign_extend = (uint8_t)sign;
    out->byte_swap = (uint8_t)swap;
    if (rmw && !reg_from_modrm && !imm_bytes) out->reg = DECODED_NO_REGISTER, out->reg_width = 0;
    out->alu = (uint8_t)alu;
    out->memory_first = (uint8_t)memory_first;
    out->writes_register = (uint8_t)writes_register;
    if (alu && out->reg == DECODED_NO_REGISTER) reg_width = 0;
    /* AH, CH, DH, BH: byte registers 4-7 without any REX prefix. */
    if (reg_width == 1 && rex == 0 && out->reg >= 4 && out->reg <= 7) {
        out->reg -= 4;
        out->high_byte = 1;
    }
    if ((direction == DECODED_STORE || direction == DECODED_READ_MODIFY_WRITE) && width < 4) {
        *reason = width == 1 ? "a 1-byte store to a 32-bit register (cannot be done exactly)"
                             : "a 2-byte store to a 32-bit register (cannot be done exactly)";
        return DECODE_UNSUPPORTED_WIDTH;
    }
    return DECODE_OK;
}

static int parity_even(uint64_t v)
{
    uint8_t b = (uint8_t)v;
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return !(b & 1);
}

uint64_t decoded_alu_execute(int alu, int width, uint64_t a, uint64_t b, uint64_t *flags)
{
    const uint64_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7, OF = 1u << 11;
    int bits = 8 * width;
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1, sign = 1ull << (bits - 1);
    a &= mask;
    b &= mask;
    uint64_t carry_in = *flags & CF ? 1 : 0;
    uint64_t result = 0, f = 0;
    switch (alu) {
    case DECODED_ALU_ADD:
    case DECODED_ALU_ADC: {
        uint64_t c = alu == DECODED_ALU_ADC ? carry_in : 0;
        result = (a + b + c) & mask;
        if (result < a || (c && result == a)) f |= CF;
        if ((a ^ result) & (b ^ result) & sign) f |= OF;
        if ((a ^ b ^ result) & 0x10) f |= AF;
        break;
    }
    case DECODED_ALU_SUB:
    case DECODED_ALU_SBB:
    case DECODED_ALU_CMP: {
        uint64_t c = alu == DECODED_ALU_SBB ? carry_in : 0;
        result = (a - b - c) & mask;
        if (a < b || (c && a == b)) f |= CF;
        if ((a ^ b) & (a ^ result) & sign) f |= OF;
        if ((a ^ b ^ result) & 0x10) f |= AF;
        break;
    }
    case DECODED_ALU_OR: result = a | b; break;
    case DECODED_ALU_AND:
    case DECODED_ALU_TEST: result = a & b; break;
    case DECODED_ALU_XOR: result = a ^ b; break;
    case DECODED_ALU_INC:
    case DECODED_ALU_DEC: { /* like ADD/SUB 1, but CF is kept */
        uint64_t keep = *flags & CF;
        result = decoded_alu_execute(alu == DECODED_ALU_INC ? DECODED_ALU_ADD : DECODED_ALU_SUB, width, a, 1, flags);
        *flags = (*flags & ~CF) | keep;
        return result;
    }
    case DECODED_ALU_NOT: return ~a & mask; /* no flags */
    case DECODED_ALU_NEG: return decoded_alu_execute(DECODED_ALU_SUB, width, 0, a, flags);
    default: return a;
    }
    if (result == 0) f |= ZF;
    if (result & sign) f |= SF;
    if (parity_even(result)) f |= PF;
    *flags = (*flags & ~(CF | PF | AF | ZF | SF | OF)) | f;
    return result;
}
