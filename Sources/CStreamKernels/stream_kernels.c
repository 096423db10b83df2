// See include/stream_kernels.h. Each kernel is one plain loop written once (KERNELS below) and
// compiled twice on x86-64: for the baseline ISA and, with the target attribute, for AVX2; a
// constructor picks the variant once from CPUID. The loops are branch-free so the compiler
// vectorises them (32 bytes per instruction with AVX2, 16 with SSE2).
#include "stream_kernels.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE32(x) __builtin_bswap32(x)
#else
#define LE32(x) (x)
#endif

// Memory is reached through these types so that any alignment is allowed.
typedef uint32_t u32_any __attribute__((aligned(1), may_alias));
typedef uint64_t u64_any __attribute__((aligned(1), may_alias));

#define KERNELS(ATTR, SUFFIX)                                                                        \
    ATTR static void fill_counter_##SUFFIX(void *destination, size_t words, uint32_t start) {       \
        u32_any *d = (u32_any *)destination;                                                          \
        for (size_t i = 0; i < words; i++) d[i] = LE32(start + (uint32_t)i);                          \
    }                                                                                                 \
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
    }

KERNELS(, base)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
KERNELS(__attribute__((target("avx2"))), avx2)

static int use_avx2;

__attribute__((constructor)) static void choose_kernels(void) {
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2");
}
#define PICK(name, ...) (use_avx2 ? name##_avx2(__VA_ARGS__) : name##_base(__VA_ARGS__))
#else
#define PICK(name, ...) name##_base(__VA_ARGS__)
#endif

void uioemu_fill_counter(void *destination, size_t words, uint32_t start) {
    PICK(fill_counter, destination, words, start);
}

uint32_t uioemu_counter_difference(const void *data, size_t words, uint32_t start) {
    return PICK(counter_difference, data, words, start);
}

uint64_t uioemu_difference(const void *a, const void *b, size_t count) {
    return PICK(difference, a, b, count);
}
