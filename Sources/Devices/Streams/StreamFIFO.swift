/// The S2MM side's device FIFO: a ring of packet descriptors (length and stream offset), allocated
/// once when a source is attached and never again.
///
/// A packet waits here from its arrival until a transfer takes it, and stays held until the
/// transfer completes. Its bytes are not stored: every `StreamPattern` is a pure function of the
/// stream offset and nothing can change a byte between the source and memory (a corruption fault
/// acts on memory), so the channel generates a packet's bytes straight into memory at the transfer
/// from its offset: one write pass instead of generating into a ring and copying the ring out, and
/// the same bytes. The profile's depth bounds the bytes *waiting*; the one in flight is on top of
/// that (a packet that arrives while a transfer is armed and nothing waits streams straight
/// through, as in the real core, whatever the depth).
final class StreamFIFO {
    /// Bytes that may wait for a transfer (the profile's `fifo-depth`).
    let depthBytes: Int

    /// Bytes held: waiting, plus the packet in flight.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private(set) var heldBytes = 0

    @exclusivity(unchecked) private var lengths: UnsafeMutablePointer<Int32>? = nil
    /// Each waiting packet's position in the source's stream (bytes produced before it), beside its
    /// length: what its bytes are, and where a checker lines up after drops left gaps.
    @exclusivity(unchecked) private var offsets: UnsafeMutablePointer<UInt64>? = nil
    @exclusivity(unchecked) private var lengthCapacity = 0
    @exclusivity(unchecked) private var lengthHead = 0
    /// Packets waiting (not taken by a transfer).
    @exclusivity(unchecked) private(set) var waitingPackets = 0
    @exclusivity(unchecked) private(set) var waitingBytes = 0

    /// Whether packets carry bytes (not a `none` source).
    @exclusivity(unchecked) private(set) var carriesData = false

    init(depthBytes: Int) {
        self.depthBytes = depthBytes
    }

    deinit {
        lengths?.deallocate()
        offsets?.deallocate()
    }

    /// Sizes the descriptor ring. Configuration time only: drops whatever is held (the caller
    /// accounts for it first).
    func configure(carriesData: Bool) {
        lengths?.deallocate()
        offsets?.deallocate()
        self.carriesData = carriesData
        // Waiting packets have at least one byte each, so at most `depthBytes` of them, plus the
        // one streaming through.
        lengthCapacity = depthBytes + 2
        lengths = .allocate(capacity: lengthCapacity)
        offsets = .allocate(capacity: lengthCapacity)
        flush()
    }

    /// Whether a packet of `bytes` fits behind what is waiting.
    @inline(__always)
    func hasRoom(for bytes: Int) -> Bool { waitingBytes + bytes <= depthBytes }

    /// Appends a packet of `bytes` that starts at `streamOffset` in the source's stream. The caller
    /// checked the room (or streams it straight through: nothing waiting, a transfer armed).
    func push(_ bytes: Int, streamOffset: UInt64) {
        lengths![(lengthHead + waitingPackets) % lengthCapacity] = Int32(bytes)
        offsets![(lengthHead + waitingPackets) % lengthCapacity] = streamOffset
        waitingPackets += 1
        waitingBytes += bytes
        heldBytes += bytes
    }

    /// Takes the oldest waiting packet for a transfer; it stays held until `release`.
    func take() -> (bytes: Int, streamOffset: UInt64) {
        precondition(waitingPackets > 0, "take from an empty FIFO")
        let bytes = Int(lengths![lengthHead])
        let streamOffset = offsets![lengthHead]
        lengthHead = (lengthHead + 1) % lengthCapacity
        waitingPackets -= 1
        waitingBytes -= bytes
        return (bytes, streamOffset)
    }

    /// Frees the taken packet's `bytes`.
    func release(_ bytes: Int) {
        heldBytes -= bytes
    }

    /// Drops everything, waiting or in flight (soft reset).
    func flush() {
        heldBytes = 0
        lengthHead = 0
        waitingPackets = 0
        waitingBytes = 0
    }
}
