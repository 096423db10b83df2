import Board
import Reactor
import Testing
import UIO

@testable import Attach

@Suite("The stand-in /sys and /dev tree")
struct StandInTreeTests {
    /// The shipped P2020 profile with two u-dma-buf buffers, written into a fresh directory.
    static func makeTree() throws -> (StandInTree, UIOSystem, String) {
        let profile = try ShippedBoard.profile("p2020-fpga")
        let reactor = Reactor(clock: .virtual)
        let board = Board(profile: profile)
        let uio = UIOSystem(board: board, reactor: reactor)
        _ = uio.heap.allocate(size: 65536, name: "udmabuf-rx")
        guard case let .success(root) = AttachSystemCalls.makeRunDirectory() else { throw TreeError() }
        #expect(StandInTree.write(for: uio, at: root) == nil)
        return (StandInTree(root: root), uio, root)
    }

    struct TreeError: Error {}

    @Test("UIO nodes, their event counts, u-dma-buf attributes and the device files each resolve to what serves them")
    func resolve() throws {
        let (tree, _, root) = try Self.makeTree()
        defer { AttachSystemCalls.removeTree(root) }
        #expect(tree.resolve("/dev/uio0") == .uio(index: 0))
        #expect(tree.resolve("/dev/uio1") == .uio(index: 1))
        #expect(tree.resolve("/dev/uio9") == .missing)
        #expect(tree.resolve("/dev/udmabuf-rx") == .buffer(name: "udmabuf-rx"))
        #expect(tree.resolve("/dev/mem") == .devmem)
        #expect(tree.resolve("/sys/class/uio/uio0/event") == .eventCount(uio: 0))
        #expect(tree.resolve("/sys/class/uio/uio0/name") == .file(root + "/sys/class/uio/uio0/name"))
        #expect(tree.resolve("/sys/class/uio/uio0/maps/map0/addr") == .file(root + "/sys/class/uio/uio0/maps/map0/addr"))
        #expect(tree.resolve("/sys/class/u-dma-buf/udmabuf-rx/sync_for_cpu") == .bufferAttribute(buffer: "udmabuf-rx", attribute: "sync_for_cpu"))
        #expect(tree.resolve("/sys/class/u-dma-buf/udmabuf-rx/nonsense") == .missing)
    }

    @Test("the static files hold the kernel's formats")
    func contents() throws {
        let (_, uio, root) = try Self.makeTree()
        defer { AttachSystemCalls.removeTree(root) }
        func read(_ path: String) -> String {
            guard let f = fopen(root + path, "r") else { return "" }
            defer { fclose(f) }
            var bytes = [CChar](repeating: 0, count: 256)
            let n = fread(&bytes, 1, 255, f)
            return String(decoding: bytes[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #expect(read("/sys/class/uio/uio0/name") == uio.devices[0].name + "\n")
        #expect(read("/sys/class/uio/uio0/version") == "devicetree\n")
        // phys_addr_t is 64-bit on the 36-bit P2020: %pa prints 16 digits.
        #expect(read("/sys/class/u-dma-buf/udmabuf-rx/phys_addr") == "0x000000003c000000\n")
        #expect(read("/sys/class/u-dma-buf/udmabuf-rx/size") == "65536\n")
    }
}

import Glibc
