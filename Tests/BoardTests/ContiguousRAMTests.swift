import Board
import Testing

/// `Bus.contiguousRAM`: a bus master writing in place (the S2MM device) gets a pointer only where
/// the bytes are one contiguous resident span, and what it writes there is what the bus reads.
@Suite struct ContiguousRAMTests {
    /// 1 MiB of RAM at 0x10_0000 with 256 KiB backed at 0x14_0000, and a second RAM right after it.
    static func makeBus() -> (Bus, RAM) {
        let bus = Bus(physicalAddressBits: 36)
        let ram = RAM(name: "ddr", range: AddressRange(base: PhysicalAddress(0x10_0000), size: 0x10_0000)!)
        ram.back(AddressRange(base: PhysicalAddress(0x14_0000), size: 0x4_0000)!)
        bus.map(ram.range, to: .ram(ram))
        let other = RAM(name: "sram", range: AddressRange(base: PhysicalAddress(0x20_0000), size: 0x1_0000)!)
        bus.map(other.range, to: .ram(other))
        return (bus, ram)
    }

    @Test("inside a backed span, again and again, the pointer is the memory the bus reads")
    func insideBacked() throws {
        let (bus, _) = Self.makeBus()
        for (address, count) in [(0x14_0000, 4096), (0x17_F000, 4096), (0x14_FFF0, 100), (0x14_0001, 0x3_FFFF)] {
            let target = try #require(bus.contiguousRAM(at: PhysicalAddress(UInt64(address)), count: count))
            for i in 0..<count { target.storeBytes(of: UInt8(truncatingIfNeeded: i &+ address), toByteOffset: i, as: UInt8.self) }
            var back = [UInt8](repeating: 0, count: count)
            #expect(back.withUnsafeMutableBytes { bus.read(into: $0, from: PhysicalAddress(UInt64(address))) } == nil)
            #expect(back == (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ address) }, "at \(address)")
        }
    }

    @Test("a backed span starts on a host page boundary, so DMA buffers in it are cache-line aligned")
    func backedIsPageAligned() throws {
        let (bus, _) = Self.makeBus()
        let start = try #require(bus.contiguousRAM(at: PhysicalAddress(0x14_0000), count: 64))
        #expect(Int(bitPattern: start) % 4096 == 0)
        let buffer = try #require(bus.contiguousRAM(at: PhysicalAddress(0x15_1000), count: 64))
        #expect(Int(bitPattern: buffer) % 64 == 0)
    }

    @Test("a span leaving the backed block, or in pages never written, gets no pointer (even right after a hit)")
    func outsideBacked() throws {
        let (bus, ram) = Self.makeBus()
        _ = try #require(bus.contiguousRAM(at: PhysicalAddress(0x17_0000), count: 16))
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x17_FFF0), count: 32) == nil, "runs past the block into an absent page")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x13_FFF0), count: 32) == nil, "starts before the block")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x10_0000), count: 16) == nil, "page not resident")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x1F_FFF0), count: 32) == nil, "straddles two RAM regions")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x30_0000), count: 16) == nil, "unmapped")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x17_0000), count: 0) == nil)
        #expect(ram.residentPages == 4, "asking allocates nothing")
    }
}
