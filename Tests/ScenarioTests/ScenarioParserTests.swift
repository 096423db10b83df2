import Board
import Foundation
import Scenario
import Testing

@Suite("Scenario files: parsing and located errors")
struct ScenarioParserTests {
    @Test("every problem in a file is reported with its line, column and what was expected")
    func locatedErrors() {
        let text = """
            board: p2020-fpga
            duration: 10 parsecs
            stream:
              patern: counter
            timeline:
              - at: 2ms
                inject: slave-eror
              - at: 1ms
                do: stop
              - at: 3ms
            expect:
              completions: lots
            """
        guard case let .failure(d) = parse(text, file: "bad.yaml") else {
            Issue.record("a broken scenario parsed")
            return
        }
        let found = d.all.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(found.contains { $0.hasPrefix("2:11 expected a duration") })
        #expect(found.contains { $0.hasPrefix("4:3 unknown key 'patern'") })
        #expect(d.all.first { $0.location.line == 4 }?.suggestion == "pattern")
        #expect(found.contains { $0.hasPrefix("7:13 expected the fault") })
        #expect(d.all.first { $0.location.line == 7 }?.suggestion == "slave-error")
        #expect(found.contains { $0.hasPrefix("8:9 expected a time at or after the previous step's 2ms, found 1ms") })
        #expect(found.contains { $0.hasPrefix("10:5 expected exactly one action") })
        #expect(found.contains { $0.hasPrefix("12:16 expected a count or a comparison") })
        #expect(d.all.count == 6)
    }

    @Test("missing keys are reported at the mapping, YAML syntax errors at their position")
    func missingAndSyntax() {
        guard case let .failure(d) = parse("seed: 3\n", file: "m.yaml") else { Issue.record("parsed"); return }
        #expect(d.all.map(\.message).contains { $0.hasPrefix("missing key 'board'") })
        #expect(d.all.map(\.message).contains { $0.hasPrefix("missing key 'duration'") })
        guard case let .failure(s) = parse("board: [unclosed\n", file: "s.yaml") else { Issue.record("parsed"); return }
        #expect(s.all.first?.message.hasPrefix("YAML syntax") == true)
    }

    @Test("register script steps take names from the register table, or offsets; a typo gets a suggestion")
    func registerNames() {
        let ok = parse("""
            board: p2020-fpga
            mode: script
            duration: 1ms
            timeline:
              - write: { register: S2MM_DMACR, value: 1 }
              - read: { register: 0x34, expect: 1, mask: 1 }
            """)
        guard case let .success(spec) = ok else { Issue.record("\(ok)"); return }
        guard case let .write(register, value) = spec.timeline[0].action, case let .read(r2, _, _) = spec.timeline[1].action else {
            Issue.record("wrong steps"); return
        }
        #expect(register.name == "S2MM_DMACR" && value == 1)
        #expect(r2.name == "S2MM_DMASR")
        guard case let .failure(d) = parse("board: x\nduration: 1ms\ntimeline:\n  - write: { register: S2MM_DMACT, value: 1 }\n") else {
            Issue.record("parsed"); return
        }
        #expect(d.all.first?.suggestion == "S2MM_DMACR")
    }

    @Test("comparisons, rates and durations read as written")
    func values() {
        #expect(ScenarioParser.rate("400 MB/s") == .some(400_000_000))
        #expect(ScenarioParser.rate("1 GiB/s") == .some(1_073_741_824))
        #expect(ScenarioParser.rate("unlimited") == .some(nil))
        #expect(ScenarioParser.rate("fast") == nil)
        #expect(DurationText.parse("250us")?.nanoseconds == 250_000)
        #expect(DurationText.parse("1_000 ns")?.nanoseconds == 1_000)
        // Decimals, minutes and hours; never a fraction of a nanosecond, a unit alone or a sign.
        #expect(DurationText.parse("1.5ms")?.nanoseconds == 1_500_000)
        #expect(DurationText.parse("0.25 s")?.nanoseconds == 250_000_000)
        #expect(DurationText.parse("2min")?.nanoseconds == 120_000_000_000)
        #expect(DurationText.parse("1h")?.nanoseconds == 3_600_000_000_000)
        #expect(DurationText.parse("1.5h")?.nanoseconds == 5_400_000_000_000)
        #expect(DurationText.parse("12µs")?.nanoseconds == 12_000)
        #expect(DurationText.parse("1.5ns") == nil)
        #expect(DurationText.parse("ms") == nil)
        #expect(DurationText.parse("-1ms") == nil)
        #expect(DurationText.parse("1.ms") == nil)
        #expect(DurationText.parse("2 days") == nil)
        guard case let .success(spec) = parse("""
            board: p2020-fpga
            duration: 1ms
            expect:
              completions: ">= 900"
              recoveries: 2
              latency-p99: "<= 10us"
            """) else { Issue.record("did not parse"); return }
        #expect(spec.expectations.map(\.comparison) == [.number(.atLeast, 900), .number(.equal, 2), .number(.atMost, 10_000)])
    }

    @Test("the scenario list of the scenario tests is never empty: a missing or empty directory is an error, not zero cases")
    func noScenariosIsAnError() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: NoScenarios.self) { try scenarioFiles(in: empty) }
        #expect(throws: (any Error).self) { try scenarioFiles(in: empty.appendingPathComponent("missing")) }
        #expect(try shippedScenarioFiles().count >= 13)
    }

    @Test("every shipped scenario validates", arguments: try shippedScenarioFiles())
    func shippedValidate(file: String) throws {
        _ = try ScenarioParser.load(path: file)
    }
}
