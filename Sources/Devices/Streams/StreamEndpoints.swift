import Reactor

/// How long the packets of a source are.
public enum PacketSize: Sendable, Hashable {
    case fixed(Int)
    /// Each packet's length drawn uniformly from the range with the source's seeded generator.
    case range(ClosedRange<Int>)

    public var largest: Int {
        switch self {
        case .fixed(let bytes): bytes
        case .range(let range): range.upperBound
        }
    }

    public var smallest: Int {
        switch self {
        case .fixed(let bytes): bytes
        case .range(let range): range.lowerBound
        }
    }

    @inline(__always)
    func draw(_ random: inout SplitMix64) -> Int {
        switch self {
        case .fixed(let bytes): bytes
        case .range(let range): Int.random(in: range, using: &random)
        }
    }
}

/// The AXI4-Stream producer attached to an S2MM channel: the FPGA logic that feeds the DMA.
public struct StreamSource: Sendable, Hashable {
    public var pattern: StreamPattern
    public var packetSize: PacketSize
    /// Nil: unlimited, the source has the next packet ready whenever the channel can take one (and
    /// so never drops). Otherwise packets arrive back to back at this rate, each once it is complete.
    public var rateBytesPerSecond: UInt64?
    /// True: a packet that does not fit in the FIFO waits at the source (which stops producing)
    /// instead of being dropped.
    public var backPressure: Bool
    /// Stop after this many packets; nil for no end.
    public var packetLimit: UInt64?

    public init(
        pattern: StreamPattern = .counter, packetSize: PacketSize, rateBytesPerSecond: UInt64? = nil,
        backPressure: Bool = false, packetLimit: UInt64? = nil
    ) {
        precondition(packetSize.smallest >= 1, "a packet has at least one byte")
        precondition(rateBytesPerSecond.map { (1...1_000_000_000_000).contains($0) } ?? true, "rate out of range")
        self.pattern = pattern
        self.packetSize = packetSize
        self.rateBytesPerSecond = rateBytesPerSecond
        self.backPressure = backPressure
        self.packetLimit = packetLimit
    }
}

/// The AXI4-Stream consumer attached to an MM2S channel: it takes every packet, at a rate, and
/// checks it against its pattern.
public struct StreamSink: Sendable, Hashable {
    /// What the bytes should be; `none` takes them unchecked (and lets MM2S skip reading memory).
    public var pattern: StreamPattern
    /// Nil: as fast as the bus delivers. Otherwise a transfer lasts at least bytes / rate.
    public var rateBytesPerSecond: UInt64?

    public init(pattern: StreamPattern = .none, rateBytesPerSecond: UInt64? = nil) {
        precondition(rateBytesPerSecond.map { (1...1_000_000_000_000).contains($0) } ?? true, "rate out of range")
        self.pattern = pattern
        self.rateBytesPerSecond = rateBytesPerSecond
    }
}

/// Time for `bytes` at `bytesPerSecond`, rounded up to whole nanoseconds.
@inline(__always)
func transferNanoseconds(_ bytes: Int, bytesPerSecond: UInt64) -> Int64 {
    let scaled = UInt64(bytes) * 1_000_000_000
    return Int64((scaled + bytesPerSecond - 1) / bytesPerSecond)
}
