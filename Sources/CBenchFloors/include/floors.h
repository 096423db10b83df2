// Raw C floors for the reactor benchmarks, measured in the same process as the Swift figures.
// Each returns nanoseconds per operation over `iterations` operations (after a short warm-up),
// or a negative value if the setup failed.
#ifndef UIOEMU_BENCH_FLOORS_H
#define UIOEMU_BENCH_FLOORS_H

#include <stddef.h>

/// Two eventfds, two persistent read events on one precise-timer base: each callback reads its fd and
/// writes the other. One operation = one round trip (two wake-ups).
double floor_eventfd_pingpong_ns(long iterations);

/// An event that calls event_active on itself from its own callback. One operation = one dispatch.
double floor_event_active_ns(long iterations);

/// A timer event that re-adds itself with a zero timeout. One operation = one dispatch.
double floor_zero_timer_ns(long iterations);

/// memcpy of `bytes` between two page-aligned buffers. One operation = one copy.
double floor_memcpy_ns(size_t bytes, long iterations);

/// The fleet's data traffic with nothing else: `channels` rings of `ring` buffers of `bytes` each
/// (allocated together, as the DMA pool holds them); each round fills the next buffer of every
/// channel with a counter pattern and then checks each of them (the emulator's own kernels,
/// CStreamKernels), the order in which the `scale-*` fleet's lock-stepped channels write and
/// verify. One operation = one buffer written and verified; -1 if setup or a check failed.
double floor_ring_stream_ns(int channels, int ring, size_t bytes, long rounds);

/// Writing a file through the page cache with nothing else: `bytes` bytes of JSON-like text into a
/// new file at `path` (created, truncated) in blocks of `block` bytes with write(2), as the trace's
/// JSON-lines file is written, then closed (not synced: the emulator does not sync either). Wall ns
/// for the whole file; -1 if a call failed.
double floor_file_write_ns(const char *path, size_t bytes, size_t block);

/// Wake-up latency of a libevent eventfd read watch: a timer every `interval_us` writes the eventfd
/// with the time, the watch reads it and records now - then. Percentiles in ns of `samples` wake-ups.
int floor_eventfd_latency(long samples, long interval_us, double *p50, double *p99, double *p999);

/// The attach transport's floors: a request and its reply between two processes, written in C with
/// nothing else on the path. One operation = one round trip.
/// Over a SOCK_SEQPACKET socketpair (a 64-byte request, an 8-byte reply), blocking reads.
double floor_unix_socket_round_trip_ns(long iterations);
/// Over a shared page: a sequence word each way, a short spin, then a shared futex (what the attach
/// mailbox does).
double floor_shared_futex_round_trip_ns(long iterations);
/// The same with `spin` iterations before sleeping: 0 is a plain futex round trip (each side sleeps
/// at once), which is what the shared-memory floor is when the two processes share one core.
double floor_shared_futex_round_trip_spin_ns(long iterations, int spin);
/// One trapped load, nothing else: a 4-byte load from a PROT_NONE page, SIGSEGV delivered to a
/// handler that sets the loaded register and steps over the instruction, sigreturn. What every
/// emulated register access pays before any transport (x86-64; -1 elsewhere).
double floor_trapped_load_ns(long iterations);

#endif
