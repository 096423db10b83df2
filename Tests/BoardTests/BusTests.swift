@testable import Board
import Testing

/// A register file standing in for a device model.
final class RegisterFile: RegisterWindow {
    var registers: [UInt32: UInt32] = [:]
    override func read32(offset: UInt32) -> UInt32 { registers[offset] ?? 0 }
    override func write32(offset: UInt32, value: UInt32) { registers[offset] = value }
}

@Suite struct BusTests {
    let ram = RAM(name: "ddr", range: AddressRange(base: PhysicalAddress(0), size: 2 << 30)!)
    let bus = Bus(physicalAddressBits: 36)
    let window = PhysicalAddress(0xF_FFB0_0000)
    let registers = RegisterFile()

    init() {
        bus.map(ram.range, to: .ram(ram))
        bus.map(AddressRange(base: window, size: 0x10000)!, to: .device(DeviceWindow(name: "dma", range: AddressRange(base: window, size: 0x10000)!, endianness: .little)))
        bus.map(AddressRange(base: PhysicalAddress(0xF_FFE0_0000), size: 1 << 20)!, to: .reserved(name: "ccsr"))
        bus.attach(registers, toWindow: "dma")
    }

    @Test func anAccessRoutesToTheRegionHoldingItsAddress() {
        #expect(bus.write32(0xDEAD_BEEF, at: PhysicalAddress(0x1000)) == nil)
        #expect(bus.read32(at: PhysicalAddress(0x1000)) == .success(0xDEAD_BEEF))
        #expect(bus.write32(7, at: window + 0x30, assuming: .little) == nil)
        #expect(registers.registers[0x30] == 7)
        #expect(bus.read8(at: PhysicalAddress(0x1000)) == .success(0xDE))
    }

    @Test func aTwoGiBRegionCostsNothingUntilTouched() {
        #expect(ram.residentPages == 0)
        #expect(bus.read64(at: PhysicalAddress(0x4000_0000)) == .success(0))
        #expect(ram.residentPages == 0)
        #expect(bus.write16(0xABCD, at: PhysicalAddress(0x4000_0000)) == nil)
        #expect(ram.residentPages == 1)
        #expect(bus.read16(at: PhysicalAddress(0x4000_0000), assuming: .little) == .success(0xCDAB))
    }

    @Test func aBlockCopyAcrossPageBoundariesRoundTrips() {
        let start = PhysicalAddress(RAM.pageSize - 100)
        let bytes = (0..<(Int(RAM.pageSize) + 300)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(bytes.withUnsafeBytes { bus.write($0, to: start) } == nil)
        #expect(ram.residentPages == 3)
        var back = [UInt8](repeating: 0xFF, count: bytes.count)
        #expect(back.withUnsafeMutableBytes { bus.read(into: $0, from: start) } == nil)
        #expect(back == bytes)
    }

    @Test func anUnmappedAccessIsABusFaultWithItsAddress() {
        let hole = PhysicalAddress(0x9000_0000)
        #expect(bus.read32(at: hole) == .failure(BusFault(address: hole, count: 4, reason: .unmapped)))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { bus.read(into: $0, from: hole) }?.reason == .unmapped)
    }

    @Test func aCopyRunningOffTheEndOfRAMFaults() {
        let nearEnd = PhysicalAddress((2 << 30) - 8)
        let bytes = [UInt8](repeating: 1, count: 16)
        #expect(bytes.withUnsafeBytes { bus.write($0, to: nearEnd) }?.reason == .straddlesRegions)
    }

    @Test func DMAIntoARegisterWindowOrReservedWindowIsRefused() {
        let bytes = [UInt8](repeating: 1, count: 16)
        #expect(bytes.withUnsafeBytes { bus.write($0, to: window) }?.reason == .notMemory)
        #expect(bytes.withUnsafeBytes { bus.write($0, to: PhysicalAddress(0xF_FFE0_0000)) }?.reason == .unmodelled)
    }

    @Test func registerWindowsTakeAlignedWordsOnly() {
        #expect(bus.read8(at: window).fault == BusFault(address: window, count: 1, reason: .unsupportedWidth))
        #expect(bus.read32(at: window + 2, assuming: .little) == .failure(BusFault(address: window + 2, count: 4, reason: .misaligned)))
    }

    @Test func aWindowWithoutAModelFaultsAsUnmodelled() {
        let other = Bus(physicalAddressBits: 32)
        let range = AddressRange(base: PhysicalAddress(0x8000_0000), size: 0x1000)!
        other.map(range, to: .device(DeviceWindow(name: "x", range: range, endianness: .little)))
        #expect(other.read32(at: range.base, assuming: .little) == .failure(BusFault(address: range.base, count: 4, reason: .unmodelled)))
    }

    // MARK: Endianness

    @Test func aMatchingByteOrderReadsTheRegisterUnchanged() {
        registers.registers[0x04] = 0x0001_0002
        #expect(bus.read32(at: window + 4, assuming: .little) == .success(0x0001_0002))
        #expect(bus.endiannessViolationCount == 0)
    }

    @Test func aNativeBigEndianReadOfALittleEndianRegisterIsByteSwappedAndReported() {
        registers.registers[0x04] = 0x0001_0002
        #expect(bus.read32(at: window + 4) == .success(0x0200_0100))
        #expect(bus.endiannessViolations == [EndiannessViolation(
            address: window + 4, direction: .read, assumed: .big, window: .little, deviceValue: 0x0001_0002, cpuValue: 0x0200_0100)])
    }

    @Test func aMismatchedWriteLandsByteSwappedAndIsReported() {
        #expect(bus.write32(0x0000_1001, at: window + 0x30, assuming: .big) == nil)
        #expect(registers.registers[0x30] == 0x0110_0000)
        #expect(bus.endiannessViolations.first?.deviceValue == 0x0110_0000)
        #expect(bus.endiannessViolations.first?.cpuValue == 0x0000_1001)
    }
}
