import Board
import Checks

extension ScenarioRunner {
    /// What `--strict` adds: a failure for each rule that fired and that the scenario's `findings:`
    /// does not name (a scenario that plants a bug names the rule it expects, with its count, and
    /// stays strict about every other). Located at the scenario's first line.
    func strictFailures(_ findings: ProtocolReport) -> [Failure] {
        let named = Set(spec.expectations.compactMap { expectation -> String? in
            if case let .findings(rule?) = expectation.metric { return rule }
            return nil
        })
        return findings.byRule.filter { !named.contains($0.rule.id) }.map { entry in
            let first = findings.findings.first { $0.rule == entry.rule }.map { " (first: \($0))" } ?? ""
            return Failure(location: SourceLocation(file: spec.file, line: 1, column: 1),
                           message: "--strict: finding \(entry.rule.id) ×\(entry.count)\(first): \(entry.rule.explanation); fix: \(entry.rule.fix)")
        }
    }
}
