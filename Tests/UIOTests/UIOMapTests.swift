import Board
import Reactor
import SystemPackage
import Testing
@testable import UIO

@Suite("UIO maps and mmap")
struct UIOMapTests {
    @Test("map N is selected by mmap offset N × page size; other offsets fail with EINVAL")
    func mapSelection() {
        let rig = Rig()
        #expect(rig.s2mm.maps.count == 1)
        let mapping = try? rig.s2mm.mmap(offset: 0, length: 4096).get()
        #expect(mapping?.map.index == 0)
        #expect(mapping?.map.address == PhysicalAddress(0xF_FFB0_0000))
        #expect(rig.s2mm.mmap(offset: 4096, length: 4096).failure == .invalidArgument)  // map1 does not exist
        #expect(rig.s2mm.mmap(offset: 5 * 4096, length: 4096).failure == .invalidArgument)
        #expect(rig.s2mm.mmap(offset: 100, length: 4096).failure == .invalidArgument)  // not a page multiple
    }

    @Test("mapping more than the map's pages fails with EINVAL")
    func mapBounds() {
        let rig = Rig()
        let size = rig.s2mm.maps[0].size
        #expect((try? rig.s2mm.mmap(offset: 0, length: size).get()) != nil)
        #expect(rig.s2mm.mmap(offset: 0, length: size + 4096).failure == .invalidArgument)
        #expect(rig.s2mm.mmap(offset: 0, length: 0).failure == .invalidArgument)
    }

    @Test("register access outside the mapping or unaligned is refused, not trapped")
    func accessOutsideMapping() {
        let rig = Rig()
        let mapping = try! rig.s2mm.mmap(offset: 0, length: 4096).get()
        #expect(mapping.read32(at: 4096, assuming: .little).failure == .outsideMapping(offset: 4096, length: 4096))
        #expect(mapping.read32(at: 2, assuming: .little).failure == .outsideMapping(offset: 2, length: 4096))
        #expect(mapping.write32(1, at: 4094, assuming: .little) == .outsideMapping(offset: 4094, length: 4096))
    }

    @Test("register access goes through the board bus: a window with no model answers with a bus fault")
    func accessGoesThroughBus() {
        let rig = Rig()
        let mapping = try! rig.s2mm.mmap(offset: 0, length: 4096).get()
        guard case let .bus(fault)? = mapping.read32(at: 0x34, assuming: .little).failure else {
            Issue.record("expected a bus fault")
            return
        }
        #expect(fault.address == PhysicalAddress(0xF_FFB0_0034))
    }

    @Test("a mapped register in the window's byte order reaches the model unchanged; the other order is swapped and logged by the bus")
    func byteOrderThroughTheMapping() {
        let rig = Rig()
        let mapping = try! rig.s2mm.mmap(offset: 0, length: 4096).get()
        let model = Scratchpad()
        #expect(rig.board.bus.attach(model, toWindow: "fpga-dma"))  // after the mmap: the mapping sees it
        mapping.write32(0x1122_3344, at: 0x48, assuming: .little)
        #expect(model.words[0x48] == 0x1122_3344)
        #expect(mapping.read32(at: 0x48, assuming: .little) == .success(0x1122_3344))
        #expect(rig.board.bus.endiannessViolationCount == 0)
        // A native big-endian load of the little-endian AXI register, as `in_be32` would do.
        #expect(mapping.read32(at: 0x48, assuming: .big) == .success(0x4433_2211))
        mapping.write32(0xAABB_CCDD, at: 0x4C, assuming: .big)
        #expect(model.words[0x4C] == 0xDDCC_BBAA)
        #expect(rig.board.bus.endiannessViolationCount == 2)
        #expect(rig.board.bus.endiannessViolations.map(\.direction) == [.read, .write])
        #expect(mapping.faults == 0)
    }
}

/// A register window that stores what is written, for routing tests.
final class Scratchpad: RegisterWindow {
    var words: [UInt32: UInt32] = [:]
    override func read32(offset: UInt32) -> UInt32 { words[offset] ?? 0 }
    override func write32(offset: UInt32, value: UInt32) { words[offset] = value }
}

extension Result {
    var failure: Failure? {
        if case let .failure(e) = self { return e }
        return nil
    }
}
