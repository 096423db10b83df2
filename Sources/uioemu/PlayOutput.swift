import Foundation
import Reactor
import Scenario

/// One aligned line per scenario: result, name, seed, figures, board time, wall time, speed vs
/// real time, rate, and the trace hash's first digits.
enum PlayLine {
    static func line(_ o: ScenarioRunner.Outcome, wall: Double, colour: Bool = false) -> String {
        let speed = wall > 0 ? o.virtualSeconds / wall : 0
        let name = o.scenario.padding(toLength: 28, withPad: " ", startingAt: 0)
        var result = o.verdict.word + String(repeating: " ", count: max(0, 4 - o.verdict.word.count))
        if colour { result = (o.passed ? "\u{1B}[32m" : "\u{1B}[31;1m") + result + "\u{1B}[0m" }
        return "\(result)  \(name) seed \(o.seed)  completions \(pad(o.completions, 8))  delivered \(pad(HumanUnits.bytes(o.bytesDelivered), 10))"
            + "  dropped \(pad(HumanUnits.bytes(o.bytesDropped), 9))  violations \(pad(o.violations, 3))"
            + "  \(pad(HumanUnits.seconds(o.virtualSeconds), 8)) board in \(pad(HumanUnits.seconds(wall), 8))"
            + "  \(pad(String(format: "%.1fx", speed), 8)) real time  \(pad(HumanUnits.rate(Double(o.completions) / max(wall, 1e-9)), 8))"
            + (o.traceHash.map { "  trace-hash \($0.prefix(12))" } ?? "")
    }

    private static func pad(_ v: Any, _ width: Int) -> String {
        let s = "\(v)"
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

/// The `--json` object of one scenario (keys in snake_case, as every command's).
struct PlayResult: Encodable {
    struct Fault: Encodable {
        let step: String
        let fault: String
        let channel: String
        let injectedAtNanoseconds: Int64
        /// took-effect, pending (never came), missed, replaced.
        let outcome: String
        let atNanoseconds: Int64?
        let reason: String?
    }

    let scenario: String
    let file: String
    let seed: UInt64
    let result: Verdict
    let signal: String?
    let completions: Int
    let bytesDelivered: UInt64
    let bytesDropped: UInt64
    let lostIrqs: Int
    let spuriousIrqs: Int
    let recoveries: Int
    let violations: Int
    let traceHash: String?
    let wallSeconds: Double
    let virtualSeconds: Double
    let boardTimeNanoseconds: Int64
    let faults: [Fault]
    /// The protocol checker's findings by rule id, and the first of them in detail.
    let findings: [String: Int]
    let findingDetails: [FindingDetail]
    let failures: [String]

    /// One protocol finding: the rule, the board time and where, with the fix.
    struct FindingDetail: Encodable {
        let rule: String
        let timeNs: Int64
        let device: String
        let register: String
        let values: String
        let fix: String
    }

    /// A scenario a stop signal kept from starting (it came before it or between two): interrupted,
    /// at board time 0, with nothing done. Printed so that `--json` says why the play ended.
    init(notStarted spec: ScenarioSpec, seed: UInt64, signal: Int32, played: Int, of total: Int) {
        scenario = spec.name
        file = spec.file
        self.seed = seed
        result = .interrupted(signal: signal)
        self.signal = Verdict.signalName(signal)
        (completions, bytesDelivered, bytesDropped, lostIrqs, spuriousIrqs, recoveries, violations) = (0, 0, 0, 0, 0, 0, 0)
        traceHash = nil
        (wallSeconds, virtualSeconds, boardTimeNanoseconds) = (0, 0, 0)
        (faults, findings, findingDetails) = ([], [:], [])
        failures = ["not started: \(Verdict.signalName(signal)) came before it (\(played) of \(total) scenarios played)"]
    }

    init(_ o: ScenarioRunner.Outcome, wall: Double) {
        scenario = o.scenario
        file = o.file
        seed = o.seed
        result = o.verdict
        signal = o.interruptedBy.map(Verdict.signalName)
        findings = o.findings.counts
        findingDetails = o.findings.findings.prefix(32).map {
            FindingDetail(rule: $0.rule.id, timeNs: $0.nanoseconds, device: $0.device, register: $0.register, values: $0.values, fix: $0.rule.fix)
        }
        completions = o.completions
        bytesDelivered = o.bytesDelivered
        bytesDropped = o.bytesDropped
        lostIrqs = o.lostInterrupts
        spuriousIrqs = o.spuriousInterrupts
        recoveries = o.recoveries
        violations = o.violations
        traceHash = o.traceHash
        wallSeconds = wall
        virtualSeconds = o.virtualSeconds
        boardTimeNanoseconds = o.boardTime.nanosecondsSinceStart
        faults = o.faults.map { f in
            let (outcome, at, reason): (String, Instant?, String?)
            switch f.evidence.outcome {
            case .pending: (outcome, at, reason) = ("pending", nil, "waited for \(f.fault.awaits)")
            case let .tookEffect(time): (outcome, at, reason) = ("took-effect", time, nil)
            case let .missed(time, why): (outcome, at, reason) = ("missed", time, why)
            case let .replaced(time): (outcome, at, reason) = ("replaced", time, nil)
            }
            return Fault(step: "\(f.location)", fault: "\(f.fault)", channel: f.channel.rawValue,
                         injectedAtNanoseconds: f.evidence.injectedAt.nanosecondsSinceStart, outcome: outcome,
                         atNanoseconds: at?.nanosecondsSinceStart, reason: reason)
        }
        failures = o.failures.map(\.description)
    }
}

/// Numbers for people: `4.0 KiB`, `12.3 µs`.
enum HumanUnits {
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Per second: `1.2 M/s`, `350 k/s`.
    static func rate(_ perSecond: Double) -> String {
        if perSecond >= 1e6 { return String(format: "%.1f M/s", perSecond / 1e6) }
        if perSecond >= 1e3 { return String(format: "%.0f k/s", perSecond / 1e3) }
        return String(format: "%.0f /s", perSecond)
    }

    static func seconds(_ s: Double) -> String {
        if s >= 1 { return String(format: "%.2f s", s) }
        if s >= 1e-3 { return String(format: "%.1f ms", s * 1e3) }
        if s >= 1e-6 { return String(format: "%.1f µs", s * 1e6) }
        return String(format: "%.0f ns", s * 1e9)
    }
}
