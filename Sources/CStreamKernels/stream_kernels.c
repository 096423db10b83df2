// See include/stream_kernels.h. Each kernel is one plain loop written once (the *_KERNELS macros)
// and compiled up to three times on x86-64: for the baseline ISA and, with the target attribute,
// for AVX2 and for AVX-512 (F+VL); a constructor picks the variant once from CPUID. The loops are
// branch-free so the compiler vectorises them (16 bytes per instruction with SSE2, 32 with AVX2).
#include "stream_kernels.h"

#include <stdatomic.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE32(x) __builtin_bswap32(x)
#define LE64(x) __builtin_bswap64(x)
#else
#define LE32(x) (x)
#define LE64(x) (x)
#endif

// Memory is reached through these types so that any alignment is allowed.
typedef uint32_t u32_any __attribute__((aligned(1), may_alias));
typedef uint64_t u64_any __attribute__((aligned(1), may_alias));

#define FILL_KERNELS(ATTR, SUFFIX)                                                                   \
    ATTR static void fill_counter_##SUFFIX(void *destination, size_t words, uint32_t start) {       \
        u32_any *d = (u32_any *)destination;                                                          \
        for (size_t i = 0; i < words; i++) d[i] = LE32(start + (uint32_t)i);                          \
    }

#define FILL_KERNELS_PRBS(ATTR, SUFFIX)                                                              \
    ATTR static void prbs31_extend_##SUFFIX(void *buffer, size_t words) {                            \
        u32_any *d = (u32_any *)buffer;                                                               \
        u64_any *d64 = (u64_any *)buffer;                                                             \
        size_t near = words < 992 ? words : 992;                                                      \
        size_t k = 32;                                                                                \
        /* Up to word 992: x[n] = x[n-992] ^ x[n-896] in 64-bit words, from 14 to 16 words back. */ \
        for (; k + 2 <= near; k += 2)                                                                 \
            d64[k / 2] = LE64(LE64(d64[k / 2 - 14]) ^ (LE64(d64[k / 2 - 16]) >> 32 | LE64(d64[k / 2 - 15]) << 32)); \
        /* Then (and for an odd last word) the same in 32-bit words: 31 and 28 back. */              \
        for (; k < near; k++) d[k] = LE32(LE32(d[k - 31]) ^ LE32(d[k - 28]));                         \
        /* From word 992 on, x[n] = x[n-31744] ^ x[n-28672]: 992 and 896 words back, far enough  */ \
        /* for the loop to vectorise and for its loads never to wait on recent stores.          */ \
        for (; k < words; k++) d[k] = d[k - 992] ^ d[k - 896];                                        \
    }

#define CHECK_KERNELS(ATTR, SUFFIX)                                                                  \
    ATTR static uint32_t counter_difference_##SUFFIX(const void *data, size_t words, uint32_t start) { \
        const u32_any *p = (const u32_any *)data;                                                     \
        uint32_t difference = 0;                                                                      \
        for (size_t i = 0; i < words; i++) difference |= p[i] ^ LE32(start + (uint32_t)i);           \
        return difference;                                                                            \
    }                                                                                                 \
    ATTR static uint64_t difference_##SUFFIX(const void *a, const void *b, size_t count) {           \
        const u64_any *pa = (const u64_any *)a, *pb = (const u64_any *)b;                             \
        uint64_t difference = 0;                                                                      \
        for (size_t i = 0; i < count / 8; i++) difference |= pa[i] ^ pb[i];                           \
        return difference;                                                                            \
    }                                                                                                 \
    ATTR static uint64_t prbs31_difference_##SUFFIX(const void *data, size_t words, uint64_t previous) { \
        const u64_any *d = (const u64_any *)data;                                                     \
        uint64_t difference = 0;                                                                      \
        if (words == 0) return 0;                                                                     \
        uint64_t first = LE64(d[0]);                                                                  \
        difference |= first ^ (first << 31 | previous >> 33) ^ (first << 28 | previous >> 36);       \
        for (size_t m = 1; m < words; m++) {                                                          \
            uint64_t w = LE64(d[m]), p = LE64(d[m - 1]);                                              \
            difference |= w ^ (w << 31 | p >> 33) ^ (w << 28 | p >> 36);                             \
        }                                                                                             \
        return difference;                                                                            \
    }

FILL_KERNELS(, base)
FILL_KERNELS_PRBS(, base)
CHECK_KERNELS(, base)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define AVX2 __attribute__((target("avx2")))
#define AVX512 __attribute__((target("avx2,avx512f,avx512vl")))
FILL_KERNELS(AVX2, avx2)
FILL_KERNELS_PRBS(AVX2, avx2)
CHECK_KERNELS(AVX2, avx2)
// AVX-512 VL gives the checks a three-input logic instruction (XOR and OR in one), which halves
// their cost (measured here: 64 KiB checked in 257 ns instead of 523 with AVX2). The fill stays on
// AVX2: the compiler makes 512-bit stores of it, measured slower (484 ns per 64 KiB against 270).
CHECK_KERNELS(AVX512, avx512)

/// What the CPU has (2: AVX-512 F+VL, 1: AVX2, 0: baseline) and what is used (lowered by tests).
static int detected;
static _Atomic int level;

__attribute__((constructor)) static void choose_kernels(void) {
    __builtin_cpu_init();
    detected = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    atomic_store_explicit(&level, detected, memory_order_relaxed);
}

int uioemu_stream_kernels_use(int at_most) {
    int chosen = at_most < detected ? at_most : detected;
    atomic_store_explicit(&level, chosen, memory_order_relaxed);
    return chosen;
}
int uioemu_stream_kernels_detected(void) { return detected; }
#define LEVEL atomic_load_explicit(&level, memory_order_relaxed)
#define PICK_FILL(name, ...) (LEVEL >= 1 ? name##_avx2(__VA_ARGS__) : name##_base(__VA_ARGS__))
#define PICK(name, ...) (LEVEL == 2 ? name##_avx512(__VA_ARGS__) : LEVEL == 1 ? name##_avx2(__VA_ARGS__) : name##_base(__VA_ARGS__))
#else
int uioemu_stream_kernels_use(int at_most) { (void)at_most; return 0; }
int uioemu_stream_kernels_detected(void) { return 0; }
#define PICK_FILL(name, ...) name##_base(__VA_ARGS__)
#define PICK(name, ...) name##_base(__VA_ARGS__)
#endif

void uioemu_fill_counter(void *destination, size_t words, uint32_t start) {
    PICK_FILL(fill_counter, destination, words, start);
}

uint32_t uioemu_counter_difference(const void *data, size_t words, uint32_t start) {
    return PICK(counter_difference, data, words, start);
}

uint64_t uioemu_difference(const void *a, const void *b, size_t count) {
    return PICK(difference, a, b, count);
}

void uioemu_prbs31_extend(void *buffer, size_t words) {
    PICK_FILL(prbs31_extend, buffer, words);
}

uint64_t uioemu_prbs31_difference(const void *data, size_t words, uint64_t previous) {
    return PICK(prbs31_difference, data, words, previous);
}
