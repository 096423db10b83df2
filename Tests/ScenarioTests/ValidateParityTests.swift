import Foundation
import Testing

/// `validate` refuses what `play` refuses, with the same located message, before anything runs.
@Suite("validate refuses what play refuses (the executable)")
struct ValidateParityTests {
    /// Each case: a scenario, the line:column and message start of the error both commands print.
    static let refused: [(name: String, text: String, at: String, message: String)] = [
        ("a board that does not exist", "board: p2020-fpgaa\nduration: 1ms\n", "1:8",
         "error: no board named 'p2020-fpgaa' in "),
        ("a ring slot beyond the ring", "board: p2020-fpga\nduration: 1ms\ndriver: { ring: 4 }\ntimeline:\n  - at: 100us\n    free-buffer: 4\n",
         "6:18", "error: expected a ring slot from 0 to 3, found 4: the ring has 4 buffers"),
        ("a step that needs a driver in script mode", "board: p2020-fpga\nmode: script\nduration: 1ms\ntimeline:\n  - consumer-stall: 10us\n",
         "5:21", "error: consumer-stall needs a driver (mode: receive or transmit); mode: script has none"),
        ("a zero duration", "board: p2020-fpga\nduration: 0ms\n", "2:11", "error: expected a duration above 0, found 0ns"),
    ]

    @Test("play and validate both exit 2 with the same located error", arguments: refused.indices)
    func sameRefusal(index: Int) throws {
        let c = Self.refused[index]
        let (directory, file) = try temporaryScenario(c.text)
        defer { try? FileManager.default.removeItem(at: directory) }
        let played = try runUIOEmu(["play", file])
        let validated = try runUIOEmu(["validate", file])
        #expect(played.status == 2 && validated.status == 2, "\(c.name): play \(played.status), validate \(validated.status)")
        #expect(played.out.isEmpty, "\(c.name): play ran: \(played.out)")
        let expected = "\(file):\(c.at): \(c.message)"
        #expect(played.err.hasPrefix(expected), "\(c.name): play said \(played.err)")
        #expect(validated.err == played.err, "\(c.name): validate said \(validated.err)")
    }

    @Test("a misspelt board lists the boards there are and suggests the nearest")
    func misspeltBoard() throws {
        let (directory, file) = try temporaryScenario("board: p2020-fpgaa\nduration: 1ms\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try runUIOEmu(["validate", file])
        #expect(r.err.contains("expected one of ml507-ppc440, p2020-fpga (did you mean 'p2020-fpga'?)"), "\(r.err)")
        let run = try runUIOEmu(["run", "p2020-fpgaa"])
        #expect(run.status == 2)
        #expect(run.err == "error: no board named 'p2020-fpgaa' in boards: expected one of ml507-ppc440, p2020-fpga (did you mean 'p2020-fpga'?)\n",
                "\(run.err)")
        #expect(!run.err.contains("Usage"), "the usage line is for usage errors only")
    }

    @Test("a scenario and a profile are told apart by their keys, with CRLF line ends and a byte-order mark",
          arguments: ["\n", "\r\n"], [false, true])
    func kindsByKeys(lineEnd: String, byteOrderMark: Bool) throws {
        let bom = byteOrderMark ? "\u{FEFF}" : ""
        // The scenario's first line is not `board:`, which is what validate once looked for.
        let scenario = bom + ["# a comment first", "duration: 1ms", "board: p2020-fpga", "expect:", "  mismatched-bytes: 0"].joined(separator: lineEnd) + lineEnd
        let profileText = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
        let profile = bom + profileText.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: lineEnd)
        let (directory, scenarioFile) = try temporaryScenario(scenario)
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = directory.appendingPathComponent("p2020-fpga.yaml").path
        try Data(profile.utf8).write(to: URL(fileURLWithPath: profileFile))
        let r = try runUIOEmu(["validate", scenarioFile, profileFile])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "\(scenarioFile): ok (scenario)\n\(profileFile): ok (board profile)\n")
        let played = try runUIOEmu(["play", "--no-trace-hash", scenarioFile])
        #expect(played.status == 0, "\(played.err)")
    }

    @Test("a scenario beside its own boards/ directory finds its board there")
    func boardsBesideTheScenario() throws {
        let (directory, _) = try temporaryScenario("")
        defer { try? FileManager.default.removeItem(at: directory) }
        let boards = directory.appendingPathComponent("boards")
        let scenarios = directory.appendingPathComponent("scenarios")
        try FileManager.default.createDirectory(at: boards, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
        let profile = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
        try Data(profile.replacingOccurrences(of: "name: p2020-fpga", with: "name: my-board").utf8)
            .write(to: boards.appendingPathComponent("my-board.yaml"))
        let scenario = scenarios.appendingPathComponent("mine.yaml").path
        try Data("board: my-board\nduration: 1ms\n".utf8).write(to: URL(fileURLWithPath: scenario))
        // Run from the repository root, whose boards/ has no my-board.
        let r = try runUIOEmu(["play", "--no-trace-hash", scenario])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("PASS"))
    }
}
