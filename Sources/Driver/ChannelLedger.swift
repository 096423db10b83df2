/// What a driver's state machine keeps whatever its direction and state: the counters, the UIO
/// count last read, the errors since the last good transfer and the transfer numbers; and the first
/// half of every interrupt, the same in both directions (PG021 DMASR, the UIO rules). Each machine
/// holds one and does the rest of an input itself.
struct ChannelLedger: Sendable {
    var metrics = DriverMetrics()
    private var eventCounts = EventCountTracker()
    /// Errors since the last good completion (it spans running and recovering: a failure right after
    /// a recovery keeps counting toward `maxRetries`).
    private(set) var errorsInARow = 0
    private var transfers: UInt64 = 0

    /// The first half of a completion interrupt while running. Counts the interrupts the UIO count
    /// says were missed, drops a spurious one (no cause in DMASR) with only a re-enable, writes the
    /// cause back (W1C) before anything else touches the engine, and sorts the rest.
    enum Triage: Equatable {
        /// Handled completely (the actions end with the re-enable).
        case handled
        /// An error bit is set: the direction's recovery takes over. The cause is already cleared.
        case error(DriverError)
        /// IOC for the active transfer. The cause is cleared; the re-enable is still to come.
        case completed
    }

    /// Start or restart: `eventCount` is the baseline for lost-interrupt detection.
    mutating func begin(eventCount: Int32) {
        eventCounts.reset(to: eventCount)
        errorsInARow = 0
    }

    /// The number of the transfer about to be armed (from 1).
    mutating func nextTransfer() -> UInt64 {
        transfers += 1
        return transfers
    }

    @inline(__always)
    mutating func succeeded(bytes: Int) {
        errorsInARow = 0
        metrics.completions += 1
        metrics.bytes += bytes
    }

    /// One more error in a row; true while the driver may still retry.
    mutating func failed(_ error: DriverError, maxRetries: Int) -> Bool {
        metrics.errors[error, default: 0] += 1
        errorsInARow += 1
        return errorsInARow <= maxRetries
    }

    /// `hasActive`: a transfer is armed (or in flight).
    @inline(__always)
    mutating func triage<Action: InterruptActions>(eventCount: Int32, status: UInt32, hasActive: Bool,
                                                   _ actions: inout ActionList<Action>) -> Triage {
        metrics.lostInterrupts += eventCounts.lost(before: eventCount)
        let cause = status & AXIDMAHeader.causes
        guard cause != 0 else {
            metrics.spuriousInterrupts += 1
            actions.append(.enableInterrupt)
            return .handled
        }
        actions.append(.clearStatus(cause))
        if let error = DriverError.from(status: status) { return .error(error) }
        if cause & AXIDMAHeader.IOC_Irq == 0 {
            metrics.delayInterrupts += 1
        } else if hasActive {
            return .completed
        } else {
            metrics.unexpectedCompletions += 1
        }
        actions.append(.enableInterrupt)
        return .handled
    }

    /// An interrupt while recovering or failed (late, from before the reset): count it, clear its
    /// cause, and stay; `reenable` while recovering (the retry needs the next interrupt).
    mutating func lateInterrupt<Action: InterruptActions>(eventCount: Int32, status: UInt32, reenable: Bool,
                                                          _ actions: inout ActionList<Action>) {
        metrics.lostInterrupts += eventCounts.lost(before: eventCount)
        let cause = status & AXIDMAHeader.causes
        guard cause != 0 else {
            metrics.spuriousInterrupts += 1
            actions.append(.enableInterrupt)
            return
        }
        actions.append(.clearStatus(cause))
        if reenable { actions.append(.enableInterrupt) }
    }

    /// The register port's and interrupt source's fault counts (the shell reports them).
    mutating func noteFaults(register: Int, interruptSource: Int) {
        metrics.registerFaults = register
        metrics.interruptSourceErrors += interruptSource
    }
}

/// The two actions the triage emits, which both directions' `Action` enums have as cases (an enum
/// case satisfies a static requirement of the same shape).
protocol InterruptActions: Equatable, Sendable {
    static func clearStatus(_ bits: UInt32) -> Self
    static var enableInterrupt: Self { get }
}

extension ReceiveStateMachine.Action: InterruptActions {}
extension TransmitStateMachine.Action: InterruptActions {}
