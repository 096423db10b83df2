import Trace

/// Notified when an unmasked interrupt line becomes pending. Subclass it (the UIO device does):
/// the controller calls it once per interrupt through an unretained reference, with no closure or
/// existential in between (a class, not a protocol, for that reason: DESIGN.md, "The per-completion
/// hot path"). The base class ignores interrupts.
open class InterruptSubscriber {
    public init() {}

    open func interruptPending(line: Int) {}
}

/// Per-line statistics.
public struct InterruptLineCounters: Hashable, Sendable, Codable {
    /// Times the line was asserted: a level input going active, or a configured edge.
    public var raised = 0
    /// Assertions that happened while the line was masked (delivered later on unmask, or never).
    public var maskedWhilePending = 0
    /// Acknowledgements that found nothing pending.
    public var spurious = 0
    public init() {}
}

/// An interrupt controller with N input lines.
///
/// Each line has a sense (Linux numbering, `InterruptSense`), a mask and a pending state. Devices
/// drive the input level with `drive(line:high:)`. A level line is pending exactly while its input
/// is at the active level; an edge line latches one pending event per configured edge, cleared by
/// `acknowledge(line:)`. Subscribers hear about a line when it becomes pending unmasked, and when a
/// pending line is unmasked (so unmasking with a level still active fires again at once, as with
/// `uio_pdrv_genirq`). Lines start masked, with their input at the idle level of their sense.
public final class InterruptController {
    public let kind: InterruptControllerKind
    public let lineCount: Int

    /// Everything the controller knows about one line, in one place.
    struct Line {
        var sense: InterruptSense
        var input: Bool
        var latched: Bool
        var masked: Bool
        var counters: InterruptLineCounters
        /// This line's run in `listeners`.
        var firstListener: Int
        var listenerCount: Int
    }

    /// One `Line` per input, allocated once: a device drives its line on every register write and
    /// DMA step, and a plain pointer costs no uniqueness check or retain per access, where stored
    /// arrays of a class do (DESIGN.md, per-completion hot path). Indexed through `line(_:)`, which
    /// checks the bound as an array would.
    private let lines: UnsafeMutablePointer<Line>
    /// The subscribers of each line, owned here.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var subscribers: [[InterruptSubscriber]]
    /// `subscribers` flattened and unretained (each line's run located by its `Line`), rebuilt on
    /// every subscribe and unsubscribe: `notify` calls through it without a retain per interrupt.
    @exclusivity(unchecked) private var listeners: UnsafeMutablePointer<Unmanaged<InterruptSubscriber>>
    /// Notifications in progress: the listener table must not change under them.
    @exclusivity(unchecked) private var notifyDepth = 0
    /// Records every input level change when set (nil: tracing off, one branch per change).
    @exclusivity(unchecked) public var tracer: Tracer?

    public init(kind: InterruptControllerKind, lineCount: Int) {
        precondition(lineCount > 0)
        self.kind = kind
        self.lineCount = lineCount
        lines = .allocate(capacity: lineCount)
        lines.initialize(
            repeating: Line(
                sense: .levelHigh, input: false, latched: false, masked: true, counters: InterruptLineCounters(),
                firstListener: 0, listenerCount: 0),
            count: lineCount)
        subscribers = Array(repeating: [], count: lineCount)
        listeners = .allocate(capacity: 0)
    }

    deinit {
        lines.deinitialize(count: lineCount)
        lines.deallocate()
        listeners.deallocate()
    }

    /// The state of `line`; out of range is a programming error, trapped as an array index would be.
    @inline(__always)
    private func line(_ line: Int) -> UnsafeMutablePointer<Line> {
        precondition(UInt(bitPattern: line) < UInt(bitPattern: lineCount), "interrupt line out of range")
        return lines + line
    }

    /// A device's output wired to input `line`, for a device that re-derives its line after every
    /// register write and DMA step. The caller must keep the controller alive (hold it in a `let`).
    public func input(line n: Int) -> InterruptInput {
        let level = (UnsafeMutableRawPointer(line(n)) + MemoryLayout<Line>.offset(of: \Line.input)!)
            .assumingMemoryBound(to: Bool.self)
        return InterruptInput(line: n, controller: .passUnretained(self), level: level)
    }

    /// Sets a line's sense, clears its latch and returns its input to the idle level.
    public func configure(line n: Int, sense newSense: InterruptSense) {
        let state = line(n)
        state.pointee.sense = newSense
        state.pointee.input = newSense.idleLevel
        state.pointee.latched = false
    }

    public func sense(of n: Int) -> InterruptSense { line(n).pointee.sense }
    public func isMasked(_ n: Int) -> Bool { line(n).pointee.masked }
    public func inputLevel(of n: Int) -> Bool { line(n).pointee.input }
    public func counters(of n: Int) -> InterruptLineCounters { line(n).pointee.counters }
    /// `counters(of:).raised` of line `n`, in the line table (allocated once, never moved): a
    /// subscriber that reads it on every interrupt (the UIO handler) does so without a call. The
    /// caller must keep the controller alive (hold it in a `let`).
    public func raisedCounter(line n: Int) -> UnsafePointer<Int> {
        let offset = MemoryLayout<Line>.offset(of: \Line.counters)! + MemoryLayout<InterruptLineCounters>.offset(of: \InterruptLineCounters.raised)!
        return UnsafePointer((UnsafeMutableRawPointer(line(n)) + offset).assumingMemoryBound(to: Int.self))
    }

    /// `counters(of:).raised` alone, for a per-interrupt caller: it moves each time the line's cause
    /// is asserted anew.
    @inline(__always)
    public func raisedCount(line n: Int) -> Int { line(n).pointee.counters.raised }

    public func isPending(_ n: Int) -> Bool { Self.isPending(line(n)) }

    @inline(__always)
    private static func isPending(_ state: UnsafeMutablePointer<Line>) -> Bool {
        switch state.pointee.sense {
        case .levelHigh: state.pointee.input
        case .levelLow: !state.pointee.input
        case .risingEdge, .fallingEdge: state.pointee.latched
        }
    }

    public func subscribe(_ subscriber: InterruptSubscriber, to n: Int) {
        _ = line(n)
        subscribers[n].append(subscriber)
        rebuildListeners()
    }

    public func unsubscribe(_ subscriber: InterruptSubscriber, from n: Int) {
        _ = line(n)
        subscribers[n].removeAll { $0 === subscriber }
        rebuildListeners()
    }

    private func rebuildListeners() {
        // The table is read, unretained, by a notification in progress; a subscriber that changes
        // subscriptions from inside `interruptPending` would pull it (and maybe itself) out from under it.
        precondition(notifyDepth == 0, "subscriptions cannot change while an interrupt is being delivered")
        listeners.deallocate()
        listeners = .allocate(capacity: subscribers.reduce(0) { $0 + $1.count })
        var next = 0
        for n in 0..<lineCount {
            lines[n].firstListener = next
            lines[n].listenerCount = subscribers[n].count
            for subscriber in subscribers[n] {
                (listeners + next).initialize(to: .passUnretained(subscriber))
                next += 1
            }
        }
    }

    /// A device sets the electrical level of its output. Idempotent: driving the same level again
    /// changes nothing, so a device may re-derive its line after every register write.
    public func drive(line n: Int, high: Bool) {
        let state = line(n)
        guard state.pointee.input != high else { return }
        state.pointee.input = high
        if tracer != nil { traceLevel(n, high) }
        let asserted: Bool
        switch state.pointee.sense {
        case .levelHigh, .risingEdge: asserted = high
        case .levelLow, .fallingEdge: asserted = !high
        }
        guard asserted else { return }
        if state.pointee.sense.isEdge { state.pointee.latched = true }
        state.pointee.counters.raised += 1
        if state.pointee.masked {
            state.pointee.counters.maskedWhilePending += 1
        } else {
            notify(n)
        }
    }

    @inline(never)
    private func traceLevel(_ line: Int, _ high: Bool) { tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.interruptLine(line: line, high: high)) } }

    public func mask(line n: Int) { line(n).pointee.masked = true }

    /// Unmasks a line; a line still pending fires again at once.
    public func unmask(line n: Int) {
        let state = line(n)
        guard state.pointee.masked else { return }
        state.pointee.masked = false
        if Self.isPending(state) { notify(n) }
    }

    /// A subscriber takes the interrupt: clears an edge latch and returns whether anything was
    /// pending. Nothing pending counts as spurious.
    @discardableResult
    public func acknowledge(line n: Int) -> Bool {
        let state = line(n)
        let pending = Self.isPending(state)
        if state.pointee.sense.isEdge { state.pointee.latched = false }
        if !pending { state.pointee.counters.spurious += 1 }
        return pending
    }

    /// What a handler that disables its line does first (`uio_pdrv_genirq`): `mask(line:)` then
    /// `acknowledge(line:)`, in one call because it runs on every interrupt.
    @discardableResult
    public func maskAndAcknowledge(line n: Int) -> Bool {
        line(n).pointee.masked = true
        return acknowledge(line: n)
    }

    /// Whether `line` is a level line whose input is at its active level: unmasking it now would
    /// fire at once (`isPending` and not an edge, in one call).
    public func levelCauseAsserted(line n: Int) -> Bool {
        let state = line(n)
        return !state.pointee.sense.isEdge && Self.isPending(state)
    }

    /// Runs on every interrupt: each subscriber of the line, in subscription order, called through
    /// the unretained table (`subscribers` keeps them alive; `rebuildListeners` refuses to change
    /// the table meanwhile).
    @inline(__always)
    private func notify(_ n: Int) {
        notifyDepth &+= 1
        let first = lines[n].firstListener
        let count = lines[n].listenerCount
        var i = 0
        while i < count {
            listeners[first + i]._withUnsafeGuaranteedRef { $0.interruptPending(line: n) }
            i += 1
        }
        notifyDepth &-= 1
    }
}

/// One input of an `InterruptController` as the device driving it holds it. `drive` is
/// `InterruptController.drive(line:high:)`, with its first step (the level is unchanged: nothing
/// to do) inlined into the device: a device re-derives its line after every register write, and
/// almost every time the level stays where it was (DESIGN.md, per-completion hot path).
public struct InterruptInput {
    public let line: Int
    /// Unretained: whoever holds this holds the controller (`InterruptController.input(line:)`).
    @usableFromInline let controller: Unmanaged<InterruptController>
    /// The line's input level inside the controller's line table (allocated once, never moved).
    @usableFromInline let level: UnsafeMutablePointer<Bool>

    init(line: Int, controller: Unmanaged<InterruptController>, level: UnsafeMutablePointer<Bool>) {
        self.line = line
        self.controller = controller
        self.level = level
    }

    @inlinable @inline(__always)
    public func drive(high: Bool) {
        guard level.pointee != high else { return }
        controller._withUnsafeGuaranteedRef { $0.drive(line: line, high: high) }
    }
}
