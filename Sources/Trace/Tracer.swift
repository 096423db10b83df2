import Crypto
import Reactor

/// Records trace events: stamps each with the reactor's time, encodes it as its canonical JSON line,
/// feeds the line to a running SHA-256 (when hashing) and hands it to the sinks chosen at start.
///
/// Instrumented objects hold an optional reference (`@exclusivity(unchecked) var tracer: Tracer?`)
/// and call `record(_:)` only when it is set, from an out-of-line function: with no tracer the hot
/// path pays one predictable branch per site and nothing else. (Unchecked: a checked class `var`
/// costs a `swift_beginAccess` per read; measured at +430 instructions per completion.) Same scenario + seed ⇒ same events in the same
/// order ⇒ same bytes ⇒ same hash, in debug and release builds (virtual time; a real-time run
/// stamps wall-clock nanoseconds and is not reproducible).
///
/// Not thread-safe: like every model, it lives on the reactor's thread.
public final class Tracer {
    /// The usual sinks by file path; nil leaves that file out.
    public struct Options: Sendable {
        /// Keep the SHA-256 of the canonical lines (for `hash`).
        public var hashing: Bool
        public var jsonLinesPath: String?
        public var perfettoPath: String?
        public var vcdPath: String?

        public init(hashing: Bool = true, jsonLinesPath: String? = nil, perfettoPath: String? = nil, vcdPath: String? = nil) {
            self.hashing = hashing
            self.jsonLinesPath = jsonLinesPath
            self.perfettoPath = perfettoPath
            self.vcdPath = vcdPath
        }

        /// Nothing would be hashed or written.
        public var isEmpty: Bool { !hashing && jsonLinesPath == nil && perfettoPath == nil && vcdPath == nil }
    }

    /// Unowned: the reactor's targets (devices, drivers) hold this tracer, so a strong reference
    /// back would be a cycle. The reactor outlives every recording (the workload owns both).
    private unowned let reactor: Reactor
    private let sinks: [any TraceSink]
    private var hasher: SHA256?
    private let line = CanonicalLine()
    private var declared: Set<TraceTrack> = []
    public private(set) var eventCount = 0
    public private(set) var isFinished = false

    public init(reactor: Reactor, hashing: Bool = true, sinks: [any TraceSink] = []) {
        self.reactor = reactor
        self.sinks = sinks
        hasher = hashing ? SHA256() : nil
    }

    /// A tracer writing the files `options` names (JSON lines, Perfetto, VCD).
    public convenience init(reactor: Reactor, options: Options) throws(TraceError) {
        var sinks: [any TraceSink] = []
        if let path = options.jsonLinesPath { sinks.append(try JSONLinesSink(path: path)) }
        if let path = options.perfettoPath { sinks.append(try PerfettoSink(path: path)) }
        if let path = options.vcdPath { sinks.append(try VCDSink(path: path)) }
        self.init(reactor: reactor, hashing: options.hashing, sinks: sinks)
    }

    public var isHashing: Bool { hasher != nil }

    /// Names a track before the first event (a VCD needs every signal up front). Repeats are ignored.
    public func declare(_ track: TraceTrack) {
        guard !isFinished, declared.insert(track).inserted else { return }
        for sink in sinks { sink.declare(track) }
    }

    /// The only entry point for events.
    public func record(_ event: TraceEvent) {
        guard !isFinished else { return }
        let nanoseconds = reactor.now.nanosecondsSinceStart
        eventCount += 1
        guard hasher != nil || !sinks.isEmpty else { return }
        line.encode(event, at: nanoseconds)
        let bytes = line.bytes
        hasher?.update(bufferPointer: bytes)
        for sink in sinks { sink.write(event, at: nanoseconds, line: bytes) }
    }

    /// The SHA-256 of every canonical line so far, in lowercase hex; nil when not hashing.
    public var hash: String? {
        guard let hasher else { return nil }
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    /// Closes the sinks (every one, even after a failure; the first failure is thrown) and returns
    /// the hash. Later events are ignored. Call it after the run, also when a signal stopped it.
    @discardableResult
    public func finish() throws(TraceError) -> String? {
        guard !isFinished else { return hash }
        isFinished = true
        var failure: TraceError? = nil
        for sink in sinks {
            do throws(TraceError) { try sink.close() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return hash
    }
}
