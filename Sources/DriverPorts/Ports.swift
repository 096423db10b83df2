import Reactor
import SystemPackage

// The three things a userspace DMA driver needs from its platform, whether that is the emulated
// board (the UIO layer implements them) or a real PowerPC board (`LinuxUIO`). The driver is generic
// over them, so the compiler specialises it per platform and the per-completion path has no
// existential calls (DESIGN.md, "The per-completion hot path").
//
// Their own target, holding no implementation, so the platforms (`UIO`, `LinuxUIO`) depend on the
// vocabulary only, not on the driver's state machines and metrics.

/// The byte order the driver assumes for a register access: `in_le32`/`out_le32` on PowerPC for
/// little-endian AXI IP, a plain load/store for big-endian registers.
public enum RegisterByteOrder: Sendable {
    case little
    case big
}

/// 32-bit access to the device's register window (a UIO map after mmap).
public protocol RegisterPort: AnyObject {
    /// A 32-bit load at `offset`. A load the platform cannot complete (a bus fault; SIGBUS on the
    /// board) returns 0xFFFF_FFFF, as a master abort does, and is counted in `faults`.
    func read32(_ offset: UInt32, _ order: RegisterByteOrder) -> UInt32
    /// A 32-bit store at `offset`; a store that faults is counted in `faults`.
    func write32(_ offset: UInt32, _ value: UInt32, _ order: RegisterByteOrder)
    /// Accesses that faulted so far.
    var faults: Int { get }
}

/// The UIO file: a pollable readiness source, the 4-byte event-count read and the 4-byte
/// enable/disable write (drivers/uio/uio.c).
public protocol InterruptSource: AnyObject {
    /// What the reactor watches for `.read`: the uio fd, or its in-process stand-in.
    var readiness: ReadinessSource { get }
    /// read(fd, &count, 4) on a non-blocking fd: the total interrupt count, or EAGAIN.
    func readEventCount() -> Result<Int32, Errno>
    /// write(fd, &one_or_zero, 4).
    func setInterruptEnabled(_ enabled: Bool) -> Result<Void, Errno>
    /// When the latest interrupt was raised, if the platform knows (the emulation does; a real
    /// board does not): the start of the interrupt-to-handler latency.
    var lastInterruptTime: Instant? { get }
}

extension InterruptSource {
    public var lastInterruptTime: Instant? { nil }
}

/// One DMA buffer (u-dma-buf): its DMA address, its CPU view and the two sync operations of the
/// Linux DMA API.
public protocol DMABufferHandle: AnyObject {
    /// The address the device is programmed with.
    var dmaAddress: UInt64 { get }
    var byteCount: Int { get }
    /// dma_sync_single_for_device: hand `length` bytes from the start to the device.
    func syncForDevice(length: Int)
    /// dma_sync_single_for_cpu: take `length` bytes from the start back for the CPU.
    func syncForCPU(length: Int)
    /// dma_sync_single_for_device over `length` bytes from `offset` (a descriptor in a ring).
    func syncRangeForDevice(offset: Int, length: Int)
    /// dma_sync_single_for_cpu over `length` bytes from `offset`.
    func syncRangeForCPU(offset: Int, length: Int)
    /// The CPU's view of the first `count` bytes.
    func withCPUBytes<R>(count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    func withMutableCPUBytes<R>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R
}

extension DMABufferHandle {
    /// A platform without ranged syncs syncs from the start through the range's end: more bytes
    /// than asked, never fewer.
    public func syncRangeForDevice(offset: Int, length: Int) { syncForDevice(length: offset + length) }
    public func syncRangeForCPU(offset: Int, length: Int) { syncForCPU(length: offset + length) }
}

/// Where the driver's buffers come from: allocated once, at start.
public protocol DMABufferProvider: AnyObject {
    associatedtype Buffer: DMABufferHandle
    /// `count` buffers of at least `byteCount` bytes each, or why not.
    func allocateBuffers(count: Int, byteCount: Int) -> Result<[Buffer], DriverSetupError>
    /// The driver has its buffers: any allocation from now on is a finding (allocate once).
    func driverStarted()
}

/// Why a driver could not start.
public struct DriverSetupError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
