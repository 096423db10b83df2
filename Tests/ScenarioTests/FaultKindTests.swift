import Foundation
import Scenario
import Testing

/// Each fault kind a scenario can inject, played in a scenario whose expectations show its effect
/// (and, with the runner's evidence, that it took effect at all).
@Suite("Each fault kind in a scenario")
struct FaultKindTests {
    /// The inject step's value and the expectations that show the fault did what it says.
    static let kinds: [(fault: String, board: String, expect: String)] = [
        ("slave-error", "p2020-fpga", "errors: { DMASlvErr: 1 }\n  recoveries: 1\n  bytes-dropped: { transfer-error: 4096 }"),
        ("decode-error", "p2020-fpga", "errors: { DMADecErr: 1 }\n  recoveries: 1"),
        ("internal-error", "p2020-fpga", "errors: { DMAIntErr: 1 }\n  recoveries: 1"),
        // The transfer never completes: the watchdog resets the core, which drops what it held.
        ("stall", "p2020-fpga", "errors: { timeout: 1 }\n  bytes-dropped: { reset: \">= 4096\" }"),
        // 50 us later than its timing: no error (the watchdog allows 100 us), fewer transfers.
        ("{ fault: delay-completion, by: 50us }", "p2020-fpga", "errors: 0\n  completions: \"<= 190\""),
        // One 100-byte packet: the driver takes a short buffer as it comes, every byte still checked.
        ("{ fault: short-packet, bytes: 100 }", "p2020-fpga", "errors: 0\n  bytes-delivered: \"== \(192 * 4096 + 100)\""),
        ("{ fault: corrupt-byte, offset: 10, mask: 1 }", "p2020-fpga", "mismatched-bytes: 1"),
        // Dly_Irq with nothing else: not an error, not spurious.
        ("delay-interrupt", "p2020-fpga", "errors: 0\n  spurious-irqs: 0"),
        ("spurious-interrupt", "p2020-fpga", "spurious-irqs: 1\n  lost-irqs: 0"),
        ("lost-interrupt", "boards/p2020-fpga-edge.yaml", "errors: { timeout: 1 }\n  recoveries: 1"),
    ]

    /// The scenario of `kinds[index]`, as if it were a file in scenarios/.
    static func scenario(_ index: Int) -> (text: String, file: String) {
        let kind = kinds[index]
        let text = """
            board: \(kind.board)
            duration: 2ms
            driver: { watchdog: 100us }
            timeline:
              - at: 1ms
                inject: \(kind.fault)
            expect:
              \(kind.expect)
              driver-state: running
            """
        return (text, repositoryRoot.appendingPathComponent("scenarios/fault.yaml").path)
    }

    @Test("the fault takes effect and the scenario's expectations of it hold", arguments: kinds.indices)
    func faultHasItsEffect(index: Int) throws {
        let kind = Self.kinds[index]
        let (text, file) = Self.scenario(index)
        let outcome = play(text, file: file)
        #expect(outcome.passed, "\(kind.fault): \(outcome.failures)")
        #expect(outcome.faults.count == 1 && outcome.faults[0].evidence.tookEffect, "\(kind.fault): \(outcome.faults.map(\.evidence))")
    }
}

/// No kind and no key exists only in the parser: every fault kind a scenario can inject and every
/// expectation key is used by a shipped scenario or by a scenario a test plays.
@Suite("Scenario language coverage")
struct ScenarioCoverageTests {
    /// The shipped scenarios, the fault kinds' scenarios, and every multi-line string literal in the
    /// tests that parses as one.
    static func scenariosInUse() throws -> [ScenarioSpec] {
        var specs: [ScenarioSpec] = try shippedScenarioFiles().map { try ScenarioParser.load(path: $0) }
        for index in FaultKindTests.kinds.indices {
            let (text, file) = FaultKindTests.scenario(index)
            specs.append(try ScenarioParser.parse(text, file: file))
        }
        let tests = repositoryRoot.appendingPathComponent("Tests")
        let files = try FileManager.default.subpathsOfDirectory(atPath: tests.path).filter { $0.hasSuffix(".swift") }
        for file in files {
            let source = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            let pieces = source.components(separatedBy: "\"\"\"")
            for index in stride(from: 1, to: pieces.count, by: 2) {  // the insides of the literals
                let lines = pieces[index].split(separator: "\n", omittingEmptySubsequences: false)
                let indent = lines.last.map { $0.prefix { $0 == " " }.count } ?? 0
                let text = lines.map { String($0.dropFirst(min(indent, $0.prefix { $0 == " " }.count))) }.joined(separator: "\n")
                if let spec = try? ScenarioParser.parse(text, file: file) { specs.append(spec) }
            }
        }
        return specs
    }

    @Test("every fault kind is injected by at least one scenario")
    func everyFaultKind() throws {
        let used = Set(try Self.scenariosInUse().flatMap { spec in
            spec.timeline.compactMap { step -> String? in
                guard case let .inject(fault, _) = step.action else { return nil }
                return String("\(fault)".prefix { $0 != "(" })
            }
        })
        for kind in ScenarioParser.faultNames { #expect(used.contains(kind), "no scenario injects \(kind)") }
    }

    @Test("every expectation key is expected by at least one scenario")
    func everyExpectationKey() throws {
        let used = Set(try Self.scenariosInUse().flatMap { $0.expectations.map(\.metric.key) })
        for key in ScenarioParser.metricKeys { #expect(used.contains(key), "no scenario expects \(key)") }
    }
}
