// The byte loops of stream patterns (Devices/Streams): writing counter and PRBS-31 patterns into
// memory and checking memory against a counter, PRBS-31 or a reference: the S2MM and consumer hot
// path. In C so that on x86-64 they use AVX2 or AVX-512 where the CPU has them (chosen once at
// load time) while the Swift code stays built for the baseline ISA; elsewhere they are the same
// plain loops.
#ifndef UIOEMU_STREAM_KERNELS_H
#define UIOEMU_STREAM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Writes `words` little-endian 32-bit words `start`, `start + 1`, … (wrapping) at `destination`
/// (any alignment).
void uioemu_fill_counter(void *destination, size_t words, uint32_t start);

/// The OR of (little-endian word i of `data`) XOR (`start` + i) over `words` words: 0 exactly when
/// `data` holds the counter words from `start`.
uint32_t uioemu_counter_difference(const void *data, size_t words, uint32_t start);

/// The OR of the XOR of `a` and `b`, 8 bytes at a time over the first `count` & ~7 bytes: 0 exactly
/// when those bytes are equal.
uint64_t uioemu_difference(const void *a, const void *b, size_t count);

/// PRBS-31 (x[n] = x[n-31] ^ x[n-28], stream bit k = bit k % 32 of little-endian 32-bit word k / 32)
/// continued in place: words 32 … `words` − 1 of `buffer` from the words before them, of which
/// the first 32 must hold the stream already. The sequence also satisfies the recurrences of the
/// polynomial raised to the powers 2^5 and 2^10 (x[n] = x[n-992] ^ x[n-896], and 32 times that),
/// whose terms lie whole words back, so words come from earlier words with one XOR, no bit steps;
/// past word 992 the terms are far enough back for the loop to vectorise.
void uioemu_prbs31_extend(void *buffer, size_t words);

/// The OR, over the `words` little-endian 64-bit words of `data`, of each stream bit XOR the two
/// bits the PRBS-31 recurrence makes it from (31 and 28 back); bits before `data` come from
/// `previous`, the 64 stream bits just before it (only its top 31 bits are used). 0 exactly when
/// `data` continues, bit for bit, the PRBS-31 stream whose last 31 bits are the top of `previous`.
uint64_t uioemu_prbs31_difference(const void *data, size_t words, uint64_t previous);

/// Uses at most `at_most` from now on (0: baseline, 1: AVX2, 2: AVX-512), never more than the CPU
/// has; returns the level in effect. For tests: every level computes the same results.
int uioemu_stream_kernels_use(int at_most);

/// What the CPU has (0: baseline, 1: AVX2, 2: AVX-512 F+VL): the highest level `use` can choose.
int uioemu_stream_kernels_detected(void);

#endif
