import Trace

/// The physical address space as the CPU and bus masters see it: RAM regions, device register
/// windows and reserved (unmodelled) windows, none overlapping.
///
/// Every access returns its outcome: a value, or a `BusFault` naming the address. Nothing traps.
/// Scalar accesses name the byte order the caller assumes; RAM simply stores bytes in that order,
/// register windows apply the PowerPC byte-swap model and log an `EndiannessViolation` on a
/// mismatch (`Bus+Registers.swift`). Block accesses (`read(into:from:)`, `write(_:to:)`) are RAM
/// only and copy with one `memcpy` per 64 KiB page run.
public final class Bus {
    /// An entry of the map.
    public enum Target {
        case ram(RAM)
        case device(DeviceWindow)
        /// A window that exists on the real board but has no model (CCSR, flash, ...).
        case reserved(name: String)
    }

    public struct Region {
        public let range: AddressRange
        public let target: Target
    }

    /// Addresses at or above 2^physicalAddressBits are never mapped.
    public let physicalAddressBits: Int
    /// Sorted by base address, pairwise disjoint.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var regions: [Region] = []
    /// `regions` as plain values (range, unretained RAM or nil), index for index: searched and
    /// read without copying a `Target` (a retain and release per access). `regions` owns the RAM.
    @exclusivity(unchecked) private var lookup: [(range: AddressRange, ram: Unmanaged<RAM>?)] = []
    /// The region the last search found: DMA transfers and their checks hit the same RAM region
    /// over and over, so most searches end at the first comparison.
    @exclusivity(unchecked) private var lastRegion = 0

    /// The block of backed RAM (`RAM.backedBlock`) `contiguousRAM` last answered from, by bus
    /// address; valid for the bus's life, since RAM is never unmapped and a block never moves.
    @exclusivity(unchecked) private var lastBackedBlock: (base: UInt64, count: UInt64, memory: UnsafeMutableRawPointer?) = (0, 0, nil)

    /// Register accesses whose assumed byte order was wrong, oldest first, at most
    /// `violationLogLimit` of them; `endiannessViolationCount` counts them all.
    @exclusivity(unchecked) public internal(set) var endiannessViolations: [EndiannessViolation] = []
    @exclusivity(unchecked) public internal(set) var endiannessViolationCount = 0
    public let violationLogLimit = 1024
    /// Records register accesses in the wrong byte order when set (nil: tracing off; the check sits
    /// on the already out-of-line mismatch path, so the common access pays nothing).
    @exclusivity(unchecked) public var tracer: Tracer?

    public init(physicalAddressBits: Int) {
        precondition((1...64).contains(physicalAddressBits))
        self.physicalAddressBits = physicalAddressBits
    }

    /// Adds a region. The profile loader has already rejected overlaps; a programming error here
    /// is a precondition failure.
    public func map(_ range: AddressRange, to target: Target) {
        let index = regions.firstIndex { $0.range.base > range.base } ?? regions.endIndex
        precondition(index == regions.endIndex || !regions[index].range.overlaps(range), "overlapping map")
        precondition(index == 0 || !regions[index - 1].range.overlaps(range), "overlapping map")
        regions.insert(Region(range: range, target: target), at: index)
        if case .ram(let ram) = target {
            lookup.insert((range, Unmanaged.passUnretained(ram)), at: index)
        } else {
            lookup.insert((range, nil), at: index)
        }
    }

    /// The region holding `address`.
    public func region(at address: PhysicalAddress) -> Region? {
        regionIndex(at: address).map { regions[$0] }
    }

    /// The index of the region holding `address`, by binary search.
    @inline(__always)
    func regionIndex(at address: PhysicalAddress) -> Int? {
        if lastRegion < lookup.count, lookup[lastRegion].range.contains(address) { return lastRegion }
        var low = 0
        var high = lookup.count
        while low < high {
            let mid = (low + high) / 2
            let range = lookup[mid].range
            if address < range.base {
                high = mid
            } else if range.contains(address) {
                lastRegion = mid
                return mid
            } else {
                low = mid + 1
            }
        }
        return nil
    }

    /// Whether one RAM region holds all `count` bytes from `address` (a DMA transfer's check).
    public func ramHolds(_ address: PhysicalAddress, count: UInt64) -> Bool {
        ramFastPath(address, count) != nil
    }

    /// The RAM holding all `count` bytes from `address` (unretained) and the offset into it; nil
    /// for anything else, which `ram(at:count:)` then explains.
    @inline(__always)
    func ramFastPath(_ address: PhysicalAddress, _ count: UInt64) -> (Unmanaged<RAM>, UInt64)? {
        guard let index = regionIndex(at: address) else { return nil }
        let entry = lookup[index]
        guard let ram = entry.ram, entry.range.contains(address, count: count) else { return nil }
        return (ram, address - entry.range.base)
    }

    /// The RAM region (and offset into it) holding all `count` bytes from `address`, or the fault.
    @inlinable func ram(at address: PhysicalAddress, count: UInt64) -> Result<(RAM, UInt64), BusFault> {
        guard let region = region(at: address) else {
            return .failure(BusFault(address: address, count: count, reason: .unmapped))
        }
        switch region.target {
        case .ram(let ram):
            guard region.range.contains(address, count: count) else {
                return .failure(BusFault(address: address, count: count, reason: .straddlesRegions))
            }
            return .success((ram, address - region.range.base))
        case .device:
            return .failure(BusFault(address: address, count: count, reason: .notMemory))
        case .reserved:
            return .failure(BusFault(address: address, count: count, reason: .unmodelled))
        }
    }

    // MARK: Block access (DMA engines, buffer heaps)

    /// Copies `buffer.count` bytes of RAM starting at `address` into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, from address: PhysicalAddress) -> BusFault? {
        if buffer.isEmpty { return nil }
        if let (ram, offset) = ramFastPath(address, UInt64(buffer.count)) {
            ram._withUnsafeGuaranteedRef { $0.copyOut(offset: offset, into: buffer) }
            return nil
        }
        switch ram(at: address, count: UInt64(buffer.count)) {
        case .success(let (ram, offset)):
            ram.copyOut(offset: offset, into: buffer)
            return nil
        case .failure(let fault):
            return fault
        }
    }

    /// Copies `bytes` into RAM starting at `address`.
    public func write(_ bytes: UnsafeRawBufferPointer, to address: PhysicalAddress) -> BusFault? {
        if bytes.isEmpty { return nil }
        if let (ram, offset) = ramFastPath(address, UInt64(bytes.count)) {
            ram._withUnsafeGuaranteedRef { $0.copyIn(offset: offset, from: bytes) }
            return nil
        }
        switch ram(at: address, count: UInt64(bytes.count)) {
        case .success(let (ram, offset)):
            ram.copyIn(offset: offset, from: bytes)
            return nil
        case .failure(let fault):
            return fault
        }
    }

    /// A pointer to the `count` bytes of RAM at `address` when one RAM region holds them in one
    /// contiguous resident span (one given to `RAM.back`, such as the DMA pool); nil otherwise
    /// (then `write(_:to:)` does it). For a bus master that produces its data in place rather than
    /// copying it from a buffer of its own. Valid as long as the RAM lives.
    public func contiguousRAM(at address: PhysicalAddress, count: Int) -> UnsafeMutableRawPointer? {
        guard count > 0 else { return nil }
        // The S2MM path asks this per transfer, nearly always inside the DMA pool: a hit in the
        // last block found skips the region search and the page walk.
        let block = lastBackedBlock
        let within = address.rawValue &- block.base
        if let memory = block.memory, address.rawValue >= block.base, within < block.count, UInt64(count) <= block.count - within {
            return memory + Int(within)
        }
        guard let (ram, offset) = ramFastPath(address, UInt64(count)) else { return nil }
        return ram._withUnsafeGuaranteedRef { ram in
            guard let bytes = ram.contiguousBytes(offset: offset, count: UInt64(count)) else { return nil }
            if let found = ram.backedBlock(containing: offset) {
                lastBackedBlock = (ram.range.base.rawValue + found.offset, found.count, found.memory)
            }
            return bytes
        }
    }

    // MARK: Scalar access

    public func read8(at address: PhysicalAddress) -> Result<UInt8, BusFault> {
        readScalar(at: address, assuming: .big)
    }
    public func read16(at address: PhysicalAddress, assuming order: Endianness = .big) -> Result<UInt16, BusFault> {
        readScalar(at: address, assuming: order)
    }
    /// RAM or a register window; see `Bus+Registers.swift` for the byte-order model on windows.
    public func read32(at address: PhysicalAddress, assuming order: Endianness = .big) -> Result<UInt32, BusFault> {
        if case .device(let window)? = region(at: address)?.target {
            return readRegister(window, at: address, assuming: order)
        }
        return readScalar(at: address, assuming: order)
    }
    public func read64(at address: PhysicalAddress, assuming order: Endianness = .big) -> Result<UInt64, BusFault> {
        readScalar(at: address, assuming: order)
    }

    public func write8(_ value: UInt8, at address: PhysicalAddress) -> BusFault? {
        writeScalar(value, at: address, assuming: .big)
    }
    public func write16(_ value: UInt16, at address: PhysicalAddress, assuming order: Endianness = .big) -> BusFault? {
        writeScalar(value, at: address, assuming: order)
    }
    public func write32(_ value: UInt32, at address: PhysicalAddress, assuming order: Endianness = .big) -> BusFault? {
        if case .device(let window)? = region(at: address)?.target {
            return writeRegister(window, value, at: address, assuming: order)
        }
        return writeScalar(value, at: address, assuming: order)
    }
    public func write64(_ value: UInt64, at address: PhysicalAddress, assuming order: Endianness = .big) -> BusFault? {
        writeScalar(value, at: address, assuming: order)
    }

    func readScalar<T: FixedWidthInteger>(at address: PhysicalAddress, assuming order: Endianness) -> Result<T, BusFault> {
        let size = UInt64(MemoryLayout<T>.size)
        if case .device? = region(at: address)?.target {
            return .failure(BusFault(address: address, count: size, reason: .unsupportedWidth))
        }
        switch ram(at: address, count: size) {
        case .success(let (ram, offset)):
            var raw = T.zero
            withUnsafeMutableBytes(of: &raw) { ram.copyOut(offset: offset, into: $0) }
            return .success(order == .big ? T(bigEndian: raw) : T(littleEndian: raw))
        case .failure(let fault):
            return .failure(fault)
        }
    }

    func writeScalar<T: FixedWidthInteger>(_ value: T, at address: PhysicalAddress, assuming order: Endianness) -> BusFault? {
        let size = UInt64(MemoryLayout<T>.size)
        if case .device? = region(at: address)?.target {
            return BusFault(address: address, count: size, reason: .unsupportedWidth)
        }
        switch ram(at: address, count: size) {
        case .success(let (ram, offset)):
            var raw = order == .big ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: &raw) { ram.copyIn(offset: offset, from: $0) }
            return nil
        case .failure(let fault):
            return fault
        }
    }
}
