/*
 * The emulator's side of the attach transport: the few calls Swift cannot make directly (fork with
 * PR_SET_NO_NEW_PRIVS before exec, futexes, seq_cst atomics on shared memory, SCM_RIGHTS). Each is
 * a thin wrapper; the Swift `Attach` target calls them through its one system-call seam.
 */
#ifndef UIOEMU_ATTACH_HOST_H
#define UIOEMU_ATTACH_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Starts `argv[0]` (searched in PATH when it has no slash) with `envp`, in its own process group,
   with no new privileges. Returns 0 and the pid, or -1 with `*exec_errno` set to why the program
   could not be started (ENOENT for a missing command), reported through a close-on-exec pipe. */
int uioemu_host_spawn(char *const argv[], char *const envp[], pid_t *pid, int *exec_errno);

/* A memfd of `bytes` bytes (zero-filled), close-on-exec; -1 with errno on failure. */
int uioemu_host_memfd(const char *name, uint64_t bytes);

/* accept4 with SOCK_CLOEXEC; -1 when no connection is pending. */
int uioemu_host_accept(int listener);

/* A non-blocking, close-on-exec eventfd. */
int uioemu_host_eventfd(void);

/* pipe2 with O_CLOEXEC, the read end non-blocking. */
int uioemu_host_pipe(int fds[2]);

/* seq_cst load and store of a 32-bit word in shared memory (the mailbox's futex words). */
uint32_t uioemu_host_load(const uint32_t *word);
void uioemu_host_store(uint32_t *word, uint32_t value);
int64_t uioemu_host_load64(const int64_t *word);
void uioemu_host_store64(int64_t *word, int64_t value);

/* FUTEX_WAIT (shared) while `*word == expected`, at most `timeout_ns`. Returns 0 when woken or the
   word differs, -1 with errno (ETIMEDOUT, EINTR) otherwise. */
int uioemu_host_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/* Spins (PAUSE) while `*word == expected`, for at most `spin_ns` of wall time (CLOCK_MONOTONIC,
   read every 32 spins). Returns 1 when the word changed, 0 when the time ran out. The emulator's
   wait for a process's next request: one word, no Swift on the spinning path. */
int uioemu_host_spin_while_equal(const uint32_t *word, uint32_t expected, int64_t spin_ns);

/* The CPU the calling thread runs on, + 1 (0 when not known): the mailbox's `emulator_cpu`. */
int32_t uioemu_host_cpu_plus_one(void);

/* FUTEX_WAKE (shared) on `word`. */
void uioemu_host_futex_wake(uint32_t *word);

/* Sends one SOCK_SEQPACKET packet with up to 4 descriptors (SCM_RIGHTS). Returns bytes sent or -1. */
ssize_t uioemu_host_send(int socket, const void *bytes, size_t count, const int *fds, int fd_count);

/* Receives one packet (MSG_CMSG_CLOEXEC, MSG_DONTWAIT). Returns bytes received, 0 on EOF, -1 with
   errno. `*fd_count` descriptors were received; `*truncated` is 1 when the packet or its control
   data did not fit (extra descriptors are closed). */
ssize_t uioemu_host_receive(int socket, void *bytes, size_t capacity, int *fds, int max_fds, int *fd_count,
                            int *truncated);

#endif
