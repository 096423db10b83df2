// SIGINT/SIGTERM for reactors. The handler only bumps a counter, records the signal number and
// pokes the wake-up fd of every registered reactor, all async-signal-safe. Each reactor keeps the
// counter value it has seen, so every reactor notices every signal once, however many run (tests
// run several at a time): nothing is consumed on another's behalf.
#ifndef UIOEMU_REACTOR_SIGNALS_H
#define UIOEMU_REACTOR_SIGNALS_H

/// Registers `wake_fd` (an eventfd) to be written on each stop signal; the first registration
/// installs the handler for SIGINT and SIGTERM. Returns a registration slot, or -1 if full.
int uioemu_stop_signals_register(int wake_fd);
/// Forgets a registration; the last one restores the default dispositions.
void uioemu_stop_signals_unregister(int slot);
/// How many stop signals have arrived since the process started.
unsigned long uioemu_stop_signal_count(void);
/// The last stop signal received (0 if none).
int uioemu_last_stop_signal(void);

#endif
