/// The state and the bookkeeping both direct-register-mode machines share, and the inputs they
/// handle alike, written once: where the driver is (`DriverState`), the counters, the UIO count
/// last read, the errors since the last good transfer and the transfer numbers. An interrupt is
/// triaged by the state (PG021 DMASR, the UIO rules), an error resets the core and schedules a
/// bounded retry, the retry timer re-programs the core, the watchdog turns a stalled transfer into
/// an error, stop halts the engine. Each machine does the rest of an input itself: what its
/// direction does with a completion, with the transfer an error ended, and with a retry.
///
/// A concrete struct, generic only over the action type: the machines call it directly, so even
/// an unoptimised build allocates nothing per completion.
struct DriverCore: Sendable {
    var state = DriverState.stopped
    var metrics = DriverMetrics()
    let maxRetries: Int
    private var eventCounts = EventCountTracker()
    /// Errors since the last good completion (it spans running and recovering: a failure right after
    /// a recovery keeps counting toward `maxRetries`).
    private(set) var errorsInARow = 0
    private var transfers: UInt64 = 0
    /// The planted bugs `ignoreErrorBits` and `noReenableAfterError`: tested only once an error bit
    /// is set, off the per-completion path.
    private let ignoresErrorBits: Bool
    private let reenablesAfterError: Bool

    init(maxRetries: Int, plantedBug: PlantedBug? = nil) {
        self.maxRetries = maxRetries
        ignoresErrorBits = plantedBug == .ignoreErrorBits
        reenablesAfterError = plantedBug != .noReenableAfterError
    }

    /// What an interrupt leaves to the machine.
    enum Triage: Equatable {
        /// Handled completely (the actions end with the re-enable where one is due).
        case handled
        /// An error bit is set while running, with the transfer `active` (nil: none): the cause is
        /// already cleared; the machine abandons the transfer and calls `fail`.
        case error(DriverError, active: Int?)
        /// IOC for the transfer in `slot`. The cause is cleared; the re-enable is still to come.
        case completed(slot: Int)
    }

    /// The first half of an interrupt: count the interrupts the UIO count says were missed, drop a
    /// spurious one (no cause in DMASR) with only a re-enable, write the cause back (W1C) before
    /// anything else touches the engine, leave a late one alone while recovering or failed
    /// (re-enabling while recovering), and sort the rest.
    /// `reapOnDelay`: a scatter-gather driver reaps on Dly_Irq as on IOC_Irq (the delay timer says
    /// completed descriptors wait below the coalescing threshold); both are counted.
    @inline(__always)
    mutating func interrupt<Action: ChannelActions>(eventCount: Int32, status: UInt32, reapOnDelay: Bool = false,
                                                    _ actions: inout ActionList<Action>) -> Triage {
        switch state {
        case let .running(active):
            guard clearCause(eventCount: eventCount, status: status, &actions) else { return .handled }
            if let error = DriverError.from(status: status), !ignoresErrorBits { return .error(error, active: active) }
            if reapOnDelay {
                if status & AXIDMAHeader.Dly_Irq != 0 { metrics.delayInterrupts += 1 }
                if let active { return .completed(slot: active) }
                metrics.unexpectedCompletions += 1
            } else if status & AXIDMAHeader.IOC_Irq == 0 {
                metrics.delayInterrupts += 1
            } else if let active {
                return .completed(slot: active)
            } else {
                metrics.unexpectedCompletions += 1
            }
            actions.append(.enableInterrupt)
        case .recovering, .failed, .stopped:
            lateInterrupt(eventCount: eventCount, status: status, &actions)
        }
        return .handled
    }

    /// An interrupt while not running (out of line: the per-completion path stays small).
    @inline(never)
    private mutating func lateInterrupt<Action: ChannelActions>(eventCount: Int32, status: UInt32, _ actions: inout ActionList<Action>) {
        switch state {
        case .recovering:
            // From before the reset: cause cleared, and re-enabled for the retried transfer.
            if clearCause(eventCount: eventCount, status: status, &actions) { actions.append(.enableInterrupt) }
        case .failed:
            // The driver gave up: the cause is cleared, the line stays masked.
            _ = clearCause(eventCount: eventCount, status: status, &actions)
        case .stopped:
            preconditionFailure("interrupt while stopped: the driver stopped watching its UIO file")
        case .running:
            preconditionFailure("a running driver's interrupt is triaged by interrupt(eventCount:status:_:)")
        }
    }

    /// Counts lost interrupts; a spurious one is counted and re-enabled (false); otherwise the cause
    /// is written back (true).
    @inline(__always)
    private mutating func clearCause<Action: ChannelActions>(eventCount: Int32, status: UInt32, _ actions: inout ActionList<Action>) -> Bool {
        metrics.lostInterrupts += eventCounts.lost(before: eventCount)
        let cause = status & AXIDMAHeader.causes
        guard cause != 0 else {
            metrics.spuriousInterrupts += 1
            actions.append(.enableInterrupt)
            return false
        }
        actions.append(.clearStatus(cause))
        return true
    }

    /// Start or restart (from stopped or failed): `eventCount` is the baseline for lost-interrupt
    /// detection (nil: nothing to read, see `EventCountTracker.reset`); the core is reset and programmed.
    mutating func start<Action: ChannelActions>(eventCount: Int32?, _ actions: inout ActionList<Action>) {
        beginStart(eventCount: eventCount, &actions)
        actions.append(.writeControl(runControl))
    }

    /// The first half of `start`: the baseline and the soft reset; the machine programs the core
    /// (the scatter-gather driver writes CURDESC before RS: PG021 lets it be written only while halted).
    mutating func beginStart<Action: ChannelActions>(eventCount: Int32?, _ actions: inout ActionList<Action>) {
        switch state {
        case .stopped, .failed:
            eventCounts.reset(to: eventCount)
            errorsInARow = 0
            actions.append(.resetCore)
        case .running, .recovering:
            preconditionFailure("start while \(state): stop the driver first")
        }
    }

    /// The back-off is over: re-program the core; returns the slot to arm again.
    mutating func retryTimerFired<Action: ChannelActions>(_ actions: inout ActionList<Action>) -> Int {
        let slot = beginRetry()
        actions.append(.writeControl(runControl))
        return slot
    }

    /// The back-off is over: counts the recovery and returns the slot to retry; the machine
    /// programs the core.
    mutating func beginRetry() -> Int {
        switch state {
        case let .recovering(_, slot):
            metrics.recoveries += 1
            return slot
        case .stopped, .running, .failed:
            preconditionFailure("retry timer while \(state): it is armed only on entering recovering, and stop disarms it")
        }
    }

    /// The watchdog expired: returns the active transfer's slot, which the machine fails with `.timeout`.
    func watchdogExpired() -> Int {
        switch state {
        case let .running(active?):
            return active
        case .running(nil), .stopped, .recovering, .failed:
            preconditionFailure("watchdog while \(state): it runs only while a transfer is active")
        }
    }

    /// Halt the engine (again, if stopped: DMACR = 0 is idempotent).
    mutating func stop<Action: ChannelActions>(_ actions: inout ActionList<Action>) {
        switch state {
        case .running, .recovering, .failed, .stopped:
            actions.append(.writeControl(0))
            state = .stopped
        }
    }

    /// An error: reset the core; retry `slot` after a back-off, or give up after `maxRetries` in a
    /// row (or with nothing to retry).
    mutating func fail<Action: ChannelActions>(_ error: DriverError, retrying slot: Int?, _ actions: inout ActionList<Action>) {
        metrics.errors[error, default: 0] += 1
        errorsInARow += 1
        actions.append(.resetCore)
        guard errorsInARow <= maxRetries, let slot else {
            state = .failed(error, attempts: errorsInARow)
            return
        }
        state = .recovering(attempt: errorsInARow, slot: slot)
        actions.append(.scheduleRetry(attempt: errorsInARow))
        if reenablesAfterError { actions.append(.enableInterrupt) }
    }

    @inline(__always)
    mutating func succeeded(bytes: Int) {
        errorsInARow = 0
        metrics.completions += 1
        metrics.bytes += bytes
    }

    /// The number of the transfer about to be armed (from 1).
    @inline(__always)
    mutating func nextTransfer() -> UInt64 {
        transfers += 1
        return transfers
    }

    /// The register port's and interrupt source's fault counts (the shell reports them).
    mutating func noteFaults(register: Int, interruptSource: Int) {
        metrics.registerFaults = register
        metrics.interruptSourceErrors += interruptSource
    }
}

/// DMACR value while running: RS, IOC and error interrupts enabled.
let runControl = AXIDMAHeader.RS | AXIDMAHeader.IOC_IrqEn | AXIDMAHeader.Err_IrqEn

/// The actions both directions' `Action` enums have as cases (an enum case satisfies a static
/// requirement of the same shape), so the shared inputs can emit them.
protocol ChannelActions: Equatable, Sendable {
    static var resetCore: Self { get }
    static func writeControl(_ value: UInt32) -> Self
    static func clearStatus(_ bits: UInt32) -> Self
    static var enableInterrupt: Self { get }
    static func scheduleRetry(attempt: Int) -> Self
}

extension ReceiveStateMachine.Action: ChannelActions {}
extension SGReceiveStateMachine.Action: ChannelActions {}
extension TransmitStateMachine.Action: ChannelActions {}
