#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two canonical forms of a trace, as a stream of bytes: the JSON lines (`CanonicalLine`, what
/// `--trace` writes) and the binary records (`CanonicalRecords`, what the trace hash is the SHA-256 of).
public enum CanonicalForm: Sendable, Hashable {
    case jsonLines
    case records
}

/// Where a tracer's events go. Sinks are chosen once, when the tracer is made. A sink takes either
/// each event, stamped (and, if it asks, with its canonical JSON line), or one canonical form as a
/// stream of large blocks (`stream`), which costs the tracer nothing per event but the encoding.
/// The sinks themselves (the files, the hash) live in `TraceFiles`, at the edge: the models only
/// ever call `Tracer.record`, so a model target does no I/O and needs no hash library.
public protocol TraceSink: AnyObject {
    /// A track to show from the start (before any event).
    func declare(_ track: TraceTrack)
    /// One event at `nanoseconds` of board time; `line` is its canonical JSON line (with the
    /// newline) if the sink `needsCanonicalLine`, else empty. Not called for a `stream` sink.
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer)
    /// Writes whatever is buffered and closes the file. Called once, by `Tracer.finish()`.
    func close() throws(TraceError)
    /// The trace's hash so far (lowercase hex) if this sink keeps one; nil for the others. Read
    /// once per run, never per event.
    var digest: String? { get }
    /// Whether `write` reads `line`. A sink that looks only at the typed event (the protocol
    /// checker) says false; a tracer whose sinks all say false encodes no line at all.
    var needsCanonicalLine: Bool { get }
    /// The kinds of event `write(_:at:line:)` is given (the default: all). A sink that looks at only
    /// some (the protocol checker ignores interrupt lines, driver states, slot and buffer owners) says
    /// so, and the tracer skips the call for the others: a call per event costs the call and the
    /// sink's own switch on the event.
    var eventKinds: TraceEventKinds { get }
    /// The canonical form this sink takes as a stream through `write(stream:)`, instead of each
    /// event through `write(_:at:line:)`; nil (the default) for a sink of events.
    var stream: CanonicalForm? { get }
    /// The next bytes of the `stream` form, in order: a block ends anywhere, even inside an event.
    /// Called when the tracer's block is full, and before the hash is read or the sinks close.
    func write(stream bytes: UnsafeRawBufferPointer)
    /// Called once, by the tracer the sink was given to. A sink that derives events of its own (the
    /// protocol checker's findings) records them through it; `Tracer.record` called from inside
    /// `write` is recorded right after the event being written, in order.
    func attached(to tracer: Tracer)
    /// `write(_:at:line:)` on the sink at `sink` (an unretained `Self`), called through the sink's
    /// type: the tracer's per-event call, which retains nothing (a call through `any TraceSink`
    /// retains and releases the sink). Only the default implementation is meant.
    static func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer, to sink: UnsafeRawPointer)
    /// `write(stream:)` on the sink at `sink` (an unretained `Self`), called through the sink's type,
    /// for the same reason: the tracer's per-block call. Only the default implementation is meant.
    static func write(stream bytes: UnsafeRawBufferPointer, to sink: UnsafeRawPointer)
}

extension TraceSink {
    public var digest: String? { nil }
    public var needsCanonicalLine: Bool { true }
    public var stream: CanonicalForm? { nil }
    public var eventKinds: TraceEventKinds { .all }
    public func write(stream bytes: UnsafeRawBufferPointer) {}
    public func attached(to tracer: Tracer) {}
    @inline(__always)
    public static func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer, to sink: UnsafeRawPointer) {
        Unmanaged<Self>.fromOpaque(sink)._withUnsafeGuaranteedRef { $0.write(event, at: nanoseconds, line: line) }
    }
    public static func write(stream bytes: UnsafeRawBufferPointer, to sink: UnsafeRawPointer) {
        Unmanaged<Self>.fromOpaque(sink)._withUnsafeGuaranteedRef { $0.write(stream: bytes) }
    }
}

/// A set of `TraceEvent` kinds, one bit per kind (bit `kindNumber`, the kind's number in the binary
/// records): what a sink of events is given.
public struct TraceEventKinds: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    private init(number: UInt8) { rawValue = 1 << number }

    /// Every kind (and any added later).
    public static let all = TraceEventKinds(rawValue: ~0)

    /// The kind of `event`.
    @inline(__always)
    public init(of event: TraceEvent) { self.init(number: event.kindNumber) }

    public static let register = Self(number: 1)
    public static let interruptLine = Self(number: 2)
    public static let uioRead = Self(number: 3)
    public static let uioEnable = Self(number: 4)
    public static let uioInterrupt = Self(number: 5)
    public static let uioStorm = Self(number: 6)
    public static let dmaStart = Self(number: 7)
    public static let dmaDone = Self(number: 8)
    public static let dmaError = Self(number: 9)
    public static let channelStatus = Self(number: 10)
    public static let driverState = Self(number: 11)
    public static let slotOwner = Self(number: 12)
    public static let bufferOwner = Self(number: 13)
    public static let bufferLifetime = Self(number: 14)
    public static let bufferSync = Self(number: 15)
    public static let cpuAccess = Self(number: 16)
    public static let byteOrder = Self(number: 17)
    public static let lostInterrupts = Self(number: 18)
    public static let fault = Self(number: 19)
    public static let finding = Self(number: 20)
    public static let protocolFinding = Self(number: 21)
    public static let descriptorFetch = Self(number: 22)
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
