#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a tracer's events go. The tracer calls a sink for every event, already stamped and encoded
/// as its canonical JSON line; sinks are chosen once, when the tracer is made. The sinks themselves
/// (the files, the hash) live in `TraceFiles`, at the edge: the models only ever call
/// `Tracer.record`, so a model target does no I/O and needs no hash library.
public protocol TraceSink: AnyObject {
    /// A track to show from the start (before any event).
    func declare(_ track: TraceTrack)
    /// One event at `nanoseconds` of board time; `line` is its canonical JSON line (with the newline).
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer)
    /// Writes whatever is buffered and closes the file. Called once, by `Tracer.finish()`.
    func close() throws(TraceError)
    /// The trace's hash so far (lowercase hex) if this sink keeps one; nil for the others. Read
    /// once per run, never per event.
    var digest: String? { get }
    /// Whether `write` reads `line`. A sink that looks only at the typed event (the protocol
    /// checker) says false; a tracer whose sinks all say false encodes no line at all.
    var needsCanonicalLine: Bool { get }
    /// Called once, by the tracer the sink was given to. A sink that derives events of its own (the
    /// protocol checker's findings) records them through it; `Tracer.record` called from inside
    /// `write` is recorded right after the event being written, in order.
    func attached(to tracer: Tracer)
}

extension TraceSink {
    public var digest: String? { nil }
    public var needsCanonicalLine: Bool { true }
    public func attached(to tracer: Tracer) {}
}

/// Why a trace file could not be written (or, for `uioemu diff`, read).
public enum TraceError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case writeFailed(path: String, errno: Int32)
    case cannotRead(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, errno): "cannot open \(path) for writing: \(String(cString: strerror(errno)))"
        case let .writeFailed(path, errno): "writing \(path) failed: \(String(cString: strerror(errno)))"
        case let .cannotRead(path, errno): "cannot read \(path): \(String(cString: strerror(errno)))"
        }
    }
}
