import Board
import Devices
import Reactor
import Trace

/// The board's reserved DMA pool, handed out as u-dma-buf style buffers, plus the IOMMU-like guard
/// that checks every DMA transfer against the live buffers.
///
/// Allocation is first fit by address, in whole pages, aligned to at least a page. The heap counts
/// allocations made after `driverStarted()`: the driver must allocate its ring once at start, so any
/// later allocation is a finding.
///
/// Guard mode (on by default): a transfer whose range is not fully inside one live buffer is refused
/// (the DMA engine reports DMADecErr) and recorded with the address and the nearest buffer. This is
/// the safety net the kernel maintainers asked for: without an IOMMU a DMA address in userspace can
/// point anywhere. With the guard off the transfer goes through and is still recorded.
public final class DMABufferHeap {
    public let pool: AddressRange
    public let isCoherent: Bool
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public var guardEnabled: Bool
    public let findings = DMAFindings()
    @exclusivity(unchecked) public private(set) var isDriverStarted = false
    @exclusivity(unchecked) public private(set) var allocationsAfterStart = 0
    /// Records findings, and (through every buffer, present and future) ownership moves, when set.
    /// Buffers carved before the tracer was set are recorded as allocated at that moment, so a
    /// checker fed by the trace knows every live buffer.
    @exclusivity(unchecked) public var tracer: Tracer? {
        didSet {
            for buffer in liveBuffers {
                buffer.tracer = tracer
                traceLifetime(buffer, live: true)
            }
        }
    }

    let reactor: Reactor
    let poolMemory: UnsafeMutableRawPointer
    /// Live buffers sorted by address.
    @exclusivity(unchecked) public private(set) var liveBuffers: [DMABuffer] = []
    @exclusivity(unchecked) private var nextIndex = 0
    /// The buffer that matched the last guard check: a driver cycling through its ring usually hits it
    /// or its neighbour, so most checks cost a comparison.
    @exclusivity(unchecked) private var lastHit = 0
    /// The same, per DMA device (by `DMAAccess.deviceIndex`): with many channels interleaving, one
    /// shared hint almost never matched and every check became a binary search touching a buffer
    /// object per step (measured with 64 channels: a fifth of the per-completion instructions).
    @exclusivity(unchecked) private var lastHitByDevice: [Int] = []

    /// Whether buffers on a non-coherent board model the CPU's cache as a copy (see `DMABuffer`).
    public let cacheCopy: Bool

    public init(board: Board, reactor: Reactor, guardEnabled: Bool = true, cacheCopy: Bool = true) {
        pool = board.dmaPool
        self.cacheCopy = cacheCopy
        isCoherent = board.profile.dmaPool.coherent
        self.guardEnabled = guardEnabled
        self.reactor = reactor
        let ram = board.ram[board.profile.dmaPool.memoryRegion]!
        // Board backs the pool as one contiguous block at start.
        guard let memory = ram.contiguousBytes(offset: pool.base - ram.range.base, count: pool.size) else {
            preconditionFailure("the DMA pool \(pool) is not backed contiguously")
        }
        poolMemory = memory
    }

    /// From now on every allocation is counted as a finding.
    public func driverStarted() { isDriverStarted = true }

    // MARK: allocation

    /// Carves a buffer of `size` bytes (rounded up to whole pages) aligned to `alignment` (a power of
    /// two, at least a page).
    /// `name`: the u-dma-buf device name (default `udmabufN`); `coherent`: u-dma-buf's
    /// `dma-coherent` for this buffer (default: the pool's).
    public func allocate(size: UInt64, alignment: UInt64 = UIOMap.pageSize, name: String? = nil,
                         coherent: Bool? = nil) -> Result<DMABuffer, DMABufferError> {
        guard size > 0 else { return .failure(.zeroSize) }
        guard alignment >= UIOMap.pageSize, alignment & (alignment - 1) == 0 else { return .failure(.badAlignment(alignment)) }
        let rounded = (size + UIOMap.pageSize - 1) / UIOMap.pageSize * UIOMap.pageSize
        var candidate = align(pool.base.rawValue, alignment)
        var insertAt = 0
        for (i, buffer) in liveBuffers.enumerated() {
            if candidate + rounded <= buffer.physicalAddress.rawValue { break }
            candidate = max(candidate, align(buffer.range.base.rawValue + buffer.size, alignment))
            insertAt = i + 1
        }
        guard candidate + rounded <= pool.base.rawValue + pool.size else {
            return .failure(.exhausted(requested: rounded, largestFree: largestFreeBlock()))
        }
        let address = PhysicalAddress(candidate)
        let buffer = DMABuffer(index: nextIndex, name: name, physicalAddress: address, size: rounded, coherent: coherent ?? isCoherent,
                               cacheCopy: cacheCopy, memory: poolMemory + Int(address - pool.base), findings: findings,
                               reactor: reactor)
        nextIndex += 1
        buffer.tracer = tracer
        liveBuffers.insert(buffer, at: insertAt)
        traceLifetime(buffer, live: true)
        if isDriverStarted {
            allocationsAfterStart += 1
            report(DMAFinding(kind: .allocationAfterStart, severity: .violation, time: reactor.now,
                              address: address, length: rounded, buffer: buffer.name,
                              detail: "allocated after the driver started; allocate the ring once at start"))
        }
        return .success(buffer)
    }

    public func free(_ buffer: DMABuffer) -> DMABufferError? {
        guard buffer.isLive else { return .doubleFree(buffer: buffer.name) }
        guard let i = liveBuffers.firstIndex(where: { $0 === buffer }) else { return .notFromThisHeap(buffer: buffer.name) }
        liveBuffers.remove(at: i)
        buffer.isLive = false
        // Nobody's now: marked as the device's (its syncs are refused from here on), so any CPU
        // touch through a handle kept past the free is reported, as `cpu-access-after-free`.
        buffer.owner = .device
        lastHit = 0
        traceLifetime(buffer, live: false)
        return nil
    }

    private func traceLifetime(_ buffer: DMABuffer, live: Bool) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.bufferLifetime(buffer: buffer.traceName, address: buffer.physicalAddress.rawValue, bytes: buffer.size, live: live)) }
    }

    private func align(_ value: UInt64, _ alignment: UInt64) -> UInt64 { (value + alignment - 1) & ~(alignment - 1) }

    private func largestFreeBlock() -> UInt64 {
        var largest: UInt64 = 0
        var cursor = pool.base.rawValue
        for buffer in liveBuffers {
            largest = max(largest, buffer.physicalAddress.rawValue - cursor)
            cursor = buffer.physicalAddress.rawValue + buffer.size
        }
        return max(largest, pool.base.rawValue + pool.size - cursor)
    }

    // MARK: guard

    /// Called by the DMA engine (through `DMABufferGuard`) once per transfer, before the bytes move.
    /// Returns false when the transfer must be refused (guard mode, range not inside one live buffer).
    public func admit(_ access: DMAAccess) -> Bool {
        // By index, not by reference: a buffer taken out of `liveBuffers` would be retained and
        // released on every transfer.
        let index = bufferIndex(containing: access.address, length: access.byteCount, device: access.deviceIndex)
        if index >= 0 {
            if liveBuffers[index].owner == .cpu { reportCPUOwned(liveBuffers[index], access) }
            return true
        }
        return refuse(access)
    }

    @inline(__always)
    private func rememberHit(_ index: Int, device: Int) {
        guard device >= 0 else { return }
        if device < lastHitByDevice.count {
            if lastHitByDevice[device] != index { lastHitByDevice[device] = index }
        } else {
            growHints(to: device + 1, index: index, device: device)
        }
    }

    /// Configuration time in practice: the first transfer of each device.
    @inline(never)
    private func growHints(to count: Int, index: Int, device: Int) {
        lastHitByDevice.append(contentsOf: repeatElement(0, count: count - lastHitByDevice.count))
        lastHitByDevice[device] = index
    }

    /// A transfer outside every live buffer: recorded, and refused in guard mode. Out of line, so
    /// the per-transfer check above stays small.
    @inline(never)
    private func refuse(_ access: DMAAccess) -> Bool {
        let nearest = nearestBuffer(to: access.address)
        report(DMAFinding(kind: .dmaOutsideBuffers, severity: .violation, time: reactor.now, address: access.address,
                          length: access.byteCount, buffer: nearest?.name,
                          detail: "\(access.direction) " + (guardEnabled ? "refused (DMADecErr)" : "let through: guard off") +
                              (nearest.map { ", nearest buffer \($0.name) at \($0.physicalAddress) (\($0.size) bytes)" } ?? ", no live buffer")))
        return !guardEnabled
    }

    /// The live buffer holding all of `[address, address + length)`, if any.
    public func buffer(containing address: PhysicalAddress, length: UInt64) -> DMABuffer? {
        let index = bufferIndex(containing: address, length: length)
        return index >= 0 ? liveBuffers[index] : nil
    }

    /// The index in `liveBuffers` of the buffer holding all of `[address, address + length)`, or -1.
    /// Tried in order: the last hit and its neighbour (one driver cycling through its ring), the
    /// same for `device`'s own last hit (several channels interleaving), then a binary search.
    @inline(__always)
    private func bufferIndex(containing address: PhysicalAddress, length: UInt64, device: Int = -1) -> Int {
        let count = liveBuffers.count
        guard count > 0 else { return -1 }
        if let hit = hitNear(lastHit, address, length, count) {
            lastHit = hit
            return hit
        }
        if device >= 0 && device < lastHitByDevice.count, let hit = hitNear(lastHitByDevice[device], address, length, count) {
            lastHit = hit
            lastHitByDevice[device] = hit
            return hit
        }
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            let b = liveBuffers[mid]
            if address < b.physicalAddress { high = mid } else if address.rawValue >= b.physicalAddress.rawValue + b.size { low = mid + 1 } else {
                guard b.holds(address, count: length) else { return -1 }
                lastHit = mid
                if device >= 0 { rememberHit(mid, device: device) }
                return mid
            }
        }
        return -1
    }

    /// `hint` or the buffer after it (in ring order), if it holds the range.
    @inline(__always)
    private func hitNear(_ hint: Int, _ address: PhysicalAddress, _ length: UInt64, _ count: Int) -> Int? {
        if hint < count, liveBuffers[hint].holds(address, count: length) { return hint }
        let next = hint + 1 < count ? hint + 1 : 0
        return liveBuffers[next].holds(address, count: length) ? next : nil
    }

    private func nearestBuffer(to address: PhysicalAddress) -> DMABuffer? {
        liveBuffers.min { distance($0, address) < distance($1, address) }
    }

    private func distance(_ b: DMABuffer, _ a: PhysicalAddress) -> UInt64 {
        if a < b.physicalAddress { return b.physicalAddress - a }
        let end = b.physicalAddress.rawValue + b.size
        return a.rawValue >= end ? a.rawValue - end + 1 : 0
    }

    @inline(never)
    private func reportCPUOwned(_ buffer: DMABuffer, _ access: DMAAccess) {
        report(DMAFinding(kind: .dmaWhileCPUOwned, severity: isCoherent ? .warning : .violation, time: reactor.now,
                          address: access.address, length: access.byteCount, buffer: buffer.name,
                          detail: access.writesMemory ? "the device wrote a buffer the CPU owns (no sync-for-device)"
                              : "the device read a buffer the CPU owns (no sync-for-device)"))
    }

    /// Every finding of the heap and its guard goes to the checker's log and, if tracing, the trace.
    private func report(_ finding: DMAFinding) {
        findings.record(finding)
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(finding.traceEvent) }
    }
}

extension DMAFinding {
    /// The trace's form: kind, severity, and the address, length, buffer and detail in one text.
    var traceEvent: TraceEvent {
        .finding(kind: kind.rawValue, severity: severity.rawValue,
                 detail: "\(address) +\(length) bytes" + (buffer.map { " \($0)" } ?? "") + (detail.isEmpty ? "" : ": \(detail)"))
    }
}
