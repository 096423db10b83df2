import Board
import CAttachProtocol
import Devices
import Foundation
import Glibc
import Testing

/// A board with 16 TiB of RAM and a 900 GiB DMA pool (issue 16: the pool grew past 6 GiB), run by
/// the built-in driver and by an attached C driver that maps the pool's shared memory: both pass,
/// and the pool holds only the pages written. (Measured in this process with mincore(2): a spawned
/// child's ru_maxrss starts from its parent's peak, which the test runner's is, and a mapping's Rss
/// counts the pools of boards other tests build alongside, merged with it.)
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

    /// Runs uioemu with stdout and stderr in a file; its exit status and output.
    func run(_ arguments: [String]) throws -> (status: Int32, out: String) {
        let r = try runUIOEmu(arguments)
        return (r.status, r.out + r.err)
    }

    @Test("the built-in driver runs 10 ms on it, every byte verified")
    func builtIn() throws {
        let board = try Self.hugeBoard()
        defer { unlink(board) }
        let r = try run(["run", board, "--duration", "10ms"])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("(0 mismatched)"), "\(r.out)")
    }

    @Test("the C example attached to it maps its buffers from the shared pool and passes")
    func attached() throws {
        let board = try Self.hugeBoard()
        defer { unlink(board) }
        let r = try run(["attach", board, "--", repositoryRoot.appendingPathComponent(".build/examples/axidma-rx").path, "--count", "200"])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("axidma-rx: 200 completions"), "\(r.out)")
    }

    /// The resident kilobytes of the `length` bytes at `start`, by mincore(2).
    static func residentKiB(_ start: UnsafeMutableRawPointer, length: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (length + page - 1) / page)
        guard vector.withUnsafeMutableBufferPointer({ mincore(start, length, $0.baseAddress) }) == 0 else { return -1 }
        return vector.reduce(0) { $0 + Int($1 & 1) } * page / 1024
    }

    @Test("its pool, private or in the memfd attach shares, holds only the pages written, and RAM a page table of a few KiB",
          arguments: [false, true])
    func onlyTouchedPagesAreResident(shared: Bool) throws {
        let profile = try BoardProfile.load(path: try Self.hugeBoard(), registry: DeviceKinds.standard)
        defer { unlink(profile.file) }
        let fd: Int32? = shared ? uioemu_host_memfd("uioemu-test-pool", 0) : nil
        defer { if let fd { close(fd) } }
        let board = Board(profile: profile, sharedDMAPool: fd)
        let ram = try #require(board.ram["ddr"])
        let block = try #require(ram.backedBlock(containing: board.dmaPool.base - ram.range.base))
        #expect(block.count == 900 << 30)
        let chunk = [UInt8](repeating: 0xA5, count: 64 << 10)
        for address in [board.dmaPool.base, board.dmaPool.base + (board.dmaPool.size - (64 << 10))] {
            #expect(chunk.withUnsafeBytes { board.bus.write($0, to: address) } == nil)
        }
        // mincore over all 900 GiB takes minutes; 1 MiB windows at its ends and at 1,022 points
        // between them show what is resident: the ends that were written, nothing else.
        let window = 1 << 20
        let bytes = Int(block.count)
        let stride = (bytes / 1024) & ~(window - 1)
        let first = Self.residentKiB(block.memory, length: window)
        let last = Self.residentKiB(block.memory + (bytes - window), length: window)
        let between = (1..<1023).reduce(0) { $0 + Self.residentKiB(block.memory + $1 * stride, length: window) }
        #expect(first >= 64 && last >= 64, "the written ends: \(first) and \(last) KiB resident")
        #expect(between == 0, "\(between) KiB resident where nothing was written")
        #expect(ram.pageTableBytes <= 8 << 10)
    }
}
