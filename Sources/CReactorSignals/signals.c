#include "reactor_signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define MAX_REACTORS 64

// Lock-free atomics, not volatile: the handler runs on whichever thread the signal lands on and the
// reactors read on theirs (ThreadSanitizer reported the volatile versions as data races). Lock-free
// atomic operations are async-signal-safe.
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2, "the handler needs lock-free atomics");
static _Atomic int last_signal = 0;
static _Atomic unsigned long signal_count = 0;
static _Atomic int wake_fds[MAX_REACTORS] = {
    [0 ... MAX_REACTORS - 1] = -1,
};
static pthread_mutex_t registration = PTHREAD_MUTEX_INITIALIZER;
static int registered = 0;

static void on_stop_signal(int signo) {
    int saved_errno = errno;  // write() below may change it under whatever the thread was doing
    atomic_store_explicit(&last_signal, signo, memory_order_relaxed);
    atomic_fetch_add_explicit(&signal_count, 1, memory_order_release);
    for (int i = 0; i < MAX_REACTORS; i++) {
        int fd = atomic_load_explicit(&wake_fds[i], memory_order_acquire);
        if (fd >= 0) {
            uint64_t one = 1;
            ssize_t ignored = write(fd, &one, sizeof one);
            (void)ignored;
        }
    }
    errno = saved_errno;
}

int uioemu_stop_signals_register(int wake_fd) {
    pthread_mutex_lock(&registration);
    int slot = -1;
    for (int i = 0; i < MAX_REACTORS; i++) {
        if (atomic_load_explicit(&wake_fds[i], memory_order_relaxed) < 0) {
            slot = i;
            break;
        }
    }
    if (slot >= 0) {
        atomic_store_explicit(&wake_fds[slot], wake_fd, memory_order_release);
        if (registered++ == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_stop_signal;
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_RESTART;
            sigaction(SIGINT, &sa, 0);
            sigaction(SIGTERM, &sa, 0);
        }
    }
    pthread_mutex_unlock(&registration);
    return slot;
}

void uioemu_stop_signals_unregister(int slot) {
    if (slot < 0 || slot >= MAX_REACTORS) return;
    pthread_mutex_lock(&registration);
    if (atomic_load_explicit(&wake_fds[slot], memory_order_relaxed) >= 0) {
        atomic_store_explicit(&wake_fds[slot], -1, memory_order_release);
        if (--registered == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
        }
    }
    pthread_mutex_unlock(&registration);
}

unsigned long uioemu_stop_signal_count(void) { return atomic_load_explicit(&signal_count, memory_order_acquire); }

int uioemu_last_stop_signal(void) { return atomic_load_explicit(&last_signal, memory_order_relaxed); }
