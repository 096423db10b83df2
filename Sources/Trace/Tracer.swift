import Reactor

/// Records trace events: stamps each with the reactor's time, gives it to the sinks that look at
/// events (the checker, the Perfetto and VCD files), and has it encoded in the canonical forms the
/// stream sinks take (the binary records that are hashed, the JSON lines of the `--trace` file) into
/// reusable blocks handed on when full.
///
/// The encoding runs on a thread of the tracer's own (`BlockHandoff`, `StreamEncoding`): the
/// reactor's thread only copies each stamped event into a block of a few hundred completions' worth,
/// and the encoding thread encodes the blocks in order and hands the bytes to the stream sinks (so
/// the hash and the file's writes run there too). Same events in the same order, so the same bytes
/// and the same hash as encoding in place, which the tracer still does when a sink of events reads
/// each event's line (that line must exist before the sink is called). `hash` and `finish()` wait
/// for the encoding thread to catch up.
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
    /// The encoders of the canonical forms and the sinks of their streams.
    private let encoding: StreamEncoding
    /// Some sink takes the records or the lines: encode them per event.
    private let encodesRecords: Bool
    private let encodesLines: Bool
    /// The streams are encoded on a thread of their own (`handoff`): each event is only copied into
    /// a block of stamped events here. False when no sink takes a stream, or when a sink of events
    /// reads each event's line (it must be encoded before that sink is called).
    private let encodesOffThread: Bool
    private let handoff: BlockHandoff?
    /// The block being filled (a slot of `handoff`), its events so far and its room.
    @exclusivity(unchecked) private var pending: UnsafeMutablePointer<StampedEvent>
    @exclusivity(unchecked) private var pendingCount = 0
    @exclusivity(unchecked) private var pendingCapacity = 0
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
        let linesReadByEvents = sinks.contains { $0.stream == nil && $0.needsCanonicalLine }
        encoding = StreamEncoding(recordSinks: StreamSinks(sinks.filter { $0.stream == .records }),
                                  lineSinks: StreamSinks(sinks.filter { $0.stream == .jsonLines }), linesReadByEvents: linesReadByEvents)
        encodesRecords = encoding.encodesRecords
        encodesLines = encoding.encodesLines
        encodesOffThread = (encodesRecords || encodesLines) && !linesReadByEvents
        if encodesOffThread {
            let handoff = BlockHandoff(consumer: encoding, slotBytes: Self.blockEvents * MemoryLayout<StampedEvent>.stride)
            self.handoff = handoff
            let slot = handoff.nextSlot()
            pending = slot.baseAddress!.bindMemory(to: StampedEvent.self, capacity: Self.blockEvents)
            pendingCapacity = Self.blockEvents
        } else {
            handoff = nil
            pending = .allocate(capacity: 1)  // never written: `pendingCapacity` is 0
        }
        for sink in sinks { sink.attached(to: self) }
    }

    /// Events in a block handed to the encoding thread: a few hundred completions, so the handoff's
    /// wake-up is a few nanoseconds a completion.
    static let blockEvents = 8192

    /// A tracer dropped without `finish()` still hands its last block to its sinks (a file's own
    /// `deinit` then closes it).
    deinit {
        if !isFinished { flush() }
        handoff?.finish()
        if handoff == nil { pending.deallocate() }
        eventSinks.deinitialize(count: eventSinkCount)
        eventSinks.deallocate()
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
        let kind = TraceEventKinds(of: event).rawValue
        if encodesOffThread {
            let slot = pending + pendingCount
            if _fastPath(kind & TraceEventKinds.carryingText.rawValue == 0) {
                // No reference in the event: its bytes are a copy (a Swift copy of the enum goes
                // through its outlined copy, a switch on the case: measured at about 60 instructions
                // an event).
                UnsafeMutableRawPointer(slot).storeBytes(of: nanoseconds, as: Int64.self)
                withUnsafePointer(to: event) {
                    (UnsafeMutableRawPointer(slot) + StampedEvent.eventOffset).copyMemory(from: $0, byteCount: MemoryLayout<TraceEvent>.size)
                }
            } else {
                slot.initialize(to: StampedEvent(nanoseconds: nanoseconds, event: event))  // retains the text
            }
            pendingCount += 1
            if _slowPath(pendingCount == pendingCapacity) { handOff() }
        } else {
            if encodesRecords { encoding.encodeRecord(event, at: nanoseconds) }
            if encodesLines { encoding.line.encode(event, at: nanoseconds) }
        }
        if eventSinkCount > 0 {
            isWriting = true
            let bytes = encodesLines && !encodesOffThread ? encoding.line.bytes : UnsafeRawBufferPointer(start: nil, count: 0)
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
        if encodesLines && !encodesOffThread && encoding.line.isFull { encoding.flushLines() }
    }

    /// Queues the full block of events for the encoding thread and takes the next slot.
    @inline(never)
    private func handOff() {
        guard let handoff else { return }
        handoff.submit(byteCount: pendingCount * MemoryLayout<StampedEvent>.stride)
        pending = handoff.nextSlot().baseAddress!.bindMemory(to: StampedEvent.self, capacity: pendingCapacity)
        pendingCount = 0
    }

    /// Hands everything recorded so far to the stream sinks (the hash, the JSON-lines file): the
    /// events not yet encoded, then the blocks encoded so far, once the encoding thread is done.
    private func flush() {
        if let handoff {
            if pendingCount > 0 { handOff() }
            handoff.drain()
        }
        // The encoding thread is idle (drained): its encoders and the sinks may be used from here.
        encoding.flush()
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
        handoff?.finish()
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

/// One event and its board time, as the tracer hands events to its encoding thread. An event of a
/// kind in `TraceEventKinds.carryingText` is initialized as a Swift value (its strings retained) and
/// deinitialized once encoded; any other holds no reference and is copied and dropped as bytes.
struct StampedEvent {
    var nanoseconds: Int64
    var event: TraceEvent

    static let eventOffset = MemoryLayout<StampedEvent>.offset(of: \.event)!
}

/// The canonical forms of a tracer's events, encoded into reusable blocks and handed to the sinks of
/// each stream when full: on the tracer's thread (`encodeRecord`, `line`), or on the encoding thread
/// a block of stamped events at a time (`consume`). One or the other for a tracer's whole life.
final class StreamEncoding: BlockConsumer {
    let records = CanonicalRecords()
    let line = CanonicalLine()
    /// The sinks of the two streams, unretained (a block handed through an array of `any TraceSink`
    /// retained each sink and the array: the gate counted them against `e2e-trace-file`).
    private let recordSinks: StreamSinks
    private let lineSinks: StreamSinks
    let encodesRecords: Bool
    let encodesLines: Bool

    init(recordSinks: StreamSinks, lineSinks: StreamSinks, linesReadByEvents: Bool) {
        self.recordSinks = recordSinks
        self.lineSinks = lineSinks
        encodesRecords = recordSinks.count > 0
        encodesLines = lineSinks.count > 0 || linesReadByEvents
    }

    deinit {
        recordSinks.deallocate()
        lineSinks.deallocate()
    }

    /// A block of stamped events (on the encoding thread), moved out of the block: a rare event's
    /// strings are released here.
    func consume(_ block: UnsafeMutableRawBufferPointer) {
        let count = block.count / MemoryLayout<StampedEvent>.stride
        let events = block.baseAddress!.assumingMemoryBound(to: StampedEvent.self)
        var k = 0
        while k < count {  // bounded: the block's events
            // Read in place (borrowed): a copy of the event would go through its outlined copy.
            if encodesRecords { encodeRecord(events[k].event, at: events[k].nanoseconds) }
            if encodesLines {
                line.encode(events[k].event, at: events[k].nanoseconds)
                if line.isFull { flushLines() }
            }
            if _slowPath(TraceEventKinds(of: events[k].event).rawValue & TraceEventKinds.carryingText.rawValue != 0) {
                (events + k).deinitialize(count: 1)
            }
            k += 1
        }
    }

    @inline(__always)
    func encodeRecord(_ event: TraceEvent, at nanoseconds: Int64) {
        records.encode(event, at: nanoseconds)
        if records.isFull { flushRecords() }
    }

    @inline(never)
    func flushRecords() {
        recordSinks.write(records.bytes)
        records.clear()
    }

    @inline(never)
    func flushLines() {
        lineSinks.write(line.block)
        line.clear()
    }

    /// Hands the partly filled blocks to the sinks.
    func flush() {
        if encodesRecords && records.count > 0 { flushRecords() }
        if encodesLines && line.count > 0 { flushLines() }
    }
}

/// The sinks of one stream, held without reference counts in raw memory (the tracer's `sinks`
/// array owns them) and called through their types (`TraceSink.write(stream:to:)`).
struct StreamSinks {
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
