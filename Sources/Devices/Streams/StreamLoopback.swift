/// An AXI-Stream wire from an MM2S channel back to an S2MM channel (an AXI4-Stream FIFO or a small
/// accelerator between them in the fabric): the most common AXI DMA test sends a buffer out and reads
/// it back. Each MM2S transfer is one packet (TLAST at its end), delivered to the S2MM side as one
/// packet with the same boundaries, its bytes optionally transformed word by word on the way.
///
/// The bytes are kept, by stream offset, from the MM2S read until the S2MM transfer that takes them
/// writes them to memory (or they are dropped): unlike a pattern source, a looped-back stream is not a
/// function of its offset. Storage grows to the bytes in flight at most (the S2MM FIFO's depth plus
/// the packet being moved) and is reused.
public final class StreamLoopback {
    /// What the fabric does to each little-endian 32-bit word on the way back.
    public enum Transform: Sendable, Hashable {
        case none
        /// Adds a constant to each 32-bit word (wrapping), as the simplest test accelerators do.
        case addToWords(UInt32)
    }

    public let transform: Transform
    /// Bytes of the stream from `baseOffset` on, not yet released.
    private var bytes: [UInt8] = []
    private var baseOffset: UInt64 = 0
    /// Stream offset of the next byte appended (every byte the MM2S side ever sent).
    public private(set) var endOffset: UInt64 = 0

    public init(transform: Transform = .none) { self.transform = transform }

    /// Appends one MM2S packet's bytes (already read from memory); returns its stream offset.
    func append(_ packet: UnsafeRawBufferPointer) -> UInt64 {
        let start = endOffset
        let first = bytes.count
        bytes.append(contentsOf: packet)
        if case let .addToWords(constant) = transform {
            // Word lanes follow the packet: a packet starts a new word (AXI-Stream TKEEP aligned).
            var i = first
            while i + 4 <= bytes.count {  // bounded: the packet's bytes
                let word = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                let sum = word &+ constant
                bytes[i] = UInt8(truncatingIfNeeded: sum)
                bytes[i + 1] = UInt8(truncatingIfNeeded: sum >> 8)
                bytes[i + 2] = UInt8(truncatingIfNeeded: sum >> 16)
                bytes[i + 3] = UInt8(truncatingIfNeeded: sum >> 24)
                i += 4
            }
        }
        endOffset += UInt64(packet.count)
        return start
    }

    /// Copies `count` bytes from `streamOffset` to `target` (zeros for bytes already released).
    func copy(from streamOffset: UInt64, count: Int, to target: UnsafeMutableRawPointer) {
        for i in 0..<count {  // bounded: LENGTH < 2^26
            let offset = streamOffset + UInt64(i)
            let byte: UInt8 = offset >= baseOffset && offset < endOffset ? bytes[Int(offset - baseOffset)] : 0
            target.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
        }
    }

    /// Forgets the bytes before `streamOffset` (taken by S2MM, or dropped).
    func release(upTo streamOffset: UInt64) {
        guard streamOffset > baseOffset else { return }
        let count = Int(min(streamOffset, endOffset) - baseOffset)
        bytes.removeFirst(count)
        baseOffset += UInt64(count)
    }
}
