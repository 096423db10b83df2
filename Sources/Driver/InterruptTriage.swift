/// The first half of a completion interrupt, the same in both directions (PG021 DMASR, the UIO
/// rules): count the interrupts the UIO count says were missed, drop a spurious one (no cause in
/// DMASR) with only a re-enable, write the cause back (W1C) before anything else touches the
/// engine, leave a late one alone while not running (re-enabling while recovering), and sort the
/// rest into an error, a delay-only interrupt, an unexpected completion or the completion of the
/// active transfer. What follows a completion or an error is each direction's own business.
enum InterruptTriage: Equatable {
    /// Handled completely (the actions end with the re-enable where one is due).
    case done
    /// An error bit is set: the direction's recovery takes over. The cause is already cleared.
    case error(DriverError)
    /// IOC for the transfer in `slot`. The cause is cleared; the re-enable is still to come.
    case completed(slot: Int)

    /// `running`: the machine is running, with the transfer in `active` (nil: none armed).
    /// `recovering`: waiting for the back-off after an error.
    static func sort<Action: InterruptActions>(
        eventCount: Int32, status: UInt32, running: Bool, recovering: Bool, active: Int?,
        eventCounts: inout EventCountTracker, metrics: inout DriverMetrics, actions: inout ActionList<Action>
    ) -> InterruptTriage {
        metrics.lostInterrupts += eventCounts.lost(before: eventCount)
        let cause = status & AXIDMAHeader.causes
        guard cause != 0 else {
            metrics.spuriousInterrupts += 1
            actions.append(.enableInterrupt)
            return .done
        }
        actions.append(.clearStatus(cause))
        guard running else {
            // Late interrupt while recovering or failed: the cause is cleared; stay as we are.
            if recovering { actions.append(.enableInterrupt) }
            return .done
        }
        if let error = DriverError.from(status: status) { return .error(error) }
        guard cause & AXIDMAHeader.IOC_Irq != 0 else {
            metrics.delayInterrupts += 1
            actions.append(.enableInterrupt)
            return .done
        }
        guard let slot = active else {
            metrics.unexpectedCompletions += 1
            actions.append(.enableInterrupt)
            return .done
        }
        return .completed(slot: slot)
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
