#include "reactor_signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define MAX_REACTORS 64

static volatile sig_atomic_t last_signal = 0;
static volatile unsigned long signal_count = 0;
static volatile int wake_fds[MAX_REACTORS] = {
    [0 ... MAX_REACTORS - 1] = -1,
};
static pthread_mutex_t registration = PTHREAD_MUTEX_INITIALIZER;
static int registered = 0;

static void on_stop_signal(int signo) {
    last_signal = signo;
    signal_count = signal_count + 1;
    for (int i = 0; i < MAX_REACTORS; i++) {
        int fd = wake_fds[i];
        if (fd >= 0) {
            uint64_t one = 1;
            ssize_t ignored = write(fd, &one, sizeof one);
            (void)ignored;
        }
    }
}

int uioemu_stop_signals_register(int wake_fd) {
    pthread_mutex_lock(&registration);
    int slot = -1;
    for (int i = 0; i < MAX_REACTORS; i++) {
        if (wake_fds[i] < 0) {
            slot = i;
            break;
        }
    }
    if (slot >= 0) {
        wake_fds[slot] = wake_fd;
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
    if (wake_fds[slot] >= 0) {
        wake_fds[slot] = -1;
        if (--registered == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
        }
    }
    pthread_mutex_unlock(&registration);
}

unsigned long uioemu_stop_signal_count(void) { return signal_count; }

int uioemu_last_stop_signal(void) { return last_signal; }
