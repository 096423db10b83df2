import Foundation
import Testing

/// The protocol checker as a user meets it: `play`, `run` and `attach` run as processes.
@Suite("the protocol checker on the command line")
struct CheckerCommandTests {
    /// A copy of a scenario of scenarios/checks in a temporary file, changed by `edit`.
    func scenarioCopy(_ name: String, _ edit: (String) -> String) throws -> String {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("scenarios/checks/\(name)"), encoding: .utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("checks-\(UUID().uuidString).yaml").path
        try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("play --strict passes every scenario of scenarios/checks (each names the finding it plants)")
    func strictPassesTheCatalogue() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("scenarios/checks").path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "scenarios/checks/\($0)" }
        #expect(files.count == 19)  // one per rule of the catalogue
        let r = try runUIOEmu(["play", "--strict", "--no-trace-hash"] + files)
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.split(separator: "\n").filter { $0.hasPrefix("PASS") }.count == files.count)
        #expect(r.out.contains("finding LEN-HALTED ×1"), "findings are listed by rule with their count")
    }

    @Test("play --strict exits 1 on a finding the scenario does not expect; without --strict it passes and still lists it")
    func strictFails() throws {
        let path = try scenarioCopy("len-halted.yaml") { $0.replacingOccurrences(of: "  findings: { LEN-HALTED: 1 }\n", with: "") }
        defer { unlink(path) }
        let strict = try runUIOEmu(["play", "--strict", path])
        #expect(strict.status == 1)
        #expect(strict.out.contains("--strict: finding LEN-HALTED ×1"), "\(strict.out)")
        let lenient = try runUIOEmu(["play", path])
        #expect(lenient.status == 0)
        #expect(lenient.out.contains("finding LEN-HALTED ×1"), "\(lenient.out)")
        #expect(lenient.out.contains("fix: set DMACR.RS"))
    }

    @Test("play --json carries the findings by rule and each in detail (time, device, register, values, fix)")
    func json() throws {
        let r = try runUIOEmu(["play", "--json", "scenarios/checks/reset-not-done.yaml"])
        #expect(r.status == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(object["findings"] as? [String: Int] == ["RESET-NOT-DONE": 1])
        let detail = try #require((object["finding_details"] as? [[String: Any]])?.first)
        #expect(detail["rule"] as? String == "RESET-NOT-DONE")
        #expect(detail["device"] as? String == "fpga-dma.s2mm")
        #expect(detail["register"] as? String == "S2MM_DMACR")
        #expect(detail["time_ns"] as? Int == 0)
        #expect((detail["values"] as? String)?.contains("Reset=1") == true)
        #expect((detail["fix"] as? String)?.isEmpty == false)
    }

    @Test("run --strict checks the built-in driver (no finding: exit 0); plain run does not check")
    func run() throws {
        let strict = try runUIOEmu(["run", "ml507-ppc440", "--duration", "1ms", "--strict"])
        #expect(strict.status == 0, "\(strict.out)\(strict.err)")
        #expect(strict.out.contains("protocol checker: no findings"))
        let plain = try runUIOEmu(["run", "p2020-fpga", "--duration", "1ms"])
        #expect(plain.status == 0)
        #expect(!plain.out.contains("protocol checker"))
    }

    @Test("attach checks an unmodified C driver: the correct one has no finding, the unmask-first one fails --strict")
    func attach() throws {
        let clean = try runUIOEmu(["attach", "p2020-fpga", "--strict", "--", ".build/examples/axidma-rx", "--count", "100"])
        #expect(clean.status == 0, "\(clean.out)\(clean.err)")
        #expect(!clean.out.contains("finding"), "\(clean.out)")
        let buggy = try runUIOEmu(["attach", "p2020-fpga", "--strict", "--", ".build/examples/axidma-rx-bug-unmask-first", "--count", "20"])
        #expect(buggy.status == 1)
        #expect(buggy.out.contains("finding UIO-ENABLE-CAUSE ×20"), "\(buggy.out)")
        let stale = try runUIOEmu(["attach", "ml507-ppc440", "--", ".build/examples/axidma-rx-bug-no-sync", "--count", "20"])
        #expect(stale.out.contains("finding CPU-READ-NO-SYNC ×20"), "\(stale.out)")
    }
}
