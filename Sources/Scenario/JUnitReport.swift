import Foundation

/// `play --junit FILE`: the scenarios played as JUnit XML, the format CI systems (GitHub Actions
/// test reporters, GitLab's `artifacts:reports:junit`, Jenkins) read: one `<testcase>` per scenario,
/// a `<failure>` with every failed check (file:line:column, expected vs actual) and the command that
/// reproduces it, an `<error>` for an interrupted one, `<skipped>` for those an interruption kept
/// from running. A pure function of the outcomes.
public struct JUnitReport: Sendable {
    public struct Case: Sendable {
        public let name: String
        public let file: String
        public let seconds: Double
        /// nil: never played (the run was interrupted before it).
        public let outcome: ScenarioRunner.Outcome?
        /// The command that plays this scenario again with the same seed.
        public let reproduce: String

        public init(name: String, file: String, seconds: Double, outcome: ScenarioRunner.Outcome?, reproduce: String) {
            self.name = name
            self.file = file
            self.seconds = seconds
            self.outcome = outcome
            self.reproduce = reproduce
        }
    }

    public let suite: String
    public let cases: [Case]

    public init(suite: String = "uioemu play", cases: [Case]) {
        self.suite = suite
        self.cases = cases
    }

    public var xml: String {
        let failures = cases.filter { $0.outcome?.verdict == .fail }.count
        let errors = cases.filter { if case .interrupted = $0.outcome?.verdict { return true } else { return false } }.count
        let skipped = cases.filter { $0.outcome == nil }.count
        let total = cases.reduce(0) { $0 + $1.seconds }
        let counts = "tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(Self.seconds(total))\""
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<testsuites name=\"\(Self.escape(suite))\" \(counts)>",
                     "  <testsuite name=\"\(Self.escape(suite))\" \(counts)>"]
        for c in cases {
            let open = "    <testcase classname=\"scenarios\" name=\"\(Self.escape(c.name))\" file=\"\(Self.escape(c.file))\" time=\"\(Self.seconds(c.seconds))\""
            guard let outcome = c.outcome else {
                lines.append(open + ">")
                lines.append("      <skipped message=\"not played: the run was interrupted before it\"/>")
                lines.append("    </testcase>")
                continue
            }
            lines.append(open + ">")
            switch outcome.verdict {
            case .pass: break
            case .fail:
                let first = outcome.failures.first.map(\.description) ?? "failed"
                let body = outcome.failures.map(\.description) + ["reproduce: \(c.reproduce)"]
                lines.append("      <failure message=\"\(Self.escape(first))\" type=\"expectation\">\(Self.escape(body.joined(separator: "\n")))</failure>")
            case let .interrupted(signal):
                let message = Verdict.interruptionLine(signal: signal, at: outcome.boardTime)
                lines.append("      <error message=\"\(Self.escape(message))\" type=\"interrupted\"/>")
            }
            var properties = ["seed: \(outcome.seed)", "completions: \(outcome.completions)", "board time: \(outcome.boardTime)"]
            if let hash = outcome.traceHash { properties.append("trace-hash: \(hash)") }
            lines.append("      <system-out>\(Self.escape(properties.joined(separator: "\n")))</system-out>")
            lines.append("    </testcase>")
        }
        lines.append("  </testsuite>")
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func seconds(_ s: Double) -> String { String(format: "%.3f", s) }

    /// Text as XML attribute or element content: the five markup characters escaped, and control
    /// characters XML 1.0 does not allow replaced.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {  // bounded by the text
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\t": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: result += "?"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
