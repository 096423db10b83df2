import Reactor

/// One broken rule: when (board time), where (a device, channel, UIO node or buffer), the register
/// concerned (empty when none) and the values that break the rule.
public struct ProtocolFinding: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rule: ProtocolRule
    public let nanoseconds: Int64
    public let device: String
    public let register: String
    public let values: String

    public init(rule: ProtocolRule, nanoseconds: Int64, device: String, register: String = "", values: String) {
        self.rule = rule
        self.nanoseconds = nanoseconds
        self.device = device
        self.register = register
        self.values = values
    }

    public var time: Instant { Instant(nanosecondsSinceStart: nanoseconds) }

    /// `12.3µs LEN-HALTED fpga-dma.s2mm S2MM_LENGTH: wrote 0x1000 while DMACR 0x10002 (RS=0)`
    public var description: String {
        "\(time) \(rule.id) \(device)" + (register.isEmpty ? "" : " \(register)") + ": \(values)"
    }
}

/// What the checker found in a run: every finding counted by rule, the first `ProtocolChecker.logLimit`
/// kept in detail.
public struct ProtocolReport: Sendable, Codable {
    /// Findings per rule id; rules that never fired are absent.
    public let counts: [String: Int]
    /// The findings in the order they were made (the first ones, when there were very many).
    public let findings: [ProtocolFinding]

    public init(counts: [String: Int] = [:], findings: [ProtocolFinding] = []) {
        self.counts = counts
        self.findings = findings
    }

    public var total: Int { counts.values.reduce(0, +) }
    public var isEmpty: Bool { counts.isEmpty }

    /// The rules that fired, in catalogue order, with their counts.
    public var byRule: [(rule: ProtocolRule, count: Int)] {
        ProtocolRule.allCases.compactMap { rule in counts[rule.id].map { (rule, $0) } }
    }

    /// For people: per rule fired, its count, its explanation, the first finding and the fix.
    public var lines: [String] {
        byRule.flatMap { entry -> [String] in
            let first = findings.first { $0.rule == entry.rule }
            return ["finding \(entry.rule.id) ×\(entry.count): \(entry.rule.explanation)"]
                + (first.map { ["  first: \($0)"] } ?? [])
                + ["  fix: \(entry.rule.fix)"]
        }
    }
}
