import Driver
import Foundation
import SystemPackage
import Testing
@testable import LinuxUIO

@Suite("UIO register mapping over an mmap'ed regular file")
struct UIORegisterMappingTests {
    @Test("a little-endian store lands least significant byte first in the file and reads back")
    func littleEndianRoundTrip() throws {
        let tree = try ExportedTree()
        let registers = try tree.locator().locate(name: "axi-dma-s2mm").mapRegisters()
        #expect(registers.byteCount == 0x10000)
        registers.write32(0x48, 0x1122_3344, .little)
        #expect(registers.read32(0x48, .little) == 0x1122_3344)
        #expect(registers.read32(0x48, .big) == 0x4433_2211)
        try registers.unmap()
        #expect(Array(try tree.bytes("dev/uio0")[0x48..<0x4C]) == [0x44, 0x33, 0x22, 0x11])
    }

    @Test("a big-endian store lands most significant byte first in the file and reads back")
    func bigEndianRoundTrip() throws {
        let tree = try ExportedTree()
        let registers = try tree.locator().locate(name: "axi-dma-s2mm").mapRegisters()
        registers.write32(0xFFFC, 0xA1B2_C3D4, .big)
        #expect(registers.read32(0xFFFC, .big) == 0xA1B2_C3D4)
        #expect(registers.read32(0xFFFC, .little) == 0xD4C3_B2A1)
        try registers.unmap()
        #expect(Array(try tree.bytes("dev/uio0")[0xFFFC..<0x10000]) == [0xA1, 0xB2, 0xC3, 0xD4])
    }

    @Test("a value written into the file by someone else (the device) is what a load returns")
    func loadsSeeTheFile() throws {
        let tree = try ExportedTree()
        let registers = try tree.locator().locate(name: "axi-dma-s2mm").mapRegisters()
        let handle = try FileHandle(forWritingTo: tree.url("dev/uio0"))
        try handle.seek(toOffset: 0x34)
        try handle.write(contentsOf: Data([0x01, 0x10, 0x00, 0x00]))  // DMASR: Halted | IOC_Irq, little-endian
        try handle.close()
        #expect(registers.read32(0x34, .little) == 0x0000_1001)
    }

    @Test("accesses outside the mapping, misaligned or after unmap are counted faults, loads read all ones")
    func faults() throws {
        let tree = try ExportedTree()
        let registers = try tree.locator().locate(name: "axi-dma-s2mm").mapRegisters()
        #expect(registers.read32(0x10000, .little) == 0xFFFF_FFFF)
        #expect(registers.read32(0xFFFE, .little) == 0xFFFF_FFFF)
        #expect(registers.read32(0x2, .little) == 0xFFFF_FFFF)
        registers.write32(UInt32.max &- 3, 1, .little)
        #expect(registers.faults == 4)
        try registers.unmap()
        #expect(registers.read32(0, .little) == 0xFFFF_FFFF)
        #expect(registers.faults == 5)
        #expect(try tree.bytes("dev/uio0").allSatisfy { $0 == 0 })
    }

    @Test("a device file shorter than the map is refused before mmap, saying what the map needs")
    func shortMap() throws {
        let tree = try ExportedTree()
        try Data(count: 4096).write(to: tree.url("dev/uio0"))
        let recorder = CallRecorder()
        let node = try tree.locator(recorder.seam).locate(name: "axi-dma-s2mm")
        let error = linuxError { try node.mapRegisters() }
        #expect(error == .shortFile(path: tree.path("dev/uio0"), fileBytes: 4096, neededBytes: 65536,
                                    purpose: "map0 (65536 bytes at mmap offset 0 = 0 × page size \(sysconf(Int32(_SC_PAGESIZE))))"))
        #expect(error?.description.hasPrefix("\(tree.path("dev/uio0")): expected at least 65536 bytes for map0") == true)
        #expect(recorder.count("mmap") == 0)
        #expect(recorder.count("open") == recorder.count("close"))
    }

    @Test("a map whose size is zero in sysfs is refused before the node is opened")
    func zeroSizeMap() throws {
        let tree = try ExportedTree()
        try tree.write("0x0000000000000000\n", to: "sys/class/uio/uio0/maps/map0/size")
        let recorder = CallRecorder()
        let node = try tree.locator(recorder.seam).locate(name: "axi-dma-s2mm")
        #expect(linuxError { try node.mapRegisters() }
            == .invalidMap(path: tree.path("sys/class/uio/uio0/maps/map0/size"), reason: "expected a positive size, found 0 (the kernel lists no map of size 0)"))
        #expect(!recorder.calls.contains { $0.name == "open" && $0.path == tree.path("dev/uio0") })
    }

    @Test("a missing device node is an open ENOENT naming the node")
    func missingNode() throws {
        let tree = try ExportedTree()
        try tree.remove("dev/uio0")
        let node = try tree.locator().locate(name: "axi-dma-s2mm")
        let error = linuxError { try node.mapRegisters() }
        #expect(error == .systemCall("open", path: tree.path("dev/uio0"), .noSuchFileOrDirectory))
        #expect(error?.description.hasPrefix("\(tree.path("dev/uio0")): open failed: ") == true)
    }

    @Test("mmap is asked for map N at offset N × page size, read/write, and the descriptor is closed after")
    func mmapArguments() throws {
        let tree = try ExportedTree()
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        // A second map of one page at 0x100 into its page, after the registers.
        try tree.write("extra\n", to: "sys/class/uio/uio0/maps/map1/name")
        try tree.write("0x0000000fffb10100\n", to: "sys/class/uio/uio0/maps/map1/addr")
        try tree.write("0x0000000000000100\n", to: "sys/class/uio/uio0/maps/map1/size")
        try tree.write("0x100\n", to: "sys/class/uio/uio0/maps/map1/offset")
        try Data(count: 2 * pageSize).write(to: tree.url("dev/uio0"))
        var requests: [(length: Int, offset: Int64)] = []
        let recorder = CallRecorder()
        var calls = recorder.seam
        let mmap = calls.mmap
        calls.mmap = { fd, length, offset in
            requests.append((length, offset))
            return mmap(fd, length, offset)
        }
        let node = try tree.locator(calls).locate(name: "axi-dma-s2mm")
        #expect(node.maps.map(\.index) == [0, 1])
        let extra = try node.mapRegisters(map: 1)
        #expect(requests.count == 1)
        #expect(requests.first?.offset == Int64(pageSize))
        #expect(requests.first?.length == pageSize)
        #expect(recorder.openOptions[tree.path("dev/uio0")] == [.closeOnExec])
        #expect(recorder.count("open") == recorder.count("close"))
        extra.write32(0x100, 0xCAFE_F00D, .little)
        try extra.unmap()
        #expect(Array(try tree.bytes("dev/uio0")[(pageSize + 0x100)..<(pageSize + 0x104)]) == [0x0D, 0xF0, 0xFE, 0xCA])
    }

    @Test("forced errnos from sysconf, fstat, mmap and munmap are located errors",
          arguments: [("sysconf", Errno.invalidArgument), ("fstat", .ioError), ("mmap", .noMemory), ("munmap", .invalidArgument)])
    func forcedErrnos(call: String, errno: Errno) throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        recorder.failures = [(call, nil, errno)]
        let node = try tree.locator(recorder.seam).locate(name: "axi-dma-s2mm")
        let error = linuxError {
            let registers = try node.mapRegisters()
            try registers.unmap()
        }
        let path = call == "sysconf" ? tree.path("sys/class/uio/uio0/maps/map0") : tree.path("dev/uio0")
        #expect(error == .systemCall(call == "sysconf" ? "sysconf(_SC_PAGESIZE)" : call, path: path, errno))
    }
}
