import DriverPorts
import Reactor
import SystemPackage

/// The reactor side of a driver shell, shared by the receive and transmit drivers: the watch on the
/// interrupt source and the three reusable timers (retry back-off, watchdog, the poll of a core
/// that has not caught up yet: `CoreWait`), created once at the first start. Plain values only, with the reactor passed in, so the per-completion calls through
/// it cost no reference counting.
struct DriverWakeups {
    enum Tag: UInt64 {
        case interrupt, retry, watchdog, poll
    }

    private(set) var watch: WatchID? = nil
    private(set) var retryTimer: TimerID? = nil
    private(set) var watchdogTimer: TimerID? = nil
    private(set) var pollTimer: TimerID? = nil

    /// Makes the timers (once) and watches `readiness` for `target`. epoll refuses some descriptors
    /// (a regular file standing in for /dev/uioN): that is an error, not an interrupt that can
    /// never be seen.
    mutating func open(_ reactor: Reactor, target: ReactorTarget, readiness: ReadinessSource) -> DriverSetupError? {
        if retryTimer == nil {
            retryTimer = reactor.makeTimer(target: target, tag: Tag.retry.rawValue)
            watchdogTimer = reactor.makeTimer(target: target, tag: Tag.watchdog.rawValue)
            pollTimer = reactor.makeTimer(target: target, tag: Tag.poll.rawValue)
        }
        guard watch == nil else { return nil }
        let id = reactor.watch(readiness, for: .read, target: target, tag: Tag.interrupt.rawValue)
        if let errno = reactor.refusal(of: id) {
            return DriverSetupError("cannot watch the interrupt source: epoll refused it (\(Errno(rawValue: errno)))")
        }
        watch = id
        return nil
    }

    /// Stops watching and disarms the retry and watchdog timers (they stay made, for a restart). A
    /// poll in progress goes on: the actions parked behind it (the stop's own DMACR write among
    /// them) still reach the core, in order.
    mutating func close(_ reactor: Reactor) {
        if let watch { reactor.cancel(watch) }
        watch = nil
        if let retryTimer { reactor.disarm(retryTimer) }
        if let watchdogTimer { reactor.disarm(watchdogTimer) }
    }

    @inline(__always)
    func disarmWatchdog(_ reactor: Reactor) {
        if let watchdogTimer { reactor.disarm(watchdogTimer) }
    }

    @inline(__always)
    func armWatchdog(_ reactor: Reactor, after delay: TimeSpan?) {
        if let delay, let watchdogTimer { reactor.arm(watchdogTimer, after: delay) }
    }

    @inline(__always)
    func armRetry(_ reactor: Reactor, after delay: TimeSpan) {
        if let retryTimer { reactor.arm(retryTimer, after: delay) }
    }

    func armPoll(_ reactor: Reactor, after delay: TimeSpan) {
        if let pollTimer { reactor.arm(pollTimer, after: delay) }
    }

    /// The ring, allocated once; the provider is told the driver has started.
    static func allocateRing<Provider: DMABufferProvider>(_ provider: Provider, _ configuration: DriverConfiguration)
        -> Result<[Provider.Buffer], DriverSetupError>
    {
        let result = provider.allocateBuffers(count: configuration.ringSize, byteCount: configuration.bufferBytes)
        if case .success = result { provider.driverStarted() }
        return result
    }

    /// The UIO count now, the baseline for lost-interrupt detection (whatever is pending is stale);
    /// nil when there is nothing to read (EAGAIN: no interrupt since this file's last read).
    static func baseline(_ interrupts: some InterruptSource) -> Int32? {
        if case let .success(count) = interrupts.readEventCount() { return count }
        return nil
    }
}
