import Foundation
import Testing

/// The commands speak with one voice: the same JSON key style and names for the same figures, the
/// seed in every report and PASS line, the same trace options, the same hash for the same run.
@Suite("One voice across commands (the executable)", .serialized)
struct OneVoiceTests {
    /// Keys whose values are data keyed by name (a DMASR bit, a drop reason, a percentile), not fields.
    static let dataDictionaries: Set<String> = ["errors", "bytes_dropped_by_reason", "findings", "latency_nanoseconds"]

    /// Every key of `value`, recursively, outside the data dictionaries.
    func keys(_ value: Any, path: String = "") -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, inner in
                [path + key] + (Self.dataDictionaries.contains(key) ? [] : keys(inner, path: path + key + "."))
            }
        }
        if let array = value as? [Any] { return array.flatMap { keys($0, path: path) } }
        return []
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
        let r = try runUIOEmu(arguments)
        #expect(r.status == 0, "\(arguments): \(r.err)")
        let text = arguments.first == "play" ? String(r.out.split(separator: "\n").first ?? "") : r.out
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(arguments): \(r.out)")
    }

    static let commands: [[String]] = [
        ["run", "p2020-fpga", "--duration", "1ms", "--json"],
        ["play", "--json", "scenarios/steady-stream.yaml"],
        ["attach", "p2020-fpga", "--json", "--", "/bin/true"],
        ["boards", "--json"],
        ["board", "show", "p2020-fpga", "--json"],
    ]

    @Test("every --json key is snake_case, at every depth", arguments: commands)
    func snakeCaseKeys(arguments: [String]) throws {
        let object = try json(arguments)
        let bad = keys(object).filter { $0.split(separator: ".").last!.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) == nil }
        #expect(bad.isEmpty, "\(arguments): \(bad)")
    }

    @Test("run, play and attach name the same figures the same way, with the seed and a lowercase result")
    func sameNames() throws {
        let reports = try [Self.commands[0], Self.commands[1], Self.commands[2]].map(json)
        for key in ["seed", "result", "completions", "bytes_delivered", "bytes_dropped", "board_time_nanoseconds"] {
            for (report, command) in zip(reports, ["run", "play", "attach"]) {
                #expect(report[key] != nil, "\(command) --json has no \(key)")
                if key != "result" { #expect(report[key] is NSNumber, "\(command): \(key) is not a number") }
            }
        }
        #expect(reports.map { $0["result"] as? String } == ["pass", "pass", "pass"])
        let board = try json(Self.commands[3])
        let first = try #require((board["boards"] as? [[String: Any]])?.first)
        #expect((first["cpu"] as? [String: Any])?["clock_hz"] is NSNumber, "the CPU is fields, not a formatted string")
        #expect((first["interrupt_controller"] as? [String: Any])?["lines"] is NSNumber)
    }

    @Test("the seed is in every text report and PASS line")
    func seedEverywhere() throws {
        #expect(try runUIOEmu(["run", "p2020-fpga", "--duration", "1ms", "--seed", "9"]).out.hasPrefix("seed 9\n"))
        #expect(try runUIOEmu(["play", "--seed", "9", "scenarios/steady-stream.yaml"]).out.contains(" seed 9 "))
        #expect(try runUIOEmu(["attach", "p2020-fpga", "--seed", "9", "--", "/bin/true"]).out.hasPrefix("seed 9\n"))
    }

    @Test("run, play and attach take the same trace options", arguments: ["run", "play", "attach"])
    func sameTraceOptions(command: String) throws {
        let help = try runUIOEmu([command, "--help"]).out
        for option in ["--trace <FILE>", "--perfetto <FILE>", "--vcd <FILE>", "--trace-hash/--no-trace-hash"] {
            #expect(help.contains(option), "\(command) --help has no \(option)")
        }
    }

    @Test("run and play of the same workload print the same trace hash; --no-trace-hash leaves it out")
    func sameHash() throws {
        let (directory, scenario) = try temporaryScenario("board: p2020-fpga\nduration: 1ms\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try runUIOEmu(["run", "p2020-fpga", "--duration", "1ms", "--trace-hash"])
        let hash = try #require(run.out.split(separator: "\n").first { $0.hasPrefix("trace-hash ") }?.dropFirst("trace-hash ".count))
        #expect(hash.count == 64)
        #expect(try runUIOEmu(["play", scenario]).out.contains("trace-hash \(hash.prefix(12))"))
        #expect(!(try runUIOEmu(["play", "--no-trace-hash", scenario]).out.contains("trace-hash")))
        #expect(!(try runUIOEmu(["run", "p2020-fpga", "--duration", "1ms"]).out.contains("trace-hash")))
    }

    @Test("run --uio picks the node; by default it is the board's first node on an S2MM interrupt, whatever its name")
    func runUIONode() throws {
        let (directory, _) = try temporaryScenario("")
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "axi-dma-s2mm", with: "rx0")
        let path = directory.appendingPathComponent("renamed.yaml").path
        try Data(profile.utf8).write(to: URL(fileURLWithPath: path))
        let r = try runUIOEmu(["run", path, "--duration", "1ms"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try runUIOEmu(["run", path, "--duration", "1ms", "--uio", "rx0"]).status == 0)
    }
}
