import Board
import Devices
import Testing

/// RAM and the DMA pool are lazy, and what keeps track of them does not grow with the size a
/// profile declares (issue 16: 2^62 bytes of RAM aborted, 16 TiB cost 2 GB, a 900 GiB pool grew
/// past 6 GiB).
@Suite struct HugeMemoryTests {
    /// A board with `ram` bytes of RAM at `base` and a pool of `pool` bytes at its start, 48-bit
    /// (or `bits`) physical addresses, the AXI DMA at 0x8000_0000 with 64-bit addressing.
    static func profileText(bits: Int = 48, ramBase: String, ram: String, pool: String) -> String {
        profile(replacing: [
            6: "  physical-address-bits: \(bits)", 9: "    base: \(ramBase)", 10: "    size: \(ram)",
            12: "  base: \(ramBase)", 13: "  size: \(pool)", 27: "    length-width-bits: 23\n    address-width-bits: 64",
        ])
    }

    @Test("2^62 bytes of RAM with 64-bit addresses: a page table of a few KiB, written and read at both ends")
    func twoToTheSixtySecondBytes() {
        let base = PhysicalAddress(1 << 62)
        let ram = RAM(name: "ddr", range: AddressRange(base: base, size: 1 << 62)!)
        #expect(ram.pageTableBytes <= 8 << 10)
        let bus = Bus(physicalAddressBits: 64)
        bus.map(ram.range, to: .ram(ram))
        let last = PhysicalAddress((1 << 63) - 8)
        #expect(bus.write64(0x0123_4567_89AB_CDEF, at: base) == nil)
        #expect(bus.write64(0xFEDC_BA98_7654_3210, at: last) == nil)
        #expect(bus.read64(at: base) == .success(0x0123_4567_89AB_CDEF))
        #expect(bus.read64(at: last) == .success(0xFEDC_BA98_7654_3210))
        #expect(bus.read64(at: PhysicalAddress(3 << 61)) == .success(0), "untouched reads zero")
        #expect(ram.residentPages == 2)
        #expect(ram.pageTableBytes <= 8 << 10 + 6 * (32 << 10), "three nodes on the way to each of the two pages")
    }

    @Test("16 TiB of RAM costs a page table of bytes, not gigabytes, until written")
    func sixteenTebibytes() {
        let ram = RAM(name: "ddr", range: AddressRange(base: PhysicalAddress(0), size: 16 << 40)!)
        #expect(ram.pageTableBytes <= 8 << 10)
        ram.back(AddressRange(base: PhysicalAddress(0x1000_0000), size: 900 << 30)!)
        #expect(ram.pageTableBytes <= 8 << 10, "a backed span takes no page table entries")
    }

    @Test("pages written before a span is backed move into the block with their bytes")
    func backingKeepsWrittenPages() {
        let ram = RAM(name: "ddr", range: AddressRange(base: PhysicalAddress(0), size: 1 << 30)!)
        let bus = Bus(physicalAddressBits: 36)
        bus.map(ram.range, to: .ram(ram))
        #expect(bus.write32(0xC0FF_EE00, at: PhysicalAddress(0x10_0040)) == nil)
        #expect(bus.write32(0x1234_5678, at: PhysicalAddress(0x30_0000)) == nil)
        ram.back(AddressRange(base: PhysicalAddress(0x10_0000), size: 0x10_0000)!)
        #expect(bus.read32(at: PhysicalAddress(0x10_0040)) == .success(0xC0FF_EE00))
        #expect(bus.read32(at: PhysicalAddress(0x30_0000)) == .success(0x1234_5678), "outside the span: untouched")
        #expect(bus.contiguousRAM(at: PhysicalAddress(0x10_0000), count: 0x10_0000) != nil)
        #expect(ram.residentPages == 16 + 1)
    }

    @Test("a 900 GiB pool in 16 TiB of RAM loads, builds and carves buffers at both of its ends")
    func aNineHundredGiBPoolBuilds() throws {
        let text = Self.profileText(ramBase: "0x1000_0000_0000", ram: "16384 GiB", pool: "921600 MiB")
        let profile = try BoardProfile.parse(text, file: "huge.yaml", registry: DeviceKinds.standard)
        let board = Board(profile: profile)
        let ram = try #require(board.ram["ddr"])
        #expect(ram.pageTableBytes <= 8 << 10)
        let end = board.dmaPool.base + (board.dmaPool.size - 8)
        #expect(board.bus.read64(at: end) == .success(0))
        #expect(board.bus.write64(42, at: end) == nil)
        #expect(board.bus.read64(at: end) == .success(42))
        #expect(ram.pageTableBytes <= 8 << 10, "the pool's pages are the block's, never the table's")
    }

    @Test("a pool over 1 TiB is a located error; so is RAM beyond the physical address bits")
    func tooLargeIsLocated() {
        let pool = diagnostics(of: Self.profileText(ramBase: "0x1000_0000_0000", ram: "16384 GiB", pool: "2049 GiB"))
        #expect(pool.map(\.description) == [
            "test.yaml:13:9: error: dma-pool of 2049 GiB is larger than uioemu backs: expected at most 1024 GiB (a real pool is a few MiB to a few GiB)",
        ])
        let ram = diagnostics(of: Self.profileText(bits: 44, ramBase: "0x1000_0000_0000", ram: "16384 GiB", pool: "64 MiB"))
        #expect(ram.count == 1)
        #expect(ram.first?.description.hasPrefix("test.yaml:9:11: error: address beyond the 44-bit physical space: memory region 'ddr'") == true)
    }
}
