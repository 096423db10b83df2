#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Board

/// The S2MM side's device FIFO: a ring of bytes and a ring of packet lengths, allocated once when a
/// source is attached and never again.
///
/// A packet waits here from its arrival until a transfer takes it; its bytes stay in the ring until
/// the transfer completes and copies them to memory (one `Bus.write` per ring segment). The
/// profile's depth bounds the bytes *waiting*; the ring has room for one more largest packet,
/// which is the one in flight (a packet that arrives while a transfer is armed and nothing waits
/// streams straight through, as in the real core, whatever the depth).
final class StreamFIFO {
    /// Bytes that may wait for a transfer (the profile's `fifo-depth`).
    let depthBytes: Int

    /// Nil for a source without data (`none`) or before a source is attached.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var ring: UnsafeMutableRawPointer? = nil
    @exclusivity(unchecked) private var ringCapacity = 0
    /// Ring index of the oldest byte held (the in-flight packet's first byte, if any).
    @exclusivity(unchecked) private var ringHead = 0
    @exclusivity(unchecked) private(set) var heldBytes = 0

    @exclusivity(unchecked) private var lengths: UnsafeMutablePointer<Int32>? = nil
    /// Each waiting packet's position in the source's stream (bytes produced before it), beside its
    /// length, so a checker can verify a packet even after drops left gaps in the pattern.
    @exclusivity(unchecked) private var offsets: UnsafeMutablePointer<UInt64>? = nil
    @exclusivity(unchecked) private var lengthCapacity = 0
    @exclusivity(unchecked) private var lengthHead = 0
    /// Packets waiting (not taken by a transfer).
    @exclusivity(unchecked) private(set) var waitingPackets = 0
    @exclusivity(unchecked) private(set) var waitingBytes = 0

    /// Whether packets carry bytes (not a `none` source).
    var carriesData: Bool { ring != nil }

    init(depthBytes: Int) {
        self.depthBytes = depthBytes
    }

    deinit {
        ring?.deallocate()
        lengths?.deallocate()
        offsets?.deallocate()
    }

    /// Sizes the rings for packets of at most `maximumPacketBytes`. Configuration time only: drops
    /// whatever is held (the caller accounts for it first).
    func configure(maximumPacketBytes: Int, carriesData: Bool) {
        ring?.deallocate()
        lengths?.deallocate()
        offsets?.deallocate()
        ringCapacity = carriesData ? depthBytes + maximumPacketBytes : 0
        ring = carriesData ? .allocate(byteCount: ringCapacity, alignment: 16) : nil
        lengthCapacity = depthBytes + 2
        lengths = .allocate(capacity: lengthCapacity)
        offsets = .allocate(capacity: lengthCapacity)
        flush()
    }

    /// Whether a packet of `bytes` fits behind what is waiting.
    @inline(__always)
    func hasRoom(for bytes: Int) -> Bool { waitingBytes + bytes <= depthBytes }

    /// Appends a packet that starts at `streamOffset` in the source's stream, its bytes generated in
    /// place. The caller checked the room (or streams it straight through: nothing waiting, a
    /// transfer armed).
    func push(_ bytes: Int, streamOffset: UInt64, generator: inout PatternGenerator) {
        if let ring {
            let tail = (ringHead + heldBytes) % ringCapacity
            let first = min(bytes, ringCapacity - tail)
            generator.fill(UnsafeMutableRawBufferPointer(start: ring + tail, count: first))
            if first < bytes { generator.fill(UnsafeMutableRawBufferPointer(start: ring, count: bytes - first)) }
        }
        lengths![(lengthHead + waitingPackets) % lengthCapacity] = Int32(bytes)
        offsets![(lengthHead + waitingPackets) % lengthCapacity] = streamOffset
        waitingPackets += 1
        waitingBytes += bytes
        heldBytes += bytes
    }

    /// Takes the oldest waiting packet for a transfer; its bytes stay held until `release`.
    func take() -> (bytes: Int, streamOffset: UInt64) {
        precondition(waitingPackets > 0, "take from an empty FIFO")
        let bytes = Int(lengths![lengthHead])
        let streamOffset = offsets![lengthHead]
        lengthHead = (lengthHead + 1) % lengthCapacity
        waitingPackets -= 1
        waitingBytes -= bytes
        return (bytes, streamOffset)
    }

    /// Copies the first `count` bytes of the taken packet to memory at `address`.
    func copyOut(_ count: Int, to address: PhysicalAddress, bus: Bus) -> BusFault? {
        guard let ring, count > 0 else { return nil }
        let first = min(count, ringCapacity - ringHead)
        if let fault = bus.write(UnsafeRawBufferPointer(start: ring + ringHead, count: first), to: address) { return fault }
        guard first < count else { return nil }
        return bus.write(UnsafeRawBufferPointer(start: ring, count: count - first), to: address + UInt64(first))
    }

    /// Frees the taken packet's `bytes`.
    func release(_ bytes: Int) {
        heldBytes -= bytes
        ringHead = ringCapacity == 0 ? 0 : (ringHead + bytes) % ringCapacity
    }

    /// Drops everything, waiting or in flight (soft reset).
    func flush() {
        ringHead = 0
        heldBytes = 0
        lengthHead = 0
        waitingPackets = 0
        waitingBytes = 0
    }
}
