import Reactor

/// Records trace events: stamps each with the reactor's time, encodes it as its canonical JSON line
/// and hands it to the sinks chosen at start (the files and the SHA-256 of `TraceFiles`).
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
    /// Unowned: the reactor's targets (devices, drivers) hold this tracer, so a strong reference
    /// back would be a cycle. The reactor outlives every recording (the workload owns both).
    private unowned let reactor: Reactor
    private let sinks: [any TraceSink]
    private let line = CanonicalLine()
    private var declared: Set<TraceTrack> = []
    public private(set) var eventCount = 0
    public private(set) var isFinished = false

    /// With no sinks the tracer only counts events.
    public init(reactor: Reactor, sinks: [any TraceSink] = []) {
        self.reactor = reactor
        self.sinks = sinks
    }

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
        guard !sinks.isEmpty else { return }
        line.encode(event, at: nanoseconds)
        let bytes = line.bytes
        for sink in sinks { sink.write(event, at: nanoseconds, line: bytes) }
    }

    /// The hash of every canonical line so far, from the sink that keeps one (`TraceHasher`: the
    /// SHA-256, in lowercase hex); nil when none does.
    public var hash: String? {
        for sink in sinks { if let digest = sink.digest { return digest } }
        return nil
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
