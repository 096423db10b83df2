import Trace

/// The canonical trace as a file: the JSON lines, written a block at a time by a thread of the
/// sink's own (a `BlockHandoff`: the write(2) calls cost the kernel more than the emulation that
/// makes the lines, and so run beside it).
public final class JSONLinesSink: TraceSink {
    private let file: TraceFile
    private let writer: BlockHandoff

    public init(path: String) throws(TraceError) {
        file = try TraceFile(path: path)
        writer = BlockHandoff(consumer: file, slotBytes: 2 * CanonicalLine.blockBytes)
    }

    public var stream: CanonicalForm? { .jsonLines }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}

    public func write(stream bytes: UnsafeRawBufferPointer) { writer.submit(copyOf: bytes) }

    /// Waits for the blocks given so far to be written, then closes the file (reporting the first
    /// write error).
    public func close() throws(TraceError) {
        writer.finish()
        try file.close()
    }
}
