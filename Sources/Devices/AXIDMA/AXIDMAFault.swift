import Board
import Reactor

/// A fault the scenario layer injects into one channel of an AXI DMA. "Next transfer" faults wait
/// for the next transfer to complete (or start, for `stall` and `delayCompletion`) and are used up by it.
public enum AXIDMAFault: Sendable, Hashable, CustomStringConvertible {
    /// The next transfer ends in DMASlvErr (an AXI SLVERR response).
    case slaveError
    /// The next transfer ends in DMADecErr (an AXI DECERR: no slave at the address).
    case decodeError
    /// The next transfer ends in DMAIntErr.
    case internalError
    /// The next transfer never completes; only a soft reset ends it.
    case stall
    /// The next transfer completes this much later than its timing says.
    case delayCompletion(TimeSpan)
    /// S2MM: the source's next packet is this many bytes long (a short packet: S2MM_LENGTH then
    /// reports fewer bytes than the buffer holds).
    case shortPacket(bytes: Int)
    /// The byte at `offset` of the next transfer's data is XORed with `mask` (in memory for S2MM,
    /// on the way to the sink for MM2S).
    case corruptByte(offset: Int, mask: UInt8 = 0xFF)
    /// Sets DMASR.Dly_Irq now (direct register mode has no delay timer; nothing else sets it).
    case delayInterrupt
    /// Pulses the interrupt line with no status bit set.
    case spuriousInterrupt
    /// The next assertion of the line never reaches the controller (edge lines only).
    case lostInterrupt
    /// Scatter-gather: the next descriptor fetch gets an AXI SLVERR (SGSlvErr).
    case descriptorSlaveError
    /// Scatter-gather: the next descriptor fetch gets an AXI DECERR (SGDecErr).
    case descriptorDecodeError
    /// Scatter-gather: the next descriptor fetched reads with Cmplt set, as one whose STATUS clear
    /// never reached memory would (a driver that recycled it without clearing Cmplt, or cleared it
    /// in a cache it did not flush): a stale descriptor, SGIntErr. Memory is not changed.
    case staleDescriptor

    public var description: String {
        switch self {
        case .slaveError: "slave-error"
        case .decodeError: "decode-error"
        case .internalError: "internal-error"
        case .stall: "stall"
        case .delayCompletion(let delay): "delay-completion(\(delay))"
        case .shortPacket(let bytes): "short-packet(\(bytes))"
        case .corruptByte(let offset, let mask): "corrupt-byte(offset: \(offset), mask: \(mask))"
        case .delayInterrupt: "delay-interrupt"
        case .spuriousInterrupt: "spurious-interrupt"
        case .lostInterrupt: "lost-interrupt"
        case .descriptorSlaveError: "descriptor-slave-error"
        case .descriptorDecodeError: "descriptor-decode-error"
        case .staleDescriptor: "stale-descriptor"
        }
    }
}

extension AXIDMAFault {
    /// Acts when injected (rather than on the next transfer).
    var actsAtOnce: Bool {
        switch self {
        case .delayInterrupt, .spuriousInterrupt: true
        default: false
        }
    }
}

/// Why a fault cannot be injected.
public enum FaultRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// A level-sensitive line cannot lose an interrupt: the controller samples the level, not a
    /// transition, and the device keeps the level asserted for as long as `dmasr & dmacr & 0x7000`
    /// stays non-zero. Whenever the line is unmasked and sampled, the interrupt is taken. Losing it
    /// would need the device to stop driving a level its status still demands: a stuck line, which
    /// is a different fault.
    case levelLineCannotLoseAnInterrupt(line: Int)
    /// The fault does not apply to this channel's direction (a short packet on MM2S).
    case notApplicable(AXIDMAFault, DMADirection)
    /// A parameter is out of range (a negative delay, an empty packet, a negative offset).
    case invalidParameter(AXIDMAFault)
    /// A descriptor fault on a core built without scatter-gather (no descriptors are fetched).
    case needsScatterGather(AXIDMAFault)

    public var description: String {
        switch self {
        case .levelLineCannotLoseAnInterrupt(let line):
            "line \(line) is level-sensitive: a level cannot be lost while the device still drives it"
        case .notApplicable(let fault, let direction): "\(fault) does not apply to \(direction)"
        case .invalidParameter(let fault): "\(fault): parameter out of range"
        case .needsScatterGather(let fault): "\(fault) needs a core built with scatter-gather (profile: scatter-gather: true, or mode: sg-receive)"
        }
    }
}

/// What became of one injected fault: whether and when it took effect (the evidence a scenario
/// checks, so a fault that never fired cannot pass as a recovery that worked).
public struct FaultEvidence: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Still waiting for the event it changes (the next transfer, packet or edge).
        case pending
        /// It changed what the device did, at this board time.
        case tookEffect(at: Instant)
        /// Its event came and it could not apply, for this reason.
        case missed(at: Instant, reason: String)
        /// A fault of the same kind injected later took its place before it took effect.
        case replaced(at: Instant)
    }

    public let fault: AXIDMAFault
    public let injectedAt: Instant
    public internal(set) var outcome: Outcome

    public var tookEffect: Bool {
        if case .tookEffect = outcome { return true }
        return false
    }
}

extension AXIDMAFault {
    /// The event a fault waits for, for a scenario failure that says what never came.
    public var awaits: String {
        switch self {
        case .slaveError, .decodeError, .internalError: "the next transfer to end"
        case .stall, .delayCompletion: "the next transfer to start"
        case .shortPacket: "the source's next packet"
        case .corruptByte: "the next transfer to complete"
        case .delayInterrupt, .spuriousInterrupt: "nothing (it acts when injected)"
        case .lostInterrupt: "the line's next assertion"
        case .descriptorSlaveError, .descriptorDecodeError, .staleDescriptor: "the next descriptor fetch"
        }
    }
}

/// The evidence of every fault injected into one channel, in injection order, and the
/// delay-completion faults waiting to be summed into the next transfer. A class held by a `let` of
/// the channel, so `PendingFaults` stays plain values: the per-transfer path reads flags only.
/// Only injection appends; taking a fault writes one record.
final class FaultLog {
    private(set) var evidence: [FaultEvidence] = []
    var pendingDelays: [Int] = []

    /// A new record for `fault` injected at `now`; returns its index.
    func record(_ fault: AXIDMAFault, at now: Instant, outcome: FaultEvidence.Outcome = .pending) -> Int {
        evidence.append(FaultEvidence(fault: fault, injectedAt: now, outcome: outcome))
        return evidence.count - 1
    }

    /// `old` (a pending record, or -1) gives way to a newer fault of its kind.
    func replace(_ old: Int, at now: Instant) {
        guard old >= 0, evidence[old].outcome == .pending else { return }
        evidence[old].outcome = .replaced(at: now)
    }

    func tookEffect(_ record: Int, clock: Unmanaged<Reactor>) {
        guard record >= 0 else { return }
        evidence[record].outcome = .tookEffect(at: clock._withUnsafeGuaranteedRef { $0.now })
    }

    func missed(_ record: Int, _ reason: String, clock: Unmanaged<Reactor>) {
        guard record >= 0 else { return }
        evidence[record].outcome = .missed(at: clock._withUnsafeGuaranteedRef { $0.now }, reason: reason)
    }
}

/// Faults waiting for the event they change: plain values, each with the index of its record in
/// the channel's `FaultLog`. The channel takes a fault when its event comes (`take...`), which
/// records when it took effect; the per-transfer path only tests the flags.
struct PendingFaults {
    struct Corruption {
        let offset: Int
        let mask: UInt8
        let record: Int
    }

    /// The dmasr error bit the next transfer ends with (0: none).
    var transferError: UInt32 = 0
    var transferErrorRecord = -1
    var stall = false
    var stallRecord = -1
    var completionDelayNanoseconds: Int64 = 0
    /// A delay-completion is pending (its delay may be 0); the log's `pendingDelays` are its faults.
    var delayPending = false
    var shortPacketBytes = 0
    var shortPacketRecord = -1
    var corruption: Corruption? = nil
    var loseNextInterrupt = false
    var lostInterruptRecord = -1
    /// Scatter-gather: what the next descriptor fetch meets: SGSlvErr, SGDecErr, or `SGStatus.Cmplt`
    /// (a stale descriptor); 0: nothing.
    var descriptorFault: UInt32 = 0
    var descriptorFaultRecord = -1

    mutating func takeCorruption() -> Corruption? {
        defer { corruption = nil }
        return corruption
    }
}

extension DMAChannel {
    // Taking a fault is out of line: the per-transfer path keeps only the flag test it had.

    /// The error bit the transfer ending now ends with (the caller checked `transferError != 0`).
    @inline(never)
    func takeTransferError() -> UInt32 {
        let error = faults.transferError
        faults.transferError = 0
        faultLog.tookEffect(faults.transferErrorRecord, clock: reactor)
        faults.transferErrorRecord = -1
        return error
    }

    /// The transfer starting now stalls (the caller checked `faults.stall`).
    @inline(never)
    func takeStall() {
        faults.stall = false
        faultLog.tookEffect(faults.stallRecord, clock: reactor)
        faults.stallRecord = -1
    }

    /// A soft reset clears a stall that has not started yet.
    @inline(never)
    func discardStall() {
        guard faults.stall else { return }
        faults.stall = false
        faultLog.missed(faults.stallRecord, "a soft reset cleared it before the next transfer started", clock: reactor)
        faults.stallRecord = -1
    }

    /// The extra time of the transfer starting now (the caller checked `faults.delayPending`).
    @inline(never)
    func takeDelay() -> Int64 {
        let delay = faults.completionDelayNanoseconds
        faults.completionDelayNanoseconds = 0
        faults.delayPending = false
        for record in faultLog.pendingDelays { faultLog.tookEffect(record, clock: reactor) }  // bounded: the injected delays
        faultLog.pendingDelays.removeAll(keepingCapacity: true)
        return delay
    }

    /// The edge being asserted now is lost (the caller checked `faults.loseNextInterrupt`).
    @inline(never)
    func takeLostInterrupt() {
        faults.loseNextInterrupt = false
        faultLog.tookEffect(faults.lostInterruptRecord, clock: reactor)
        faults.lostInterruptRecord = -1
    }

    /// What the descriptor fetch finishing now meets (the caller checked `descriptorFault != 0`):
    /// SGSlvErr, SGDecErr or `SGStatus.Cmplt`. In cyclic BD mode a stale descriptor is missed
    /// (the engine ignores Cmplt there).
    @inline(never)
    func takeDescriptorFault(cyclic: Bool) -> UInt32 {
        let fault = faults.descriptorFault
        faults.descriptorFault = 0
        if fault == SGStatus.Cmplt && cyclic {
            faultLog.missed(faults.descriptorFaultRecord, "the channel runs in cyclic BD mode, where Cmplt is ignored", clock: reactor)
        } else {
            faultLog.tookEffect(faults.descriptorFaultRecord, clock: reactor)
        }
        faults.descriptorFaultRecord = -1
        return fault
    }

    /// The length of the source's next packet: `drawn`, or the short-packet fault's.
    @inline(__always)
    func packetBytes(drawn: Int) -> Int {
        guard faults.shortPacketBytes > 0 else { return drawn }
        return takeShortPacket()
    }

    @inline(never)
    private func takeShortPacket() -> Int {
        let bytes = faults.shortPacketBytes
        faults.shortPacketBytes = 0
        faultLog.tookEffect(faults.shortPacketRecord, clock: reactor)
        faults.shortPacketRecord = -1
        return bytes
    }
}

extension DMAChannel {
    /// What became of every fault injected into this channel, in injection order.
    public var faultEvidence: [FaultEvidence] { faultLog.evidence }

    /// Injects `fault` (the scenario layer's entry point). Throws when it cannot apply here; else
    /// returns the index of its record in `faultEvidence`.
    @discardableResult
    public func inject(_ fault: AXIDMAFault) throws(FaultRejection) -> Int {
        let now = reactor._withUnsafeGuaranteedRef { $0.now }
        let record: Int
        switch fault {
        case .slaveError, .decodeError, .internalError:
            faultLog.replace(faults.transferErrorRecord, at: now)
            record = faultLog.record(fault, at: now)
            faults.transferErrorRecord = record
            switch fault {
            case .slaveError: faults.transferError = DMASR.DMASlvErr
            case .decodeError: faults.transferError = DMASR.DMADecErr
            default: faults.transferError = DMASR.DMAIntErr
            }
        case .stall:
            faultLog.replace(faults.stallRecord, at: now)
            record = faultLog.record(fault, at: now)
            faults.stallRecord = record
            faults.stall = true
        case .delayCompletion(let delay):
            guard delay.nanoseconds >= 0 else { throw .invalidParameter(fault) }
            record = faultLog.record(fault, at: now)
            faults.completionDelayNanoseconds += delay.nanoseconds
            faults.delayPending = true
            faultLog.pendingDelays.append(record)
        case .shortPacket(let bytes):
            guard direction == .s2mm else { throw .notApplicable(fault, direction) }
            guard bytes > 0 else { throw .invalidParameter(fault) }
            faultLog.replace(faults.shortPacketRecord, at: now)
            record = faultLog.record(fault, at: now)
            faults.shortPacketRecord = record
            faults.shortPacketBytes = bytes
        case .corruptByte(let offset, let mask):
            guard offset >= 0, mask != 0 else { throw .invalidParameter(fault) }
            faultLog.replace(faults.corruption?.record ?? -1, at: now)
            record = faultLog.record(fault, at: now)
            faults.corruption = PendingFaults.Corruption(offset: offset, mask: mask, record: record)
        case .delayInterrupt:
            record = faultLog.record(fault, at: now, outcome: .tookEffect(at: now))
            if tracer != nil { traceFault(fault) }
            dmasr |= DMASR.Dly_Irq
            updateInterrupt()
        case .spuriousInterrupt:
            // Active for an instant, then back to what the status says: the controller sees an
            // assertion (and counts it) while dmasr holds no cause.
            record = faultLog.record(fault, at: now, outcome: .tookEffect(at: now))
            if tracer != nil { traceFault(fault) }
            counters.spuriousPulses += 1
            interrupts.drive(line: route.line, high: !activeLow)
            updateInterrupt()
        case .lostInterrupt:
            guard route.sense.isEdge else { throw .levelLineCannotLoseAnInterrupt(line: route.line) }
            faultLog.replace(faults.lostInterruptRecord, at: now)
            record = faultLog.record(fault, at: now)
            faults.lostInterruptRecord = record
            faults.loseNextInterrupt = true
        case .descriptorSlaveError, .descriptorDecodeError, .staleDescriptor:
            guard scatterGather else { throw .needsScatterGather(fault) }
            faultLog.replace(faults.descriptorFaultRecord, at: now)
            record = faultLog.record(fault, at: now)
            faults.descriptorFaultRecord = record
            faults.descriptorFault = fault == .descriptorSlaveError ? DMASR.SGSlvErr : fault == .descriptorDecodeError ? DMASR.SGDecErr : SGStatus.Cmplt
        }
        // Traced once accepted (the two that act at once were traced before their effects).
        if tracer != nil, !fault.actsAtOnce { traceFault(fault) }
        return record
    }

    /// The corruption fault taken by the transfer completing now: applied (`applied`), or missed
    /// because the transfer moved only `moved` bytes or the stream carries no data.
    func settleCorruption(_ corruption: PendingFaults.Corruption, applied: Bool, moved: Int, carriesData: Bool) {
        if applied {
            faultLog.tookEffect(corruption.record, clock: reactor)
        } else if !carriesData {
            faultLog.missed(corruption.record, "the stream carries no data (pattern: none): there was no byte to change", clock: reactor)
        } else {
            faultLog.missed(corruption.record, "the transfer moved \(moved) bytes: offset \(corruption.offset) is beyond it", clock: reactor)
        }
    }
}
