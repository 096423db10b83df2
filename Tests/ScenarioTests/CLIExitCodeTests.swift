import Foundation
import Glibc
import Testing

/// Every command as a user runs it, through the built executable: its exit status (0 passed, 1 a
/// check failed, 2 invalid input; 130/143 after SIGINT/SIGTERM are in `InterruptionTests`), what
/// it says, and the usage line only after a usage error.
@Suite("Exit codes of every command (the executable)", .serialized)
struct CLIExitCodeTests {
    struct Case: CustomStringConvertible, Sendable {
        let arguments: [String]
        let status: Int32
        /// Text stdout (or, for a status 2, stderr) must contain.
        let says: String
        /// Whether the usage line follows (usage errors only).
        var usage = false
        var description: String { arguments.joined(separator: " ") }
    }

    static var uioemu: String { uioemuExecutable.path }

    static let cases: [Case] = [
        Case(arguments: ["run", "p2020-fpga", "--duration", "1ms"], status: 0, says: "\nPASS\n"),
        Case(arguments: ["run", "p2020-fpga", "--duration", "0.5ms", "--seed", "7", "--json"], status: 0, says: "\"seed\" : 7"),
        // The receive driver on the MM2S node hears no interrupt: the run stops short of its goal.
        Case(arguments: ["run", "p2020-fpga", "--uio", "axi-dma-mm2s", "--completions", "10"], status: 1,
             says: "FAIL the run stopped at board time "),
        Case(arguments: ["run", "p2020-fpgaa"], status: 2, says: "error: no board named 'p2020-fpgaa'"),
        Case(arguments: ["run", "p2020-fpga", "--uio", "nope"], status: 2, says: "error: board p2020-fpga has no UIO node named nope"),
        Case(arguments: ["run", "p2020-fpga", "--seed", "-1"], status: 2, says: "'--seed <seed>': must be ≥ 0, found -1", usage: true),
        Case(arguments: ["run", "p2020-fpga", "--completions", "-5"], status: 2, says: "must be ≥ 0, found -5", usage: true),
        Case(arguments: ["run", "p2020-fpga", "--duration", "-1ms"], status: 2, says: "--duration: must be ≥ 0, found -1ms", usage: true),
        Case(arguments: ["run", "p2020-fpga", "--duration", "soon"], status: 2, says: "--duration: expected a duration", usage: true),
        Case(arguments: ["play", "--no-trace-hash", "scenarios/steady-stream.yaml"], status: 0, says: "PASS  steady-stream"),
        Case(arguments: ["play", "scenarios/nope.yaml"], status: 2, says: "scenarios/nope.yaml:1:1: error: cannot open a scenario: No such file or directory"),
        Case(arguments: ["play", "--seed", "-3", "scenarios/steady-stream.yaml"], status: 2, says: "must be ≥ 0, found -3", usage: true),
        Case(arguments: ["validate", "boards/p2020-fpga.yaml", "scenarios/steady-stream.yaml"], status: 0, says: "ok (board profile)"),
        Case(arguments: ["validate", "Package.swift"], status: 2, says: "error: YAML syntax"),
        Case(arguments: ["boards"], status: 0, says: "p2020-fpga"),
        Case(arguments: ["boards", "--boards-dir", "Tests/BoardTests"], status: 0, says: "NAME"),
        Case(arguments: ["board", "show", "ml507-ppc440"], status: 0, says: "xps-intc"),
        Case(arguments: ["board", "show", "ml507"], status: 2, says: "error: no board named 'ml507'"),
        Case(arguments: ["sysfs", "export", "--board", "p2020-fpga", "/dev/full/x"], status: 2, says: "/dev/full/x: error: cannot open the directory: Not a directory"),
        Case(arguments: ["sysfs", "export", "--board", "p2020-fpga", "--buffers", "-1", "/tmp/x"], status: 2, says: "must be ≥ 0", usage: true),
        // The real-board driver, unmodified, on the emulated board: its sysfs tree and stand-ins for
        // /dev/uioN and the u-dma-buf devices are what `uioemu attach` gives a program.
        Case(arguments: ["attach", "p2020-fpga", "--", uioemu, "driver", "--uio", "axi-dma-s2mm", "--udmabuf", "udmabuf0", "--udmabuf", "udmabuf1",
                         "--count", "50"], status: 0, says: "completions        50"),
        // 1 KiB buffers for 4 KiB packets: every transfer ends in DMAIntErr, the driver gives up.
        Case(arguments: ["attach", "p2020-fpga", "--", uioemu, "driver", "--uio", "axi-dma-s2mm", "--udmabuf", "udmabuf0", "--count", "50",
                         "--buffer-bytes", "1024"], status: 1, says: "state: failed"),
        Case(arguments: ["driver", "--uio", "axi-dma-s2mm", "--udmabuf", "udmabuf0", "--count", "1", "--sysfs-root", "/nonexistent"], status: 2,
             says: "/nonexistent"),
        Case(arguments: ["driver", "--uio", "axi-dma-s2mm", "--count", "1"], status: 2, says: "--udmabuf: expected at least one", usage: true),
        Case(arguments: ["attach", "p2020-fpga", "--", "/bin/true"], status: 0, says: "PASS (exit 0)"),
        Case(arguments: ["attach", "p2020-fpga", "--", "/bin/false"], status: 1, says: "FAIL (exit 1)"),
        Case(arguments: ["attach", "p2020-fpga"], status: 2, says: "expected a command after --", usage: true),
        Case(arguments: ["diff", "scenarios/steady-stream.yaml", "scenarios/steady-stream.yaml"], status: 0, says: "the same events"),
        Case(arguments: ["diff", "scenarios/steady-stream.yaml", "scenarios/spurious-interrupt.yaml"], status: 1, says: "differ at event 1"),
        Case(arguments: ["diff", "scenarios/steady-stream.yaml", "nope.jsonl"], status: 2, says: "nope.jsonl: error: cannot read"),
    ]

    @Test("each command exits with its documented status and says why", arguments: cases)
    func exitStatus(_ c: Case) throws {
        let r = try runUIOEmu(c.arguments)
        #expect(r.status == c.status, "\(c): \(r.out)\(r.err)")
        let said = c.status == 2 ? r.err : r.out
        #expect(said.contains(c.says), "\(c) said: \(said)")
        #expect(r.err.contains("Usage:") == c.usage, "\(c): the usage line \(c.usage ? "is missing" : "follows an input error"): \(r.err)")
    }

    @Test("boards with a broken profile in its directory lists the rest and exits 2 with the located error")
    func brokenProfileInTheBoardsDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-boards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), to: directory.appendingPathComponent("p2020-fpga.yaml"))
        try Data("name: broken\ncpu: 3\n".utf8).write(to: directory.appendingPathComponent("broken.yaml"))
        let r = try runUIOEmu(["boards", "--boards-dir", directory.path])
        #expect(r.status == 2)
        #expect(r.out.contains("p2020-fpga"))
        #expect(r.err.contains("broken.yaml:2:6: error: "), "\(r.err)")
    }

    @Test("--shard i/n over the shipped scenarios plays each exactly once")
    func shardsCoverEveryScenarioOnce() throws {
        let files = try shippedScenarioFiles().map { "scenarios/" + URL(fileURLWithPath: $0).lastPathComponent }
        var played: [String] = []
        for index in 1...3 {
            let r = try runUIOEmu(["play", "--json", "--no-trace-hash", "--shard", "\(index)/3"] + files)
            #expect(r.status == 0, "shard \(index)/3: \(r.err)")
            for line in r.out.split(separator: "\n") where line.hasPrefix("{") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                played.append(try #require(object["file"] as? String))
            }
        }
        #expect(played.sorted() == files.sorted())
    }
}
