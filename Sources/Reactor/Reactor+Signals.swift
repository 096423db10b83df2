import Glibc
import CLibevent
import CReactorSignals

/// SIGINT/SIGTERM stop the loop cleanly: `run()` returns after the current callback, with
/// `stoppedBySignal` set, so the caller can still write its summary and traces.
extension Reactor {
    /// Turns stop-signal handling on or off for this reactor. The handler only records the signal
    /// (checked once per turn, no system call in virtual time) and pokes an eventfd, so a loop that is
    /// blocked in libevent wakes up too.
    public func handleStopSignals(_ enabled: Bool = true) {
        if enabled {
            guard !core.pointee.watchingSignals else { return }
            signalWakeFD = uioemu_eventfd(0, uioemu_efd_nonblock() | uioemu_efd_cloexec())
            precondition(signalWakeFD >= 0, "eventfd failed: errno \(errno)")
            signalWakeEvent = event_new(base, signalWakeFD, Int16(EV_READ | EV_PERSIST), reactorTrampoline, signalContext)
            event_add(signalWakeEvent, nil)
            _ = uioemu_take_stop_signal()
            uioemu_install_stop_signals(signalWakeFD)
            core.pointee.watchingSignals = true
        } else {
            guard core.pointee.watchingSignals else { return }
            uioemu_remove_stop_signals()
            if let signalWakeEvent { event_free(signalWakeEvent) }
            signalWakeEvent = nil
            close(signalWakeFD)
            signalWakeFD = -1
            core.pointee.watchingSignals = false
        }
    }
}
