import Reactor

/// Records trace events: stamps each with the reactor's time, encodes it in the canonical forms its
/// sinks take (the binary records that are hashed, the JSON lines of the `--trace` file) into
/// reusable blocks handed on when full, and gives each event to the sinks that look at events (the
/// checker, the Perfetto and VCD files).
///
/// Instrumented objects hold an optional reference (`@exclusivity(unchecked) var tracer: Tracer?`)
/// and call `record(_:)` only when it is set, from an out-of-line function, through
/// `tracer.unretained` (no retain of the tracer per event): with no tracer the hot path pays one
/// predictable branch per site and nothing else. (Unchecked: a checked class `var`
/// costs a `swift_beginAccess` per read; measured at +430 instructions per completion.) Same scenario + seed ⇒ same events in the same
/// order ⇒ same bytes ⇒ same hash, in debug and release builds (virtual time; a real-time run
/// stamps wall-clock nanoseconds and is not reproducible).
///
/// Not thread-safe: like every model, it lives on the reactor's thread.
public final class Tracer {
    /// Unretained: the reactor's targets (devices, drivers) hold this tracer, so a strong reference
    /// back would be a cycle. The reactor outlives every recording (the workload owns both).
    /// `Unmanaged` rather than `unowned`: reading an `unowned` reference costs a
    /// `swift_unownedRetainStrong` per event (measured: a tenth of a checked run's time).
    private let reactor: Unmanaged<Reactor>
    private let sinks: [any TraceSink]
    /// The sinks given each event (not a `stream`), unretained (`sinks` owns them): calling a sink
    /// taken out of an array of `any TraceSink` retains and releases it per event. Raw memory, read
    /// in a plain loop: the closure of `Array.withUnsafeBufferPointer` captures the event, and once
    /// not inlined it copies the event (and retains its strings) per event.
    private let eventSinks: UnsafeMutablePointer<EventSink>
    private let eventSinkCount: Int
    /// The sinks of the two streams, the same way: a block handed through an array of `any
    /// TraceSink` retained each sink and the array (the gate counted them against `e2e-trace-file`).
    private let recordSinks: StreamSinks
    private let lineSinks: StreamSinks
    /// Some sink takes the records or the lines: encode them per event.
    private let encodesRecords: Bool
    private let encodesLines: Bool
    private let records = CanonicalRecords()
    private let line = CanonicalLine()
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access.
    @exclusivity(unchecked) private var declared: Set<TraceTrack> = []
    /// Events recorded by a sink while it was handed another (a checker's findings): recorded next.
    @exclusivity(unchecked) private var deferred: [TraceEvent] = []
    @exclusivity(unchecked) private var isWriting = false
    @exclusivity(unchecked) public private(set) var eventCount = 0
    @exclusivity(unchecked) public private(set) var isFinished = false

    /// The most events a sink may record in answer to one event (a checker's findings); beyond it
    /// they are dropped, so a sink answering its own events cannot loop for ever.
    static let deferredLimit = 64

    /// With no sinks the tracer only counts events.
    public init(reactor: Reactor, sinks: [any TraceSink] = []) {
        self.reactor = .passUnretained(reactor)
        self.sinks = sinks
        let eventSinks = sinks.filter { $0.stream == nil }.map(EventSink.init)
        self.eventSinks = .allocate(capacity: max(eventSinks.count, 1))
        self.eventSinks.initialize(from: eventSinks, count: eventSinks.count)
        eventSinkCount = eventSinks.count
        recordSinks = StreamSinks(sinks.filter { $0.stream == .records })
        lineSinks = StreamSinks(sinks.filter { $0.stream == .jsonLines })
        encodesRecords = recordSinks.count > 0
        encodesLines = lineSinks.count > 0 || sinks.contains { $0.stream == nil && $0.needsCanonicalLine }
        for sink in sinks { sink.attached(to: self) }
    }

    /// A tracer dropped without `finish()` still hands its last block to its sinks (a file's own
    /// `deinit` then closes it).
    deinit {
        if !isFinished { flush() }
        eventSinks.deinitialize(count: eventSinkCount)
        eventSinks.deallocate()
        recordSinks.deallocate()
        lineSinks.deallocate()
    }

    /// Names a track before the first event (a VCD needs every signal up front). Repeats are ignored.
    public func declare(_ track: TraceTrack) {
        guard !isFinished, declared.insert(track).inserted else { return }
        for sink in sinks { sink.declare(track) }
    }

    /// The only entry point for events. Called by a sink from inside `write` (a checker's finding),
    /// the event is recorded right after the one being written.
    ///
    /// The whole per-event path (stamp, records, line, event sinks) is inlined into this one
    /// function: each call between its parts cost a frame and reloading the event's payload
    /// (measured: about 40 instructions an event).
    public func record(_ event: TraceEvent) {
        if _slowPath(isFinished || isWriting) {
            recordWhileBusy(event)
            return
        }
        write(event)
        if _slowPath(!deferred.isEmpty) { writeDeferred() }
    }

    /// A finished tracer ignores the event; one inside a sink's `write` keeps it for `writeDeferred`.
    @inline(never)
    private func recordWhileBusy(_ event: TraceEvent) {
        guard !isFinished else { return }
        if deferred.count < Self.deferredLimit { deferred.append(event) }
    }

    @inline(never)
    private func writeDeferred() {
        var next = 0
        while next < deferred.count {  // bounded: `deferredLimit` appends at most
            write(deferred[next])
            next += 1
        }
        deferred.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func write(_ event: TraceEvent) {
        let nanoseconds = reactor._withUnsafeGuaranteedRef { $0.now.nanosecondsSinceStart }
        eventCount += 1
        if encodesRecords {
            records.encode(event, at: nanoseconds)
            if records.isFull { flushRecords() }
        }
        if encodesLines { line.encode(event, at: nanoseconds) }
        if eventSinkCount > 0 {
            isWriting = true
            let bytes = encodesLines ? line.bytes : UnsafeRawBufferPointer(start: nil, count: 0)
            let kind = TraceEventKinds(of: event).rawValue
            // Through the sinks' types: a call through `any TraceSink` retains and releases the
            // sink per event (the protocol checker of `play`).
            var k = 0
            while k < eventSinkCount {  // bounded: the sinks
                if eventSinks[k].kinds & kind != 0 { eventSinks[k].write(event, at: nanoseconds, line: bytes) }
                k += 1
            }
            isWriting = false
        }
        // After the event sinks: `line.bytes` is theirs until then.
        if encodesLines && line.isFull { flushLines() }
    }

    @inline(never)
    private func flushRecords() {
        recordSinks.write(records.bytes)
        records.clear()
    }

    @inline(never)
    private func flushLines() {
        lineSinks.write(line.block)
        line.clear()
    }

    /// Hands the blocks encoded so far to the stream sinks (the hash, the JSON-lines file).
    private func flush() {
        if encodesRecords && records.count > 0 { flushRecords() }
        if encodesLines && line.count > 0 { flushLines() }
    }

    /// The hash of the trace so far, from the sink that keeps one (`TraceHasher`: the SHA-256 of
    /// the canonical records, in lowercase hex); nil when none does.
    public var hash: String? {
        if !isFinished { flush() }
        for sink in sinks { if let digest = sink.digest { return digest } }
        return nil
    }

    /// Closes the sinks (every one, even after a failure; the first failure is thrown) and returns
    /// the hash. Later events are ignored. Call it after the run, also when a signal stopped it.
    @discardableResult
    public func finish() throws(TraceError) -> String? {
        guard !isFinished else { return hash }
        flush()
        isFinished = true
        var failure: TraceError? = nil
        for sink in sinks {
            do throws(TraceError) { try sink.close() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return hash
    }
}

/// A sink of events held without a reference count (the tracer's `sinks` array holds it), called
/// through its type (`TraceSink.write(_:at:line:to:)`): both fields are plain values, so a call
/// retains nothing. (`unowned(unsafe) let sink: any TraceSink` still retained the sink per call.)
private struct EventSink {
    let object: UnsafeRawPointer
    let type: any TraceSink.Type
    /// `eventKinds`, read once: the kinds the sink is given.
    let kinds: UInt32

    init(_ sink: any TraceSink) {
        object = UnsafeRawPointer(Unmanaged.passUnretained(sink as AnyObject).toOpaque())
        type = Swift.type(of: sink)
        kinds = sink.eventKinds.rawValue
    }

    @inline(__always)
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        type.write(event, at: nanoseconds, line: line, to: object)
    }
}

/// The sinks of one stream, held without reference counts in raw memory (the tracer's `sinks`
/// array owns them) and called through their types (`TraceSink.write(stream:to:)`).
private struct StreamSinks {
    private let objects: UnsafeMutablePointer<UnsafeRawPointer>
    private let types: UnsafeMutablePointer<any TraceSink.Type>
    let count: Int

    init(_ sinks: [any TraceSink]) {
        count = sinks.count
        objects = .allocate(capacity: max(count, 1))
        types = .allocate(capacity: max(count, 1))
        for (k, sink) in sinks.enumerated() {  // bounded: the sinks
            (objects + k).initialize(to: UnsafeRawPointer(Unmanaged.passUnretained(sink as AnyObject).toOpaque()))
            (types + k).initialize(to: Swift.type(of: sink))
        }
    }

    func deallocate() {
        objects.deinitialize(count: count)
        types.deinitialize(count: count)
        objects.deallocate()
        types.deallocate()
    }

    /// The next block of the stream, to every sink in order.
    func write(_ bytes: UnsafeRawBufferPointer) {
        var k = 0
        while k < count {  // bounded: the sinks
            types[k].write(stream: bytes, to: objects[k])
            k += 1
        }
    }
}

extension Optional where Wrapped == Tracer {
    /// The tracer, if any, as an unretained reference, for an instrumented object's out-of-line
    /// record site: `tracer.unretained?._withUnsafeGuaranteedRef { $0.record(...) }`. Calling
    /// through the optional property itself retains and releases the tracer per event; the object's
    /// property holds it for the whole call, so no retain is needed.
    @inline(__always)
    public var unretained: Unmanaged<Tracer>? {
        switch self {
        case let .some(tracer): .passUnretained(tracer)
        case .none: nil
        }
    }
}
