import Devices

/// The figures a scenario's expectations are checked against, taken once at the end of a run:
/// the shared ones by the runner (`Workload.measures(scriptFailures:)`), the rest by the workload.
public struct Measures: Sendable {
    public var completions = 0
    public var bytesDelivered: UInt64 = 0
    public var bytesDropped: UInt64 = 0
    public var dropped: [DropReason: UInt64] = [:]
    public var lostInterrupts = 0
    public var spuriousInterrupts = 0
    public var recoveries = 0
    public var errors: [String: Int] = [:]
    public var findings: [String: Int] = [:]
    public var violations = 0
    public var mismatchedBytes: UInt64 = 0
    public var verifiedBytes: UInt64 = 0
    public var storms = 0
    public var latencyP99: Int64 = 0
    public var scriptFailures = 0
    public var staleReads = 0
    public var driverState = "stopped"
    /// The protocol checker's findings by rule id (`findings:`).
    public var protocolFindings: [String: Int] = [:]

    public init() {}

    /// Nil when `expectation` holds, else what was expected and found. A `trace-hash` is the
    /// runner's to check (it owns the tracer).
    func failure(of expectation: ScenarioSpec.Expectation) -> String? {
        let metric = expectation.metric
        switch (metric, expectation.comparison) {
        case let (.driverState, .text(expected)):
            let actual = String(driverState.prefix { $0.isLetter })
            return actual == expected ? nil : "expected driver-state \(expected), found \(driverState)"
        case (.traceHash, _):
            return nil
        case let (_, comparison):
            let actual: Int64
            switch metric {
            case .completions: actual = Int64(completions)
            case .bytesDelivered: actual = Int64(bytesDelivered)
            case .bytesDropped(nil): actual = Int64(bytesDropped)
            case let .bytesDropped(reason?): actual = Int64(dropped[reason] ?? 0)
            case .lostInterrupts: actual = Int64(lostInterrupts)
            case .spuriousInterrupts: actual = Int64(spuriousInterrupts)
            case .recoveries: actual = Int64(recoveries)
            case .errors(nil): actual = Int64(errors.values.reduce(0, +))
            case let .errors(kind?): actual = Int64(errors[kind.rawValue] ?? 0)
            case .violations(nil): actual = Int64(violations)
            case let .violations(kind?): actual = Int64(kind == "stale-reads" ? staleReads : findings[kind] ?? 0)
            case .mismatchedBytes: actual = Int64(mismatchedBytes)
            case .verifiedBytes: actual = Int64(verifiedBytes)
            case .storms: actual = Int64(storms)
            case .latencyP99Nanoseconds: actual = latencyP99
            case .scriptFailures: actual = Int64(scriptFailures)
            case .findings(nil): actual = Int64(protocolFindings.values.reduce(0, +))
            case let .findings(rule?): actual = Int64(protocolFindings[rule] ?? 0)
            case .driverState, .traceHash: return nil
            }
            return comparison.holds(for: actual) ? nil : "expected \(metric) \(comparison), found \(actual)"
        }
    }
}
