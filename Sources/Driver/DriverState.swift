/// Where a direct-register-mode driver is, the same four states in both directions. The data that
/// belongs to a state rides in its case: the slot the device has while running, the attempt and the
/// slot to retry while recovering, the error and the count when it gave up.
public enum DriverState: Equatable, Sendable, CustomStringConvertible {
    case stopped
    /// Running; the slot whose transfer the device has (armed for receive, in flight for transmit),
    /// or nil when it has none (receive: the consumer holds every buffer; transmit: nothing queued).
    case running(active: Int?)
    /// After an error: the core was reset; re-arming `slot` waits for the back-off timer.
    case recovering(attempt: Int, slot: Int)
    case failed(DriverError, attempts: Int)

    public var description: String {
        switch self {
        case .stopped: "stopped"
        case let .running(active?): "running (buffer \(active) with the device)"
        case .running(nil): "running (no buffer with the device)"
        case let .recovering(attempt, slot): "recovering (attempt \(attempt), buffer \(slot))"
        case let .failed(error, attempts): "failed: \(error.rawValue) \(attempts) times in a row"
        }
    }

    /// Compact and stable, for traces: `running(3)`, `recovering(1,3)`. The labels of the first
    /// 16 slots are literals: an interpolated label costs a few hundred instructions per completion.
    var traceLabel: String {
        switch self {
        case .stopped: "stopped"
        case let .running(active?) where active >= 0 && active < 16: Self.runningLabel(active)
        case let .running(active?): "running(\(active))"
        case .running(nil): "running(none)"
        case let .recovering(attempt, slot): "recovering(\(attempt),\(slot))"
        case let .failed(error, attempts): "failed(\(error.rawValue),\(attempts))"
        }
    }

    private static func runningLabel(_ slot: Int) -> String {
        switch slot {
        case 0: "running(0)"
        case 1: "running(1)"
        case 2: "running(2)"
        case 3: "running(3)"
        case 4: "running(4)"
        case 5: "running(5)"
        case 6: "running(6)"
        case 7: "running(7)"
        case 8: "running(8)"
        case 9: "running(9)"
        case 10: "running(10)"
        case 11: "running(11)"
        case 12: "running(12)"
        case 13: "running(13)"
        case 14: "running(14)"
        default: "running(15)"
        }
    }

    /// 0 stopped, 1 running, 2 recovering, 3 failed (a waveform's small integer).
    var traceCode: Int {
        switch self {
        case .stopped: 0
        case .running: 1
        case .recovering: 2
        case .failed: 3
        }
    }
}
