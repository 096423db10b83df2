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
    /// Interrupts with Dly_Irq set (scatter-gather: the IRQDelay timer; direct mode: only a fault).
    public var delayInterrupts = 0
    public var recoveries = 0
    public var errors: [String: Int] = [:]
    public var findings: [String: Int] = [:]
    public var violations = 0
    public var mismatchedBytes: UInt64 = 0
    public var verifiedBytes: UInt64 = 0
    public var storms = 0
    /// UIO enables of a level line whose cause, asserted when the line last fired, was never
    /// cleared (counted by the UIO model; a correct unmask of a newly pending level is not one).
    public var enablesWithCauseAsserted = 0
    /// nil: no interrupt was handled, so there is no latency to compare.
    public var latencyP99: Int64? = nil
    public var scriptFailures = 0
    public var staleReads = 0
    public var driverState = "stopped"
    /// The protocol checker's findings by rule id (`findings:`).
    public var protocolFindings: [String: Int] = [:]
    /// Expectation keys this run has no figure for (a mode without a driver has no `errors`), each
    /// with the reason: an expectation on one fails instead of comparing against a zero nobody counted.
    public var unmeasured: [String: String] = [:]
    /// What `after-last-step` subtracts: `completions`, `bytes-delivered` and `verified-bytes` when
    /// the timeline's last step ran; nil: it never ran.
    public var atLastStep: [ScenarioSpec.Metric: Int64]? = nil

    public init() {}

    /// Nil when `expectation` holds, else what was expected and found. A `trace-hash` is the
    /// runner's to check (it owns the tracer).
    func failure(of expectation: ScenarioSpec.Expectation) -> String? {
        let metric = expectation.metric
        if let reason = unmeasured[metric.key] {
            return "expected \(metric) \(expectation.comparison), but this run does not measure \(metric.key): \(reason)"
        }
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
            case .delayInterrupts: actual = Int64(delayInterrupts)
            case .recoveries: actual = Int64(recoveries)
            case .errors(nil): actual = Int64(errors.values.reduce(0, +))
            case let .errors(kind?): actual = Int64(errors[kind.rawValue] ?? 0)
            case .violations(nil): actual = Int64(violations)
            case let .violations(kind?): actual = Int64(kind == "stale-reads" ? staleReads : findings[kind] ?? 0)
            case .mismatchedBytes: actual = Int64(mismatchedBytes)
            case .verifiedBytes: actual = Int64(verifiedBytes)
            case .storms: actual = Int64(storms)
            case .latencyP99Nanoseconds:
                guard let latencyP99 else { return "expected latency-p99 \(comparison), found none: no interrupt was handled" }
                actual = latencyP99
            case .scriptFailures: actual = Int64(scriptFailures)
            case .findings(nil): actual = Int64(protocolFindings.values.reduce(0, +))
            case let .findings(rule?): actual = Int64(protocolFindings[rule] ?? 0)
            case .enablesWithCauseAsserted: actual = Int64(enablesWithCauseAsserted)
            case let .afterLastStep(counted):
                guard let before = atLastStep else {
                    return "expected \(metric) \(comparison), found none: the timeline's last step never ran"
                }
                actual = counter(counted) - (before[counted] ?? 0)
            case .driverState, .traceHash: return nil
            }
            return comparison.holds(for: actual) ? nil : "expected \(metric) \(comparison), found \(actual)"
        }
    }

    /// The counters `after-last-step` can count, now.
    var lastStepCounters: [ScenarioSpec.Metric: Int64] {
        [.completions: counter(.completions), .bytesDelivered: counter(.bytesDelivered), .verifiedBytes: counter(.verifiedBytes)]
    }

    func counter(_ metric: ScenarioSpec.Metric) -> Int64 {
        switch metric {
        case .completions: Int64(completions)
        case .bytesDelivered: Int64(bytesDelivered)
        case .verifiedBytes: Int64(verifiedBytes)
        default: preconditionFailure("after-last-step counts completions, bytes-delivered or verified-bytes, not \(metric)")
        }
    }
}
