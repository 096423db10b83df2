import Trace

/// The canonical trace as a file: the JSON lines exactly as hashed.
public final class JSONLinesSink: TraceSink {
    private let file: TraceFile

    public init(path: String) throws(TraceError) { file = try TraceFile(path: path) }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) { file.write(line) }

    public func close() throws(TraceError) { try file.close() }
}
