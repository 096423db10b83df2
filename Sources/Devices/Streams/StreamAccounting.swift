/// Why bytes of a stream never reached memory.
public enum DropReason: Int, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The device FIFO was full when the packet arrived and the source does not stall.
    case fifoOverflow
    /// The part of a packet beyond the programmed S2MM LENGTH (the transfer ends in DMAIntErr).
    case packetTooLong
    /// The packet was taken by a transfer that ended in an error (SLVERR, DECERR, internal).
    case transferError
    /// A soft reset flushed the FIFO and aborted the transfer holding the packet.
    case reset
    /// The first bytes of a packet written to a buffer address not aligned to the data width, on a
    /// core without the Data Realignment Engine: their byte lanes lie below the address and are
    /// strobed off (see DMAChannel+Data.swift).
    case unalignedWithoutDRE

    public var description: String {
        switch self {
        case .fifoOverflow: "fifo-overflow"
        case .packetTooLong: "packet-too-long"
        case .transferError: "transfer-error"
        case .reset: "reset"
        case .unalignedWithoutDRE: "unaligned-without-dre"
        }
    }
}

/// Byte counts per `DropReason`: plain counters, no log, no allocation.
public struct DropCounters: Hashable, Sendable {
    public private(set) var fifoOverflow: UInt64 = 0
    public private(set) var packetTooLong: UInt64 = 0
    public private(set) var transferError: UInt64 = 0
    public private(set) var reset: UInt64 = 0
    public private(set) var unalignedWithoutDRE: UInt64 = 0

    public init() {}

    public subscript(reason: DropReason) -> UInt64 {
        get {
            switch reason {
            case .fifoOverflow: fifoOverflow
            case .packetTooLong: packetTooLong
            case .transferError: transferError
            case .reset: reset
            case .unalignedWithoutDRE: unalignedWithoutDRE
            }
        }
        set {
            switch reason {
            case .fifoOverflow: fifoOverflow = newValue
            case .packetTooLong: packetTooLong = newValue
            case .transferError: transferError = newValue
            case .reset: reset = newValue
            case .unalignedWithoutDRE: unalignedWithoutDRE = newValue
            }
        }
    }

    public var total: UInt64 { fifoOverflow + packetTooLong + transferError + reset + unalignedWithoutDRE }
}

/// Where every byte a stream source produced went, at any instant:
/// `producedBytes == deliveredBytes + heldBytes + dropped.total` (see `balances`).
public struct StreamAccounting: Hashable, Sendable {
    public internal(set) var producedBytes: UInt64 = 0
    public internal(set) var producedPackets: UInt64 = 0
    /// Bytes written to memory by completed S2MM transfers, in stream order.
    public internal(set) var deliveredBytes: UInt64 = 0
    public internal(set) var deliveredPackets: UInt64 = 0
    /// Bytes inside the device: waiting in the FIFO or held by the transfer in flight.
    public internal(set) var heldBytes: UInt64 = 0
    public internal(set) var dropped = DropCounters()
    public internal(set) var droppedPackets: UInt64 = 0
    /// Times a back-pressured source had to wait for room in the FIFO.
    public internal(set) var stalls: UInt64 = 0

    public init() {}

    /// The invariant of DESIGN.md, "Invariants checked on every run".
    public var balances: Bool { producedBytes == deliveredBytes + heldBytes + dropped.total }

    mutating func drop(_ bytes: Int, _ reason: DropReason) {
        dropped[reason] += UInt64(bytes)
        droppedPackets += 1
    }
}

/// What an MM2S sink saw.
public struct SinkStatistics: Hashable, Sendable {
    public internal(set) var packets: UInt64 = 0
    public internal(set) var bytes: UInt64 = 0
    /// Bytes compared against the sink's pattern (0 for `none`).
    public internal(set) var verifiedBytes: UInt64 = 0
    public internal(set) var mismatchedBytes: UInt64 = 0
    public init() {}
}
