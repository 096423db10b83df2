import Foundation
import Testing

/// The files a run writes: never one of its inputs, never two on one path (exit 2 before anything
/// runs), and a file that cannot be written is an I/O error naming it (exit 2), not a FAIL.
@Suite("Output files (the executable)")
struct OutputFileTests {
    @Test("a trace path that is one of the inputs is refused before anything runs", arguments: ["--trace", "--perfetto", "--vcd"])
    func outputIsAnInput(option: String) throws {
        let (directory, file) = try temporaryScenario("board: p2020-fpga\nduration: 1ms\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let r = try runUIOEmu(["play", file, option, file])
        #expect(r.status == 2)
        #expect(r.out.isEmpty)
        #expect(r.err.hasPrefix("\(file): error: \(option) would overwrite the input \(file)"), "\(r.err)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == before)
        let run = try runUIOEmu(["run", "p2020-fpga", option, "boards/p2020-fpga.yaml"])
        #expect(run.status == 2)
        #expect(run.err.contains("would overwrite the input boards/p2020-fpga.yaml"), "\(run.err)")
    }

    @Test("two outputs on one path are refused, naming both options")
    func twoOutputsOnePath() throws {
        let (directory, file) = try temporaryScenario("board: p2020-fpga\nduration: 1ms\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out.json").path
        let r = try runUIOEmu(["play", file, "--trace", out, "--perfetto", directory.path + "/./out.json"])
        #expect(r.status == 2)
        #expect(r.err.contains("error: --perfetto and --trace name the same file"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let junit = try runUIOEmu(["play", file, "--vcd", out, "--junit", out])
        #expect(junit.status == 2)
        #expect(junit.err.contains("--junit and --vcd name the same file"), "\(junit.err)")
    }

    @Test("a trace that cannot be written (a full disk) is an I/O error with the path and exit 2, not a FAIL", arguments: ["play", "run"])
    func fullDisk(command: String) throws {
        let (directory, file) = try temporaryScenario("board: p2020-fpga\nduration: 2ms\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = command == "play" ? ["play", file, "--trace", "/dev/full"] : ["run", "p2020-fpga", "--duration", "2ms", "--trace", "/dev/full"]
        let r = try runUIOEmu(arguments)
        #expect(r.status == 2, "\(r.out)\(r.err)")
        #expect(r.err.hasPrefix("/dev/full: error: I/O error writing the trace: No space left on device"), "\(r.err)")
        #expect(!r.out.contains("FAIL"), "\(r.out)")
        #expect(!r.out.contains("trace-hash none"))
    }
}
