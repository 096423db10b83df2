import Foundation
import Glibc
import Testing

/// SIGINT and SIGTERM end `play`, `run` and `attach` cleanly, and each says so the same way:
/// `INTERRUPTED by SIGINT at board time ...` (never PASS), `"result": "interrupted"` in JSON, the
/// summary and trace files still written, and exit 128 + the signal (130, 143), as a shell reports a
/// process the signal killed.
@Suite("Interrupted runs (the executable)")
struct InterruptionTests {
    enum Command: String, CaseIterable {
        case play, run, attach
    }

    /// The command line for `command`, long enough that only the signal ends it, writing a trace.
    func arguments(_ command: Command, trace: String, json: Bool, scenario: String) -> [String] {
        let jsonFlag = json ? ["--json"] : []
        switch command {
        case .play: return ["play", scenario, "--trace", trace] + jsonFlag
        case .run: return ["run", "p2020-fpga", "--duration", "1h", "--trace", trace] + jsonFlag
        case .attach:
            // The program sleeps in board time for ever: only the signal ends the run.
            return ["attach", "p2020-fpga", "--trace", trace] + jsonFlag + ["--", "/bin/sh", "-c", "while :; do sleep 1; done"]
        }
    }

    @Test("a stop signal prints INTERRUPTED with the board time, still writes the summary and the trace, and exits 128 + signal",
          arguments: Command.allCases, [SIGINT, SIGTERM])
    func interrupted(command: Command, signal: Int32) throws {
        let (directory, scenario) = try temporaryScenario("board: p2020-fpga\nduration: 1h\nexpect:\n  mismatched-bytes: 0\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("trace.jsonl").path
        let process = try SpawnedUIOEmu(arguments(command, trace: trace, json: false, scenario: scenario))
        #expect(process.waitForStopSignalHandlers(), "uioemu \(command) never installed its SIGINT/SIGTERM handlers")
        kill(process.pid, signal)
        let r = process.wait()
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(r.exited && r.status == 128 + signal, "\(command): exited \(r.exited) status \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("INTERRUPTED by \(name) at board time "), "\(r.out)")
        #expect(!r.out.contains("PASS"), "\(r.out)")
        // The summary is there: every command prints its seed and its figures before the verdict.
        #expect(r.out.contains("seed 1"), "\(r.out)")
        #expect(r.out.contains("completions"), "\(r.out)")
        // Written and closed; an attached program that never touched the board leaves it empty.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: trace)[.size] as? Int, "no trace file")
        #expect(size > 0 || command == .attach, "the trace file is empty")
    }

    @Test("--json says \"result\": \"interrupted\", with the signal and the board time", arguments: Command.allCases)
    func interruptedJSON(command: Command) throws {
        let (directory, scenario) = try temporaryScenario("board: p2020-fpga\nduration: 1h\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("trace.jsonl").path
        let process = try SpawnedUIOEmu(arguments(command, trace: trace, json: true, scenario: scenario))
        #expect(process.waitForStopSignalHandlers())
        kill(process.pid, SIGINT)
        let r = process.wait()
        #expect(r.exited && r.status == 130, "\(r.err)")
        // play prints one object per line; run and attach one object.
        let text = command == .play ? String(r.out.split(separator: "\n").first ?? "") : r.out
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(r.out)")
        #expect(object["result"] as? String == "interrupted")
        #expect(object["signal"] as? String == "SIGINT")
        #expect(object["seed"] as? Int == 1)
        #expect(object["board_time_nanoseconds"] as? Int != nil, "\(object.keys.sorted())")
    }
}
