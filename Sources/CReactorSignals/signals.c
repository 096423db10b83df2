#include "reactor_signals.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal = 0;
static volatile int wake_fd_for_signal = -1;

static void on_stop_signal(int signo) {
    stop_signal = signo;
    int fd = wake_fd_for_signal;
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t ignored = write(fd, &one, sizeof one);
        (void)ignored;
    }
}

int uioemu_install_stop_signals(int wake_fd) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    wake_fd_for_signal = wake_fd;
    if (sigaction(SIGINT, &sa, 0) != 0) return -1;
    if (sigaction(SIGTERM, &sa, 0) != 0) return -1;
    return 0;
}

void uioemu_remove_stop_signals(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    wake_fd_for_signal = -1;
}

int uioemu_take_stop_signal(void) {
    int s = stop_signal;
    stop_signal = 0;
    return s;
}

int uioemu_peek_stop_signal(void) { return stop_signal; }
