import Driver
import Foundation
import SystemPackage
import Testing
@testable import LinuxUIO

@Suite("u-dma-buf buffers from an exported sysfs tree")
struct UDMABufferTests {
    func open(_ tree: ExportedTree, _ name: String = "udmabuf1", direction: UDMABuffer.SyncDirection = .fromDevice,
              calls: SystemCalls = .live) throws -> UDMABuffer {
        try UDMABuffer.open(name: name, sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot, direction: direction, calls: calls)
    }

    @Test("phys_addr, size and dma_coherent are what the heap exported")
    func attributes() throws {
        let tree = try ExportedTree()
        let exported = tree.uio.heap.liveBuffers.first { $0.name == "udmabuf1" }!
        let buffer = try open(tree)
        #expect(buffer.dmaAddress == exported.physicalAddress.rawValue)
        #expect(buffer.dmaAddress == 0x3c00_1000)
        #expect(buffer.byteCount == 4096)
        #expect(buffer.isCoherent == true)
    }

    @Test("opening sets sync_offset to 0 and sync_direction to the buffer's direction",
          arguments: [(UDMABuffer.SyncDirection.bidirectional, "0\n"), (.toDevice, "1\n"), (.fromDevice, "2\n")])
    func openWritesSyncRange(direction: UDMABuffer.SyncDirection, written: String) throws {
        let tree = try ExportedTree()
        try tree.write("0x40\n", to: "sys/class/u-dma-buf/udmabuf1/sync_offset")
        _ = try open(tree, direction: direction)
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_offset") == "0\n")
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_direction") == written)
    }

    @Test("a sync writes sync_size, then 1 to sync_for_cpu or sync_for_device; an unchanged size is not written again")
    func syncWrites() throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        let buffer = try open(tree, calls: recorder.seam)
        let directory = tree.path("sys/class/u-dma-buf/udmabuf1")
        let before = recorder.writes.count
        buffer.syncForDevice(length: 4096)
        buffer.syncForCPU(length: 100)
        buffer.syncForDevice(length: 4096)
        buffer.syncForCPU(length: 4096)
        #expect(recorder.writes.dropFirst(before).map { "\($0.path.dropFirst(directory.count + 1)) \($0.text)" } == [
            "sync_size 4096\n", "sync_for_device 1\n",
            "sync_size 100\n", "sync_for_cpu 1\n",
            "sync_size 4096\n", "sync_for_device 1\n",
            "sync_for_cpu 1\n",
        ])
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_size") == "4096\n")
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_for_cpu") == "1\n")
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_for_device") == "1\n")
        #expect(buffer.syncFailures == 0)
        #expect(recorder.count("open") == recorder.count("close"))
    }

    @Test("sync lengths are clamped to the buffer")
    func syncClamps() throws {
        let tree = try ExportedTree()
        let buffer = try open(tree)
        buffer.syncForCPU(length: 1 << 20)
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_size") == "4096\n")
        buffer.syncForCPU(length: -5)
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_size") == "0\n")
    }

    @Test("a failed sync write is counted and kept, and the size is written again next time")
    func syncFailure() throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        let buffer = try open(tree, calls: recorder.seam)
        recorder.failures = [("write", "sync_for_device", .invalidArgument), ("open", "sync_size", .permissionDenied)]
        buffer.syncForDevice(length: 64)
        #expect(buffer.syncFailures == 1)
        #expect(buffer.lastSyncError == .systemCall("open", path: tree.path("sys/class/u-dma-buf/udmabuf1/sync_size"), .permissionDenied))
        buffer.syncForDevice(length: 64)
        #expect(buffer.syncFailures == 2)
        #expect(buffer.lastSyncError == .systemCall("write", path: tree.path("sys/class/u-dma-buf/udmabuf1/sync_for_device"), .invalidArgument))
        buffer.syncForDevice(length: 64)
        #expect(buffer.syncFailures == 2)
        #expect(recorder.texts(writtenTo: "sync_size") == ["64\n"])
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf1/sync_for_device") == "1\n")
    }

    @Test("the CPU view is the mmap'ed device file")
    func cpuView() throws {
        let tree = try ExportedTree()
        let buffer = try open(tree)
        buffer.withMutableCPUBytes(count: 4) { $0.copyBytes(from: [0xDE, 0xAD, 0xBE, 0xEF]) }
        #expect(buffer.withCPUBytes(count: 8) { Array($0) } == [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 0])
        #expect(buffer.withCPUBytes(count: 1 << 20) { $0.count } == 4096)
        try buffer.unmap()
        #expect(Array(try tree.bytes("dev/udmabuf1").prefix(4)) == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(buffer.withCPUBytes(count: 8) { $0.count } == 0)
    }

    @Test("a buffer without dma_coherent (older kernels) opens with coherence unknown")
    func noCoherentAttribute() throws {
        let tree = try ExportedTree()
        try tree.remove("sys/class/u-dma-buf/udmabuf1/dma_coherent")
        #expect(try open(tree).isCoherent == nil)
    }

    @Test("wrong formats name the attribute",
          arguments: [
              ("phys_addr", "3c001000\n", "a hex DMA address like 0x000000003c000000", "3c001000"),
              ("size", "0x1000\n", "a decimal size like 4096", "0x1000"),
              ("size", "-4096\n", "a decimal size like 4096", "-4096"),
              ("dma_coherent", "yes\n", "0 or 1", "yes"),
              ("dma_coherent", "2\n", "0 or 1", "2"),
          ])
    func wrongFormat(file: String, contents: String, expected: String, found: String) throws {
        let tree = try ExportedTree()
        try tree.write(contents, to: "sys/class/u-dma-buf/udmabuf1/\(file)")
        let path = tree.path("sys/class/u-dma-buf/udmabuf1/\(file)")
        let error = linuxError { try open(tree) }
        #expect(error == .format(path: path, expected: expected, found: found))
        #expect(error?.description == "\(path): expected \(expected), found '\(found)'")
    }

    @Test("a zero size, a missing node, a short node file and unreadable attributes are located errors")
    func openErrors() throws {
        let tree = try ExportedTree()
        try tree.write("0\n", to: "sys/class/u-dma-buf/udmabuf0/size")
        #expect(linuxError { try open(tree, "udmabuf0") }
            == .invalidMap(path: tree.path("sys/class/u-dma-buf/udmabuf0/size"), reason: "expected a positive size that fits the address space, found 0"))
        try tree.remove("dev/udmabuf1")
        #expect(linuxError { try open(tree, "udmabuf1") } == .systemCall("open", path: tree.path("dev/udmabuf1"), .noSuchFileOrDirectory))
        try Data(count: 100).write(to: tree.url("dev/udmabuf2"))
        #expect(linuxError { try open(tree, "udmabuf2") }
            == .shortFile(path: tree.path("dev/udmabuf2"), fileBytes: 100, neededBytes: 4096, purpose: "the 4096-byte buffer udmabuf2"))
        try tree.makeUnreadable("sys/class/u-dma-buf/udmabuf3/phys_addr")
        #expect(linuxError { try open(tree, "udmabuf3") }
            == .systemCall("read", path: tree.path("sys/class/u-dma-buf/udmabuf3/phys_addr"), .isDirectory))
        #expect(linuxError { try open(tree, "udmabuf9") }
            == .systemCall("open", path: tree.path("sys/class/u-dma-buf/udmabuf9/phys_addr"), .noSuchFileOrDirectory))
    }

    @Test("forced errnos on the sync attributes and the mmap at open are located errors")
    func forcedOpenErrnos() throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        recorder.failures = [("write", "sync_direction", .readOnlyFileSystem)]
        #expect(linuxError { try open(tree, calls: recorder.seam) }
            == .systemCall("write", path: tree.path("sys/class/u-dma-buf/udmabuf1/sync_direction"), .readOnlyFileSystem))
        recorder.failures = [("mmap", "dev/udmabuf1", .noMemory)]
        #expect(linuxError { try open(tree, calls: recorder.seam) } == .systemCall("mmap", path: tree.path("dev/udmabuf1"), .noMemory))
        #expect(recorder.count("open") == recorder.count("close"))
    }
}

@Suite("u-dma-buf buffer provider")
struct UDMABufferProviderTests {
    func provider(_ tree: ExportedTree, _ names: [String]) -> UDMABufferProvider {
        UDMABufferProvider(names: names, sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot, direction: .fromDevice)
    }

    @Test("the first count named buffers are handed out, once")
    func allocates() throws {
        let tree = try ExportedTree()
        let buffers = provider(tree, ["udmabuf2", "udmabuf0", "udmabuf1", "udmabuf3"])
        let ring = try buffers.allocateBuffers(count: 3, byteCount: 4096).get()
        #expect(ring.map(\.name) == ["udmabuf2", "udmabuf0", "udmabuf1"])
        #expect(ring.map(\.dmaAddress) == [0x3c00_2000, 0x3c00_0000, 0x3c00_1000])
        #expect(ring.allSatisfy { $0.direction == .fromDevice })
        buffers.driverStarted()
        #expect(buffers.isDriverStarted)
        guard case let .failure(again) = buffers.allocateBuffers(count: 1, byteCount: 16) else {
            Issue.record("a second allocation succeeded")
            return
        }
        #expect(again.message == "u-dma-buf: 3 buffer(s) were already handed out; allocate the ring once, at start")
    }

    @Test("fewer names than buffers, a buffer smaller than asked or one that cannot open is a setup error")
    func setupErrors() throws {
        let tree = try ExportedTree()
        func message(_ names: [String], count: Int, byteCount: Int) -> String? {
            if case let .failure(error) = provider(tree, names).allocateBuffers(count: count, byteCount: byteCount) { return error.message }
            return nil
        }
        #expect(message(["udmabuf0", "udmabuf1"], count: 4, byteCount: 4096) == "u-dma-buf: expected 4 buffer name(s), found 2 (udmabuf0, udmabuf1)")
        #expect(message([], count: 1, byteCount: 4096) == "u-dma-buf: expected 1 buffer name(s), found 0")
        #expect(message(["udmabuf0"], count: 1, byteCount: 8192)
            == "\(tree.path("sys/class/u-dma-buf/udmabuf0/size")): expected at least 8192 bytes, found 4096")
        #expect(message(["udmabuf0", "udmabuf7"], count: 2, byteCount: 4096)
            == "u-dma-buf udmabuf7: \(tree.path("sys/class/u-dma-buf/udmabuf7/phys_addr")): open failed: \(Errno.noSuchFileOrDirectory) (errno 2)")
        #expect(message(["udmabuf0"], count: 0, byteCount: 4096) == "u-dma-buf: expected a positive buffer count, found 0")
    }
}
