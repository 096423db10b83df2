import Foundation
import Testing

/// `uioemu trace hash FILE`: the hash a run printed, recomputed from the JSON lines it wrote.
@Suite("uioemu trace hash")
struct TraceHashCommandTests {
    @Test("trace hash of the file play --trace wrote is the hash play printed; of run --trace, the hash run printed")
    func sameAsPrinted() throws {
        let (directory, scenario) = try temporaryScenario("board: p2020-fpga\nduration: 2ms\nstream: { packet-size: { min: 64 B, max: 4 KiB } }\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("play.jsonl").path
        let play = try runUIOEmu(["play", "--json", scenario, "--trace", trace])
        #expect(play.status == 0, "\(play.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(play.out.utf8)) as? [String: Any])
        let printed = try #require(object["trace_hash"] as? String)
        let hashed = try runUIOEmu(["trace", "hash", trace])
        #expect(hashed.status == 0, "\(hashed.err)")
        #expect(hashed.out == "\(printed)  \(trace)\n")

        let runTrace = directory.appendingPathComponent("run.jsonl").path
        let run = try runUIOEmu(["run", "p2020-fpga", "--completions", "500", "--trace-hash", "--trace", runTrace, "--seed", "3"])
        let runHash = try #require(run.out.split(separator: "\n").first { $0.hasPrefix("trace-hash ") }?.dropFirst("trace-hash ".count))
        #expect(try runUIOEmu(["trace", "hash", runTrace]).out.hasPrefix("\(runHash)  "))
        #expect(runHash != printed)
    }

    @Test("a scatter-gather run's trace (descriptor fetches included) hashes from its file to the hash play printed")
    func scatterGatherTrace() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-sg-hash-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("sg.jsonl").path
        let play = try runUIOEmu(["play", "--json", "scenarios/sg-steady-stream.yaml", "--trace", trace])
        #expect(play.status == 0, "\(play.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(play.out.utf8)) as? [String: Any])
        let printed = try #require(object["trace_hash"] as? String)
        #expect(try String(contentsOfFile: trace, encoding: .utf8).contains(#""ev":"descriptor-fetch""#))
        #expect(try runUIOEmu(["trace", "hash", trace]).out == "\(printed)  \(trace)\n")
    }

    @Test("a file that is not a canonical trace is refused with its line and column (exit 2); a missing one with its path")
    func badInput() throws {
        let (directory, file) = try temporaryScenario(#"{"t":0,"ev":"irq","line":2,"level":1}"# + "\n" + #"{"t":5,"ev":"irq","line":2,"level":7}"# + "\n",
                                                      name: "bad.jsonl")
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try runUIOEmu(["trace", "hash", file])
        #expect(r.status == 2)
        #expect(r.err == "\(file):2:36: error: expected 0 or 1 for \"level\"\n")
        let missing = try runUIOEmu(["trace", "hash", directory.appendingPathComponent("none.jsonl").path])
        #expect(missing.status == 2)
        #expect(missing.err.contains("none.jsonl: error: cannot read: No such file or directory"))
    }
}
