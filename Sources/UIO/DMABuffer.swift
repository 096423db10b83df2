import Board
import Glibc
import Reactor
import Trace

/// A DMA buffer carved from the board's reserved pool, as u-dma-buf gives one to userspace
/// (`/dev/udmabufN`, `/sys/class/u-dma-buf/udmabufN/{phys_addr,size,...}`).
///
/// Ownership follows the Linux DMA API (Documentation/core-api/dma-api-howto.rst, "streaming DMA"):
/// a new buffer belongs to the CPU; `syncForDevice` hands it to the device, `syncForCPU` hands it
/// back. On a non-coherent board the CPU sees the buffer through its cache, modelled as a separate
/// copy: `syncForDevice` writes the CPU's copy back to memory and `syncForCPU` refreshes the copy
/// from memory, so a CPU read of a device-owned buffer sees stale bytes, as it would on a PPC440.
/// On a coherent board (e500 snoops DMA) the CPU view is the memory itself.
public final class DMABuffer {
    public enum Owner: String, Sendable {
        case cpu
        case device

        /// The owner as trace events name it (`rawValue`, numbered in advance).
        @inline(__always)
        var traceName: TraceName { self == .cpu ? .cpu : .device }
    }

    /// The N of `udmabufN`, in allocation order.
    public let index: Int
    /// The u-dma-buf device name: `udmabufN` unless the board declares another (`udmabuf-rx`).
    public let name: String
    /// `name` as trace events carry it (made once: an event copies it without reference counting).
    public let traceName: TraceName
    /// The DMA (bus) address: the board has no IOMMU, so it is the physical address.
    public let physicalAddress: PhysicalAddress
    public let size: UInt64
    public let isCoherent: Bool
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public internal(set) var owner: Owner = .cpu
    @exclusivity(unchecked) public internal(set) var isLive = true
    /// Records ownership moves and findings when set (the heap sets it on all its buffers).
    @exclusivity(unchecked) public internal(set) var tracer: Tracer?

    /// The memory the device reads and writes (inside the pool's contiguous backing).
    let memory: UnsafeMutableRawPointer
    /// What the CPU sees: `memory` when coherent, otherwise its own copy (the cache).
    let cpuView: UnsafeMutableRawPointer
    /// Whether `cpuView` is a copy that syncs write back or refresh.
    let cacheCopy: Bool
    let findings: DMAFindings
    /// For the time stamps of findings.
    let reactor: Reactor

    /// `cacheCopy`: on a non-coherent board, model the CPU's cache as a copy (false when the CPU is an
    /// attached process reading the pool's pages directly; its touches are caught by page protection).
    init(index: Int, name: String? = nil, physicalAddress: PhysicalAddress, size: UInt64, coherent: Bool,
         cacheCopy: Bool = true, memory: UnsafeMutableRawPointer, findings: DMAFindings, reactor: Reactor) {
        self.index = index
        self.name = name ?? "udmabuf\(index)"
        traceName = TraceName(self.name)
        self.cacheCopy = !coherent && cacheCopy
        self.physicalAddress = physicalAddress
        self.size = size
        isCoherent = coherent
        self.memory = memory
        self.findings = findings
        self.reactor = reactor
        if !self.cacheCopy {
            cpuView = memory
        } else {
            cpuView = .allocate(byteCount: Int(size), alignment: 64)
            cpuView.copyMemory(from: memory, byteCount: Int(size))
        }
    }

    deinit {
        if cacheCopy { cpuView.deallocate() }
    }

    public var range: AddressRange { AddressRange(base: physicalAddress, size: size)! }

    /// `range.contains(address, count:)` without building the range (the guard asks once per transfer).
    @inline(__always)
    func holds(_ address: PhysicalAddress, count: UInt64) -> Bool {
        address >= physicalAddress && address.rawValue &- physicalAddress.rawValue < size
            && count <= size &- (address.rawValue &- physicalAddress.rawValue)
    }

    // MARK: sync (dma_sync_single_for_device / _for_cpu)

    /// Hands `length` bytes from `offset` (default: all) to the device: on a non-coherent board the
    /// CPU's copy is written back to memory first.
    @discardableResult
    public func syncForDevice(offset: UInt64 = 0, length: UInt64? = nil) -> DMABufferError? {
        sync(to: .device, offset: offset, length: length ?? (size &- offset)) ? nil : outOfRange(offset, length ?? 0)
    }

    /// Hands the buffer back to the CPU: on a non-coherent board the CPU's copy is refreshed from
    /// memory (the cache is invalidated) for the range.
    @discardableResult
    public func syncForCPU(offset: UInt64 = 0, length: UInt64? = nil) -> DMABufferError? {
        sync(to: .cpu, offset: offset, length: length ?? (size &- offset)) ? nil : outOfRange(offset, length ?? 0)
    }

    /// Both syncs: false, having done nothing, when the range does not fit or the buffer was freed.
    /// Returns a flag rather than the error so the driver's per-completion syncs (which have no use
    /// for it) copy and destroy no `DMABufferError?` (its payload holds a String).
    @inline(__always)
    func sync(to next: Owner, offset: UInt64, length: UInt64) -> Bool {
        guard isLive, offset <= size, length <= size &- offset else { return false }
        if cacheCopy {
            // Write-back of the CPU's copy (to the device) or invalidation of it (to the CPU).
            if next == .device {
                (memory + Int(offset)).copyMemory(from: cpuView + Int(offset), byteCount: Int(length))
            } else {
                (cpuView + Int(offset)).copyMemory(from: memory + Int(offset), byteCount: Int(length))
            }
        }
        if tracer != nil { traceSync(next, offset, length) }
        owner = next
        return true
    }

    @inline(never)
    private func outOfRange(_ offset: UInt64, _ length: UInt64) -> DMABufferError {
        .syncOutOfRange(buffer: name, offset: offset, length: length, size: size)
    }

    /// The sync with its range (what the protocol checker needs), then the owner change if there is one.
    @inline(never)
    private func traceSync(_ next: Owner, _ offset: UInt64, _ length: UInt64) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.bufferSync(buffer: traceName, toDevice: next == .device, offset: offset, bytes: length)) }
        if owner != next { tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.bufferOwner(buffer: traceName, from: owner.traceName, to: next.traceName)) } }
    }

    // MARK: CPU access

    /// The CPU's view of the first `count` bytes (default: all). Touching a device-owned buffer is
    /// reported; on a non-coherent board the bytes are whatever the CPU last synced (stale).
    @inline(__always)
    public func withCPUBytes<R>(count: Int? = nil, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if owner == .device { reportCPUAccess() }
        let bytes = min(count ?? Int(size), Int(size))
        if tracer != nil { traceCPUAccess(offset: 0, bytes: bytes, .read) }
        return try body(UnsafeRawBufferPointer(start: cpuView, count: bytes))
    }

    /// The CPU's view for writing (a transmit buffer being filled). Reported like `withCPUBytes` if
    /// the device owns the buffer.
    @inline(__always)
    public func withMutableCPUBytes<R>(count: Int? = nil, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if owner == .device { reportCPUAccess() }
        let bytes = min(count ?? Int(size), Int(size))
        if tracer != nil { traceCPUAccess(offset: 0, bytes: bytes, .write) }
        return try body(UnsafeMutableRawBufferPointer(start: cpuView, count: bytes))
    }

    /// A CPU access the model did not make itself: an attached program's load or store that the
    /// page protection of a device-owned buffer caught (`offset` from the buffer's start).
    public func noteCPUTouch(offset: UInt64, write: Bool) {
        if owner == .device { reportCPUAccess() }
        if tracer != nil { traceCPUAccess(offset: offset, bytes: 1, write ? .write : .read) }
    }

    @inline(never)
    private func traceCPUAccess(offset: UInt64, bytes: Int, _ access: TraceEvent.RegisterAccess) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.cpuAccess(buffer: traceName, offset: offset, bytes: UInt64(bytes), access: access)) }
    }

    @inline(never)
    private func reportCPUAccess() {
        // A freed buffer keeps the owner it had (its syncs are refused): a touch through a stale
        // handle is a use after free, a bug on any board, not a missing sync.
        let finding = isLive
            ? DMAFinding(kind: .cpuAccessWhileDeviceOwned, severity: isCoherent ? .warning : .violation,
                         time: reactor.now, address: physicalAddress, length: size, buffer: name,
                         detail: "the CPU touched the buffer between sync-for-device and sync-for-cpu")
            : DMAFinding(kind: .cpuAccessAfterFree, severity: .violation, time: reactor.now, address: physicalAddress,
                         length: size, buffer: name, detail: "the CPU touched the buffer after it was freed")
        findings.record(finding)
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(finding.traceEvent) }
    }
}

/// Misuse of the DMA buffer heap, reported to the caller (never a trap).
public enum DMABufferError: Error, Equatable, CustomStringConvertible {
    case zeroSize
    case badAlignment(UInt64)
    case exhausted(requested: UInt64, largestFree: UInt64)
    case doubleFree(buffer: String)
    case notFromThisHeap(buffer: String)
    case syncOutOfRange(buffer: String, offset: UInt64, length: UInt64, size: UInt64)

    public var description: String {
        switch self {
        case .zeroSize:
            return "a DMA buffer needs a size greater than 0"
        case let .badAlignment(a):
            return "alignment \(a) is not a power of two of at least \(UIOMap.pageSize) (the page size)"
        case let .exhausted(requested, largestFree):
            return "the DMA pool cannot hold \(requested) more bytes (largest free block: \(largestFree) bytes)"
        case let .doubleFree(buffer):
            return "\(buffer) was already freed"
        case let .notFromThisHeap(buffer):
            return "\(buffer) does not belong to this heap"
        case let .syncOutOfRange(buffer, offset, length, size):
            return "sync of \(length) bytes at offset \(offset) does not fit \(buffer) (\(size) bytes), or the buffer was freed"
        }
    }
}
