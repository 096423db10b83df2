import Devices
import Driver
import Reactor
import UIO

/// The consumer of received buffers in a workload: it checks every byte against the source's
/// pattern, records which buffer each slot used, and (as a slow consumer) may hold buffers for a
/// processing time before giving them back.
///
/// Lining up with the pattern: each delivered buffer's packet starts where the S2MM channel says
/// (`lastCompletedStreamOffset`), so packets the device dropped leave a gap the checker skips
/// instead of reporting a mismatch; bytes are only ever compared at their true stream position.
public final class VerifyingConsumer: ReceiveConsumer {
    public struct Statistics: Equatable, Sendable {
        public var buffers = 0
        public var verifiedBytes: UInt64 = 0
        public var mismatchedBytes: UInt64 = 0
        /// Packets that arrived behind ones already seen (should never happen).
        public var outOfOrder = 0
        /// Stream bytes skipped because the device dropped them.
        public var skippedBytes: UInt64 = 0
        /// A slot delivered at a different DMA address than the first time (the ring must reuse
        /// exactly the buffers it allocated).
        public var addressChanges = 0
        public var maxHeld = 0
    }

    public typealias Buffer = DMABuffer

    /// How fast buffers go back: each is held for `processing`, at most `hold` at a time beyond which
    /// they go back at once (a hold of 0: every buffer goes back as soon as it is checked).
    public struct Pace: Sendable {
        public var processing: TimeSpan = .zero
        public var hold = 0
        public init(processing: TimeSpan = .zero, hold: Int = 0) {
            self.processing = processing
            self.hold = hold
        }
    }

    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var statistics = Statistics()
    /// DMA address each slot was first delivered at.
    @exclusivity(unchecked) public private(set) var addressBySlot: [UInt64]

    let channel: DMAChannel
    let checksData: Bool
    @exclusivity(unchecked) private var generator: PatternGenerator
    @exclusivity(unchecked) private var streamPosition: UInt64 = 0
    private let expected: UnsafeMutableRawBufferPointer

    // Slow consumer: hold each buffer for `processing`, at most `hold` at a time beyond which it
    // releases at once (so a hold of 0 means "release immediately").
    let processing: TimeSpan
    let hold: Int
    let reactor: Reactor
    @exclusivity(unchecked) private var held: [Int]
    @exclusivity(unchecked) private var heldHead = 0
    @exclusivity(unchecked) private var heldCount = 0
    @exclusivity(unchecked) private var releaseTimer: TimerID? = nil
    @exclusivity(unchecked) private var releaseTarget: ReleaseTimer? = nil
    /// Set by the workload: how a kept buffer goes back to the driver.
    @exclusivity(unchecked) var release: ((Int) -> Void)? = nil

    init(channel: DMAChannel, pattern: StreamPattern, bufferBytes: Int, ringSize: Int, reactor: Reactor, pace: Pace = Pace()) {
        self.channel = channel
        checksData = pattern.carriesData
        generator = PatternGenerator(pattern)
        expected = .allocate(byteCount: max(bufferBytes, 1), alignment: 16)
        addressBySlot = Array(repeating: 0, count: ringSize)
        processing = pace.processing
        hold = pace.hold
        self.reactor = reactor
        held = Array(repeating: 0, count: ringSize)
        if hold > 0 && processing > .zero {
            let target = ReleaseTimer()
            releaseTarget = target
            releaseTimer = reactor.makeTimer(target: target, tag: 0)
            target.consumer = self
        }
    }

    deinit { expected.deallocate() }

    public func receive(slot: Int, buffer: DMABuffer, length: Int, transfer: UInt64) -> ConsumerDecision {
        statistics.buffers += 1
        if stalled {
            // A stalled consumer keeps everything it gets until the stall ends.
            if addressBySlot[slot] == 0 { addressBySlot[slot] = buffer.dmaAddress }
            if checksData { verify(buffer, length) }
            stalledSlots.append(slot)
            return .keep
        }
        if addressBySlot[slot] == 0 {
            addressBySlot[slot] = buffer.dmaAddress
        } else if addressBySlot[slot] != buffer.dmaAddress {
            statistics.addressChanges += 1
        }
        if checksData { verify(buffer, length) }
        guard hold > 0 && processing > .zero && heldCount < hold else { return .release }
        held[(heldHead + heldCount) % held.count] = slot
        heldCount += 1
        if heldCount > statistics.maxHeld { statistics.maxHeld = heldCount }
        if heldCount == 1, let releaseTimer { reactor.arm(releaseTimer, after: processing) }
        return .keep
    }

    @inline(__always)
    private func verify(_ buffer: DMABuffer, _ length: Int) {
        let start = channel.completedPacketStreamOffset
        if start > streamPosition {
            generator.skip(Int(start - streamPosition))
            statistics.skippedBytes += start - streamPosition
            streamPosition = start
        } else if start < streamPosition {
            statistics.outOfOrder += 1
            return
        }
        let mismatches = buffer.withCPUBytes(count: length) { generator.countMismatches(in: $0, scratch: expected) }
        statistics.mismatchedBytes += UInt64(mismatches)
        statistics.verifiedBytes += UInt64(length)
        streamPosition += UInt64(length)
    }

    /// The oldest held buffer's processing is done.
    fileprivate func releaseOldest() {
        guard heldCount > 0 else { return }
        let slot = held[heldHead]
        heldHead = (heldHead + 1) % held.count
        heldCount -= 1
        release?(slot)
        if heldCount > 0, let releaseTimer { reactor.arm(releaseTimer, after: processing) }
    }

    public var heldBuffers: Int { heldCount + stalledSlots.count }

    // MARK: stall (scenario step `consumer-stall`)

    @exclusivity(unchecked) private var stalled = false
    @exclusivity(unchecked) private var stalledSlots: [Int] = []

    /// Stops giving buffers back for `duration`, then returns every one it kept meanwhile.
    func stall(for duration: TimeSpan) {
        stalled = true
        stalledSlots.reserveCapacity(held.count)
        reactor.schedule(after: duration) { [weak self] in self?.endStall() }
    }

    private func endStall() {
        stalled = false
        let slots = stalledSlots
        stalledSlots.removeAll(keepingCapacity: true)
        for slot in slots { release?(slot) }
    }
}

/// The slow consumer's timer target (kept apart so the consumer is not itself a `ReactorTarget`).
private final class ReleaseTimer: ReactorTarget {
    weak var consumer: VerifyingConsumer?
    override func reactorEvent(_ tag: UInt64) { consumer?.releaseOldest() }
}
