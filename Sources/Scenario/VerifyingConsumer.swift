import Devices
import Driver
import Reactor
import UIO

/// The consumer of received buffers in a workload: it checks every byte against the source's
/// pattern, records which buffer each slot used, and (as a slow consumer) may hold buffers for a
/// processing time before giving them back.
///
/// Lining up with the pattern: each delivered buffer's packet starts where the S2MM channel says
/// (`lastCompletedStreamOffset`), so packets that never arrived leave a gap the checker skips
/// instead of reporting a mismatch; bytes are only ever compared at their true stream position.
/// Every gap is reconciled, not just skipped: its bytes are either ones the device dropped with a
/// reason (counted in its stream accounting) or ones the device delivered that the driver gave up
/// on after an error (a timeout, a too-long packet) or abandoned when it stopped (a restart), each
/// such transfer matched by a driver error or a stop.
/// A gap neither explains (a driver that loses completed buffers) is counted in `unexplainedGaps`.
public final class VerifyingConsumer: ReceiveConsumer, PacketConsumer {
    public struct Statistics: Equatable, Sendable {
        public var buffers = 0
        public var verifiedBytes: UInt64 = 0
        public var mismatchedBytes: UInt64 = 0
        /// Packets that arrived behind ones already seen (should never happen).
        public var outOfOrder = 0
        /// Bytes handed over by the driver (the lengths of the buffers received).
        public var receivedBytes: UInt64 = 0
        /// Stream bytes skipped: gaps between the packets received.
        public var skippedBytes: UInt64 = 0
        /// Of those, bytes the device delivered that the driver abandoned after an error.
        public var abandonedBytes: UInt64 = 0
        public var abandonedTransfers: UInt64 = 0
        /// Gaps that neither the device's counted drops nor the driver's errors account for.
        public var unexplainedGaps = 0
        /// The first of them, described.
        public var firstUnexplainedGap: String? = nil
        /// A slot delivered at a different DMA address than the first time (the ring must reuse
        /// exactly the buffers it allocated).
        public var addressChanges = 0
        public var maxHeld = 0
        /// Scatter-gather: packets the device began that never reached the consumer (abandoned
        /// with an error, or flushed by a reset), and buffers whose packet the log did not hold.
        public var skippedPackets: UInt64 = 0
        public var packetsNotLogged: UInt64 = 0
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
    /// Set by the workload: the driver's error count so far (read only when a gap is reconciled).
    @exclusivity(unchecked) var driverErrors: (() -> Int)? = nil
    // What earlier gaps already used to explain themselves.
    @exclusivity(unchecked) private var droppedBytesExplained: UInt64 = 0
    @exclusivity(unchecked) private var driverErrorsExplained = 0
    /// Scatter-gather: the next entry of the channel's packet log to search from (0: none found yet).
    @exclusivity(unchecked) private var packetLogCursor: UInt64 = 0

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
        take(slot: slot, buffer: buffer, length: length, start: channel.completedPacketStreamOffset)
    }

    /// A scatter-gather driver's buffer: a packet's first (RXSOF) is lined up with the stream where
    /// the channel's packet log says the packet that began in this buffer started; the next ones of
    /// the same packet follow on.
    public func receive(slot: Int, buffer: DMABuffer, length: Int, transfer: UInt64, startsPacket: Bool, endsPacket: Bool) -> ConsumerDecision {
        take(slot: slot, buffer: buffer, length: length, start: startsPacket ? packetStart(buffer.dmaAddress) : streamPosition)
    }

    @inline(__always)
    private func take(slot: Int, buffer: DMABuffer, length: Int, start: UInt64) -> ConsumerDecision {
        statistics.buffers += 1
        if stalled {
            // A stalled consumer keeps everything it gets until the stall ends.
            if addressBySlot[slot] == 0 { addressBySlot[slot] = buffer.dmaAddress }
            check(buffer, length, start: start)
            stalledSlots.append(slot)
            return .keep
        }
        if addressBySlot[slot] == 0 {
            addressBySlot[slot] = buffer.dmaAddress
        } else if addressBySlot[slot] != buffer.dmaAddress {
            statistics.addressChanges += 1
        }
        check(buffer, length, start: start)
        guard hold > 0 && processing > .zero && heldCount < hold else { return .release }
        held[(heldHead + heldCount) % held.count] = slot
        heldCount += 1
        if heldCount > statistics.maxHeld { statistics.maxHeld = heldCount }
        if heldCount == 1, let releaseTimer { reactor.arm(releaseTimer, after: processing) }
        return .keep
    }

    /// Lines the buffer up with the stream (reconciling a gap before it) and, when the pattern
    /// carries data, compares every byte.
    @inline(__always)
    private func check(_ buffer: DMABuffer, _ length: Int, start: UInt64) {
        if start > streamPosition {
            if packetLogCursor > 0 { reconcilePacketGap(to: start) } else { reconcileGap(to: start, length: length) }
            if checksData { generator.skip(Int(start - streamPosition)) }
            statistics.skippedBytes += start - streamPosition
            streamPosition = start
        } else if start < streamPosition {
            statistics.outOfOrder += 1
            return
        }
        statistics.receivedBytes += UInt64(length)
        streamPosition += UInt64(length)
        guard checksData else { return }
        let mismatches = buffer.withCPUBytes(count: length) { generator.countMismatches(in: $0, scratch: expected) }
        statistics.mismatchedBytes += UInt64(mismatches)
        statistics.verifiedBytes += UInt64(length)
    }

    /// The stream bytes from `streamPosition` to `start` never reached this consumer. Bytes the
    /// device delivered before this packet (of `length` bytes, the latest it completed) and this
    /// consumer never received were abandoned by the driver: each such transfer needs a driver
    /// error not already used. The rest must be bytes the device dropped with a reason, not already
    /// used by an earlier gap. Out of line: gaps are rare.
    @inline(never)
    private func reconcileGap(to start: UInt64, length: Int) {
        let gap = start - streamPosition
        let accounting = channel.accounting
        let deliveredBefore = accounting.deliveredBytes - UInt64(length)
        let accountedBefore = statistics.receivedBytes + statistics.abandonedBytes
        let abandoned = deliveredBefore > accountedBefore ? deliveredBefore - accountedBefore : 0
        // Transfers the device completed before this one, less those received or already abandoned.
        let unaccounted = Int64(accounting.deliveredPackets) - 1 - Int64(statistics.buffers - 1) - Int64(statistics.abandonedTransfers)
        let abandonedTransfers = UInt64(max(0, unaccounted))
        statistics.abandonedBytes += abandoned
        statistics.abandonedTransfers += abandonedTransfers
        let errors = driverErrors?() ?? 0
        var problem: String? = nil
        if abandoned > gap {
            problem = "\(abandoned) bytes the device delivered are missing from a gap of \(gap)"
        } else if abandonedTransfers > 0 && errors - driverErrorsExplained < Int(abandonedTransfers) {
            problem = "\(abandonedTransfers) completed transfer(s) (\(abandoned) bytes) never reached the consumer and the driver recorded no error for them"
        } else if gap - abandoned > accounting.dropped.total - droppedBytesExplained {
            problem = "\(gap - abandoned) bytes are missing but the device dropped only \(accounting.dropped.total - droppedBytesExplained) more"
        }
        driverErrorsExplained = min(errors, driverErrorsExplained + Int(abandonedTransfers))
        droppedBytesExplained = min(accounting.dropped.total, droppedBytesExplained + (gap > abandoned ? gap - abandoned : 0))
        if let problem {
            statistics.unexplainedGaps += 1
            if statistics.firstUnexplainedGap == nil {
                statistics.firstUnexplainedGap = "stream bytes \(streamPosition)..<\(start): \(problem)"
            }
        }
    }

    /// Scatter-gather: the stream offset of the packet that began in the buffer at `address`: the
    /// latest entry of the channel's packet log naming it (a buffer takes a new packet only once the
    /// driver has it back from this consumer, so an earlier entry for it is a packet abandoned on an
    /// error, begun again after the recovery). Entries before it never reached this consumer
    /// (`skippedPackets`). Searched from the newest back to the last one found: bounded by the
    /// packets the engine began meanwhile (at most a ring ahead), and by the log's capacity. A
    /// packet not found is counted and lined up where the stream position is.
    private func packetStart(_ address: UInt64) -> UInt64 {
        let begun = channel.packetsBegun
        var number = begun
        while number > packetLogCursor {  // bounded: the packets begun since the last one found
            number -= 1
            guard let entry = channel.packetStart(number) else { break }
            if entry.buffer == address {
                statistics.skippedPackets += number - packetLogCursor
                packetLogCursor = number + 1
                return entry.streamOffset
            }
        }
        statistics.packetsNotLogged += 1
        return streamPosition
    }

    /// Scatter-gather: a gap before a packet. Its bytes must be ones the device dropped with a
    /// reason (a transfer error's rest, a reset's flush, a FIFO overflow) not already used by an
    /// earlier gap, or belong to descriptors the driver abandoned, each matched by a driver error.
    @inline(never)
    private func reconcilePacketGap(to start: UInt64) {
        let gap = start - streamPosition
        let dropped = channel.accounting.dropped.total
        let available = dropped > droppedBytesExplained ? dropped - droppedBytesExplained : 0
        if gap <= available {
            droppedBytesExplained += gap
            return
        }
        let errors = driverErrors?() ?? 0
        if errors > driverErrorsExplained {
            driverErrorsExplained += 1
            droppedBytesExplained = dropped
            statistics.abandonedBytes += gap - available
            statistics.abandonedTransfers += 1
            return
        }
        statistics.unexplainedGaps += 1
        if statistics.firstUnexplainedGap == nil {
            statistics.firstUnexplainedGap = "stream bytes \(streamPosition)..<\(start): \(gap - available) bytes are missing but the device dropped only "
                + "\(available) more and the driver recorded no error for them"
        }
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
