import Crypto
import Trace

/// The trace's identity: a running SHA-256 of the canonical records (`CanonicalForm.records`, the
/// binary form documented in `Trace/CanonicalRecords.swift` and README "Traces"), fed in large
/// blocks. Same scenario + seed ⇒ same records ⇒ same hash, in debug and release builds;
/// `uioemu trace hash FILE` recomputes it from a `--trace` file (`TraceHasher.hash(ofJSONLines:)`).
/// A sink like the files, so the models' targets never link Crypto. The blocks are hashed on a
/// thread of the sink's own (a `BlockHandoff`), the same bytes in the same order.
public final class TraceHasher: TraceSink {
    private let running = RunningHash()
    private let hashing: BlockHandoff

    public init() { hashing = BlockHandoff(consumer: running, slotBytes: 2 * CanonicalRecords.blockBytes) }

    public var stream: CanonicalForm? { .records }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}

    public func write(stream bytes: UnsafeRawBufferPointer) { hashing.submit(copyOf: bytes) }

    /// Ends the hashing thread; the digest stays readable.
    public func close() throws(TraceError) { hashing.finish() }

    /// The SHA-256 of every record so far, in lowercase hex (the running state is kept; reading it
    /// does not end the hash). Waits for the blocks given so far to be hashed.
    public var digest: String? {
        hashing.drain()
        return Self.hex(running.hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest {  // bounded: 32 bytes
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The running SHA-256, fed on the hasher's thread (read only after `BlockHandoff.drain()`).
private final class RunningHash: BlockConsumer {
    var hasher = SHA256()

    func consume(_ block: UnsafeRawBufferPointer) { hasher.update(bufferPointer: block) }
}
