import DriverPorts
import Synchronization
import SystemPackage

/// A UIO map after mmap: 32-bit register access at offsets from the start of the mapping (the page
/// the map starts in, as with the emulated `EmulatedRegisterMapping`), in the byte order the driver names.
///
/// The bytes in the mapping are the device's: a little-endian AXI register holds its least
/// significant byte first whatever the CPU, so a load is converted with `UInt32(littleEndian:)` (what
/// `in_le32` does with `lwbrx` on big-endian PowerPC) and a big-endian register with
/// `UInt32(bigEndian:)`. That makes the port correct on any host.
///
/// An access outside the mapping, misaligned, or after `unmap()` is not attempted (on the board it
/// would be SIGSEGV or SIGBUS): it is counted in `faults` and a load returns 0xFFFF_FFFF, as a master
/// abort does.
public final class LinuxRegisterMapping: RegisterPort {
    public let map: LinuxUIOMap
    public let devicePath: FilePath
    /// The mapped length: whole pages covering the map.
    public let byteCount: Int
    public private(set) var faults = 0
    public private(set) var isMapped = true
    let base: UnsafeMutableRawPointer
    let calls: SystemCalls

    init(map: LinuxUIOMap, devicePath: FilePath, base: UnsafeMutableRawPointer, byteCount: Int, calls: SystemCalls) {
        self.map = map
        self.devicePath = devicePath
        self.base = base
        self.byteCount = byteCount
        self.calls = calls
    }

    deinit {
        if isMapped { _ = calls.munmap(base, byteCount) }
    }

    @inline(__always)
    private func isInside(_ offset: UInt32) -> Bool {
        isMapped && offset & 3 == 0 && Int(offset) <= byteCount &- 4
    }

    public func read32(_ offset: UInt32, _ order: RegisterByteOrder) -> UInt32 {
        guard isInside(offset) else {
            faults += 1
            return 0xFFFF_FFFF
        }
        let raw = LinuxRegisterMapping.load(base + Int(offset))
        switch order {
        case .little: return UInt32(littleEndian: raw)
        case .big: return UInt32(bigEndian: raw)
        }
    }

    public func write32(_ offset: UInt32, _ value: UInt32, _ order: RegisterByteOrder) {
        guard isInside(offset) else {
            faults += 1
            return
        }
        switch order {
        case .little: LinuxRegisterMapping.store(value.littleEndian, base + Int(offset))
        case .big: LinuxRegisterMapping.store(value.bigEndian, base + Int(offset))
        }
    }

    /// munmap the registers; later accesses count as faults.
    public func unmap() throws(LinuxUIOError) {
        guard isMapped else { return }
        isMapped = false
        try calls.munmap(base, byteCount).get(orThrow: "munmap", devicePath)
    }

    // Swift has no `volatile` without an experimental feature, so each access is one real load or
    // store in a function the optimiser may not inline (two reads of DMASR stay two reads), preceded
    // by a full fence: `sync` on PowerPC, the barrier Linux's in_le32/out_le32 put before the access
    // so register accesses stay ordered with the CPU's accesses to DMA buffers.

    //
    // Through a typed pointer, not `load(as:)`/`storeBytes(of:as:)`: unspecialised (a debug build),
    // those copy through a generic byte copy, and glibc's memcpy moves 4 bytes as two overlapping
    // 4-byte stores, so every register was written twice (found under `uioemu attach`: LENGTH written
    // again while its transfer ran). `pointee` is one 32-bit load or store in every build.

    @inline(never)
    static func load(_ address: UnsafeMutableRawPointer) -> UInt32 {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return address.assumingMemoryBound(to: UInt32.self).pointee
    }

    @inline(never)
    static func store(_ raw: UInt32, _ address: UnsafeMutableRawPointer) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        address.assumingMemoryBound(to: UInt32.self).pointee = raw
    }
}
