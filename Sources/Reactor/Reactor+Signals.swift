import Glibc
import CLibevent
import CReactorSignals

/// SIGINT/SIGTERM stop the loop cleanly: `run()` returns after the current callback, with
/// `stoppedBySignal` set, so the caller can still write its summary and traces.
extension Reactor {
    /// Turns stop-signal handling on or off for this reactor. The handler only records the signal
    /// (checked once per turn, no system call in virtual time) and pokes an eventfd, so a loop that is
    /// blocked in libevent wakes up too.
    /// A stop signal that arrived since this reactor last looked, outside any run: a caller that runs
    /// several reactors one after the other (`play`) keeps one handling signals throughout and asks
    /// it between runs, so a signal in between is not lost. Nil without signal handling.
    public func takeStopSignal() -> Int32? {
        guard core.pointee.watchingSignals, noticeStopSignal() else { return nil }
        core.pointee.stopRequested = false
        return stoppedBySignal
    }

    /// `since`: a reactor that has handled signals for longer (`play`'s, across scenarios); this one
    /// also notices a signal that came after that one last looked, before this one started watching.
    public func handleStopSignals(_ enabled: Bool = true, since earlier: Reactor? = nil) {
        if enabled {
            guard !core.pointee.watchingSignals else { return }
            signalWakeFD = uioemu_eventfd(0, uioemu_efd_nonblock() | uioemu_efd_cloexec())
            precondition(signalWakeFD >= 0, "eventfd failed: errno \(errno)")
            signalWakeEvent = event_new(base, signalWakeFD, Int16(EV_READ | EV_PERSIST), reactorTrampoline, signalContext)
            event_add(signalWakeEvent, nil)
            signalsSeen = earlier.map { $0.core.pointee.watchingSignals ? $0.signalsSeen : uioemu_stop_signal_count() } ?? uioemu_stop_signal_count()
            signalRegistration = uioemu_stop_signals_register(signalWakeFD)
            precondition(signalRegistration >= 0, "more than 64 reactors handle stop signals at once")
            core.pointee.watchingSignals = true
        } else {
            guard core.pointee.watchingSignals else { return }
            // Unregister before closing, so the handler never writes to a closed (or reused) fd.
            uioemu_stop_signals_unregister(signalRegistration)
            signalRegistration = -1
            if let signalWakeEvent { event_free(signalWakeEvent) }
            signalWakeEvent = nil
            close(signalWakeFD)
            signalWakeFD = -1
            core.pointee.watchingSignals = false
        }
    }
}
