import Trace

/// The canonical trace as a file: the JSON lines, written a block at a time.
public final class JSONLinesSink: TraceSink {
    private let file: TraceFile

    public init(path: String) throws(TraceError) { file = try TraceFile(path: path) }

    public var stream: CanonicalForm? { .jsonLines }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}

    public func write(stream bytes: UnsafeRawBufferPointer) { file.writeBlock(bytes) }

    public func close() throws(TraceError) { try file.close() }
}
