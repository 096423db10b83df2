/// Scatter-gather S2MM: where each packet the engine began started in the source's stream, with
/// the buffer its first descriptor named, the last `capacity` of them in a ring allocated once.
/// Not a register: a checker's view of the stream (as `completedPacketStreamOffset` is in direct
/// register mode), for lining a delivered buffer up with the pattern. In direct mode one completion
/// is handed over before the next ends, so the last packet's offset is enough; a scatter-gather
/// driver reaps several descriptors per interrupt (coalescing), by which time the engine may have
/// begun more packets, so each one's start is kept.
final class SGPacketLog {
    /// Entries kept; a checker more than this many packets behind has lost its place (it counts it).
    static let capacity = 4096

    private let buffers: UnsafeMutablePointer<UInt64>
    private let offsets: UnsafeMutablePointer<UInt64>
    /// Packets begun so far (the next entry's number).
    private(set) var count: UInt64 = 0

    init(enabled: Bool) {
        let n = enabled ? Self.capacity : 1
        buffers = .allocate(capacity: n)
        offsets = .allocate(capacity: n)
        buffers.initialize(repeating: 0, count: n)
        offsets.initialize(repeating: 0, count: n)
    }

    deinit {
        buffers.deallocate()
        offsets.deallocate()
    }

    @inline(__always)
    func record(buffer: UInt64, streamOffset: UInt64) {
        let i = Int(count % UInt64(Self.capacity))
        buffers[i] = buffer
        offsets[i] = streamOffset
        count += 1
    }

    /// Entry `number` (from 0), or nil when it is not recorded yet or was overwritten.
    @inline(__always)
    func entry(_ number: UInt64) -> (buffer: UInt64, streamOffset: UInt64)? {
        guard number < count, count - number <= UInt64(Self.capacity) else { return nil }
        let i = Int(number % UInt64(Self.capacity))
        return (buffers[i], offsets[i])
    }
}

extension DMAChannel {
    /// Scatter-gather S2MM: packets begun so far (see `SGPacketLog`).
    public var packetsBegun: UInt64 { packetLog.count }

    /// Scatter-gather S2MM: the buffer address the `number`th packet (from 0) started in and its
    /// offset in the source's stream; nil when not begun yet or no longer kept.
    public func packetStart(_ number: UInt64) -> (buffer: UInt64, streamOffset: UInt64)? { packetLog.entry(number) }
}
