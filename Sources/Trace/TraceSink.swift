#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a tracer's events go. The tracer calls a sink for every event, already stamped and (if
/// any sink or the hash wants it) encoded as its canonical JSON line; sinks are chosen once, when
/// the tracer is made. Sinks do the file I/O; the models only ever call `Tracer.record`.
public protocol TraceSink: AnyObject {
    /// A track to show from the start (before any event).
    func declare(_ track: TraceTrack)
    /// One event at `nanoseconds` of board time; `line` is its canonical JSON line (with the newline).
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer)
    /// Writes whatever is buffered and closes the file. Called once, by `Tracer.finish()`.
    func close() throws(TraceError)
}

/// Why a trace file could not be written.
public enum TraceError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case writeFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, errno): "cannot open \(path) for writing: \(String(cString: strerror(errno)))"
        case let .writeFailed(path, errno): "writing \(path) failed: \(String(cString: strerror(errno)))"
        }
    }
}

/// A file written through stdio with a large buffer: the sinks write many small pieces.
/// The first write error is remembered and reported by `close()`.
final class TraceFile {
    let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var failure: Int32 = 0

    init(path: String) throws(TraceError) {
        guard let file = fopen(path, "w") else { throw .cannotOpen(path: path, errno: errno) }
        setvbuf(file, nil, _IOFBF, 1 << 20)
        self.path = path
        self.file = file
    }

    deinit { if let file { fclose(file) } }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard let file, bytes.count > 0, failure == 0 else { return }
        if fwrite(bytes.baseAddress, 1, bytes.count, file) != bytes.count { failure = errno }
    }

    func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func close() throws(TraceError) {
        guard let file else { return }
        self.file = nil
        if fclose(file) != 0 && failure == 0 { failure = errno }
        if failure != 0 { throw .writeFailed(path: path, errno: failure) }
    }
}

/// The canonical trace as a file: the JSON lines exactly as hashed.
public final class JSONLinesSink: TraceSink {
    private let file: TraceFile

    public init(path: String) throws(TraceError) { file = try TraceFile(path: path) }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) { file.write(line) }

    public func close() throws(TraceError) { try file.close() }
}
