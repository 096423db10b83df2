import Trace

/// The canonical trace as a file: the JSON lines, written a block at a time by a thread of the
/// sink's own (`StreamWorker`: the write(2) calls cost more than the emulation that makes the lines).
public final class JSONLinesSink: TraceSink {
    private let file: TraceFile
    private let worker: StreamWorker

    public init(path: String) throws(TraceError) {
        file = try TraceFile(path: path)
        worker = StreamWorker(consumer: file, blockBytes: CanonicalLine.blockBytes)
    }

    public var stream: CanonicalForm? { .jsonLines }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}

    public func write(stream bytes: UnsafeRawBufferPointer) { worker.submit(bytes) }

    /// Waits for the blocks given so far to be written, then closes the file (reporting the first
    /// write error).
    public func close() throws(TraceError) {
        worker.finish()
        try file.close()
    }
}
