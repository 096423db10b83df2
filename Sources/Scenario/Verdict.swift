import Glibc
import Reactor

/// How a run ended, in the words every command uses (`play`, `run`, `attach`): `PASS`, `FAIL` or
/// `INTERRUPTED` in text, `"pass"`, `"fail"` or `"interrupted"` as the JSON `result`, and the exit
/// status that goes with it (0, 1, or 128 + the signal: 130 for SIGINT, 143 for SIGTERM, as a shell
/// reports a process the signal killed). An interrupted run never says PASS: what it checked is
/// incomplete, whatever it found so far.
public enum Verdict: Sendable, Equatable, Encodable, CustomStringConvertible {
    case pass
    case fail
    case interrupted(signal: Int32)

    /// `pass`, unless `failed`; `interrupted` whenever a stop signal came.
    public init(failed: Bool, interruptedBy signal: Int32?) {
        if let signal { self = .interrupted(signal: signal) } else { self = failed ? .fail : .pass }
    }

    /// PASS, FAIL, INTERRUPTED.
    public var word: String {
        switch self {
        case .pass: "PASS"
        case .fail: "FAIL"
        case .interrupted: "INTERRUPTED"
        }
    }

    /// The JSON `result`: pass, fail, interrupted.
    public var jsonValue: String { word.lowercased() }

    public var description: String { word }

    public var exitStatus: Int32 {
        switch self {
        case .pass: 0
        case .fail: 1
        case let .interrupted(signal): 128 + signal
        }
    }

    public var isPass: Bool { self == .pass }

    /// SIGINT, SIGTERM (the stop signals the reactor handles), or the number.
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// The line an interrupted run ends with, the same for every command:
    /// `INTERRUPTED by SIGINT at board time 1200us (exit 130): the summary covers the run until then`.
    public static func interruptionLine(signal: Int32, at boardTime: Instant) -> String {
        "INTERRUPTED by \(signalName(signal)) at board time \(TimeSpan(nanoseconds: boardTime.nanosecondsSinceStart))"
            + " (exit \(128 + signal)): the summary covers the run until then"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(jsonValue)
    }
}
