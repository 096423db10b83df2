import Crypto
import Trace

/// The trace's identity: a running SHA-256 of the canonical JSON lines, in order, exactly the bytes
/// a `JSONLinesSink` writes (so `sha256sum trace.jsonl` gives the same hash). Same scenario + seed ⇒
/// same hash. A sink like the files, so the models' targets never link Crypto.
public final class TraceHasher: TraceSink {
    private var hasher = SHA256()

    public init() {}

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: line)
    }

    public func close() throws(TraceError) {}

    /// The SHA-256 of every line so far, in lowercase hex (the running state is kept; reading it
    /// does not end the hash).
    public var digest: String? {
        hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }
}
