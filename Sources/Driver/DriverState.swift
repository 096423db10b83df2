import Trace

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

    /// Compact and stable, for traces: `running(3)`, `recovering(1,3)`. The labels of the stopped
    /// state and of running with the first 16 slots are names numbered in advance (no lookup, no
    /// string built per completion); the rare others are looked up by their text.
    var traceLabel: TraceName {
        switch self {
        case .stopped: .stopped
        case let .running(active?) where active >= 0 && active < 16: .running(active)
        case .running(nil): .runningNone
        default: TraceName(traceText)
        }
    }

    /// The label as text.
    var traceText: String {
        switch self {
        case .stopped: "stopped"
        case let .running(active?): "running(\(active))"
        case .running(nil): "running(none)"
        case let .recovering(attempt, slot): "recovering(\(attempt),\(slot))"
        case let .failed(error, attempts): "failed(\(error.rawValue),\(attempts))"
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
