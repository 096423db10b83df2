// SIGINT/SIGTERM for the reactor: the handler only stores the signal number and pokes a wake-up fd,
// both async-signal-safe. The reactor checks the flag once per loop turn (virtual time makes no
// system call for this) and watches the wake-up fd when it blocks in libevent.
#ifndef UIOEMU_REACTOR_SIGNALS_H
#define UIOEMU_REACTOR_SIGNALS_H

/// Installs the handler for SIGINT and SIGTERM. `wake_fd` (an eventfd, or -1) is written on each signal.
int uioemu_install_stop_signals(int wake_fd);
/// Restores the default dispositions and forgets the wake-up fd.
void uioemu_remove_stop_signals(void);
/// The last stop signal received (0 if none), cleared by the call.
int uioemu_take_stop_signal(void);
/// The last stop signal received (0 if none), left in place.
int uioemu_peek_stop_signal(void);

#endif
