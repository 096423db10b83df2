import Foundation
import Glibc
import Testing

/// A board with 16 TiB of RAM and a 900 GiB DMA pool (issue 16: the pool grew past 6 GiB), run by
/// the built-in driver and by an attached C driver that maps the pool's shared memory: both pass,
/// and uioemu's peak memory is that of a board with a 64 MiB pool.
@Suite("A 900 GiB DMA pool, built in and attached")
struct HugePoolTests {
    /// The shipped P2020 with 16 TiB of DDR at 16 TiB (48-bit physical addresses), a 900 GiB pool at
    /// its start and the AXI DMA addressing 64 bits, written to a temporary file.
    static func hugeBoard() throws -> String {
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
        for (old, new) in [
            ("physical-address-bits: 36", "physical-address-bits: 48"),
            ("    base: 0x0\n    size: 1 GiB", "    base: 0x1000_0000_0000\n    size: 16384 GiB"),
            ("  base: 0x3c00_0000\n  size: 64 MiB", "  base: 0x1000_0000_0000\n  size: 921600 MiB"),
            ("    setup-cycles: 16", "    setup-cycles: 16\n    address-width-bits: 64"),
        ] {
            #expect(text.contains(old), "boards/p2020-fpga.yaml no longer has \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-huge-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs uioemu with stdout and stderr in a file; its exit status, output and
    /// peak resident memory (wait4's ru_maxrss, KiB).
    func runMeasured(_ arguments: [String]) throws -> (status: Int32, out: String, peakKiB: Int) {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-huge-out-\(UUID().uuidString)").path
        defer { unlink(outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([uioemuExecutable.path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, uioemuExecutable.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var raw: Int32 = 0
        var usage = rusage()
        while wait4(pid, &raw, 0, &usage) < 0 && errno == EINTR {}
        let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return (status, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "", usage.ru_maxrss)
    }

    @Test("the built-in driver runs 10 ms on it, every byte verified, in under 100 MiB")
    func builtIn() throws {
        let board = try Self.hugeBoard()
        defer { unlink(board) }
        let r = try runMeasured(["run", board, "--duration", "10ms"])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("(0 mismatched)"), "\(r.out)")
        #expect(r.peakKiB < 100 << 10, "peak \(r.peakKiB) KiB")
    }

    @Test("the C example attached to it maps its buffers from the shared pool and passes, uioemu in under 100 MiB")
    func attached() throws {
        let board = try Self.hugeBoard()
        defer { unlink(board) }
        let r = try runMeasured(["attach", board, "--", repositoryRoot.appendingPathComponent(".build/examples/axidma-rx").path, "--count", "200"])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("axidma-rx: 200 completions"), "\(r.out)")
        #expect(r.peakKiB < 100 << 10, "peak \(r.peakKiB) KiB")
    }
}
