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

    public var description: String {
        switch self {
        case .levelLineCannotLoseAnInterrupt(let line):
            "line \(line) is level-sensitive: a level cannot be lost while the device still drives it"
        case .notApplicable(let fault, let direction): "\(fault) does not apply to \(direction)"
        case .invalidParameter(let fault): "\(fault): parameter out of range"
        }
    }
}

/// Faults waiting for the event they change.
struct PendingFaults {
    struct Corruption {
        let offset: Int
        let mask: UInt8
    }

    /// The dmasr error bit the next transfer ends with (0: none).
    var transferError: UInt32 = 0
    var stall = false
    var completionDelayNanoseconds: Int64 = 0
    var shortPacketBytes = 0
    var corruption: Corruption? = nil
    var loseNextInterrupt = false

    mutating func takeCorruption() -> Corruption? {
        defer { corruption = nil }
        return corruption
    }

    /// The length of the source's next packet: `drawn`, or the short-packet fault's.
    mutating func packetBytes(drawn: Int) -> Int {
        guard shortPacketBytes > 0 else { return drawn }
        defer { shortPacketBytes = 0 }
        return shortPacketBytes
    }
}

extension DMAChannel {
    /// Injects `fault` (the scenario layer's entry point). Throws when it cannot apply here.
    public func inject(_ fault: AXIDMAFault) throws(FaultRejection) {
        switch fault {
        case .slaveError: faults.transferError = DMASR.DMASlvErr
        case .decodeError: faults.transferError = DMASR.DMADecErr
        case .internalError: faults.transferError = DMASR.DMAIntErr
        case .stall: faults.stall = true
        case .delayCompletion(let delay):
            guard delay.nanoseconds >= 0 else { throw .invalidParameter(fault) }
            faults.completionDelayNanoseconds += delay.nanoseconds
        case .shortPacket(let bytes):
            guard direction == .s2mm else { throw .notApplicable(fault, direction) }
            guard bytes > 0 else { throw .invalidParameter(fault) }
            faults.shortPacketBytes = bytes
        case .corruptByte(let offset, let mask):
            guard offset >= 0, mask != 0 else { throw .invalidParameter(fault) }
            faults.corruption = PendingFaults.Corruption(offset: offset, mask: mask)
        case .delayInterrupt:
            if tracer != nil { traceFault(fault) }
            dmasr |= DMASR.Dly_Irq
            updateInterrupt()
        case .spuriousInterrupt:
            // Active for an instant, then back to what the status says: the controller sees an
            // assertion (and counts it) while dmasr holds no cause.
            if tracer != nil { traceFault(fault) }
            counters.spuriousPulses += 1
            interrupts.drive(line: route.line, high: !activeLow)
            updateInterrupt()
        case .lostInterrupt:
            guard route.sense.isEdge else { throw .levelLineCannotLoseAnInterrupt(line: route.line) }
            faults.loseNextInterrupt = true
        }
        // Traced once accepted (the two that act at once were traced before their effects).
        if tracer != nil, !fault.actsAtOnce { traceFault(fault) }
    }
}
