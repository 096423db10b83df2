import Crypto
import Trace

/// The trace's identity: a running SHA-256 of the canonical records (`CanonicalForm.records`, the
/// binary form documented in `Trace/CanonicalRecords.swift` and README "Traces"), fed in large
/// blocks. Same scenario + seed ⇒ same records ⇒ same hash, in debug and release builds;
/// `uioemu trace hash FILE` recomputes it from a `--trace` file (`TraceHasher.hash(ofJSONLines:)`).
/// A sink like the files, so the models' targets never link Crypto.
public final class TraceHasher: TraceSink {
    private var hasher = SHA256()

    public init() {}

    public var stream: CanonicalForm? { .records }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}

    public func write(stream bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public func close() throws(TraceError) {}

    /// The SHA-256 of every record so far, in lowercase hex (the running state is kept; reading it
    /// does not end the hash).
    public var digest: String? { Self.hex(hasher.finalize()) }

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
