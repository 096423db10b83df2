import Trace

/// Notified when an unmasked interrupt line becomes pending. Implement it with a `final class`
/// (the UIO device does): the controller calls it once per interrupt, through a class-bound
/// protocol reference it holds strongly, with no closure in between.
public protocol InterruptSubscriber: AnyObject {
    func interruptPending(line: Int)
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

    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var sense: [InterruptSense]
    @exclusivity(unchecked) private var input: [Bool]
    @exclusivity(unchecked) private var latched: [Bool]
    @exclusivity(unchecked) private var masked: [Bool]
    @exclusivity(unchecked) private var counters: [InterruptLineCounters]
    @exclusivity(unchecked) private var subscribers: [[any InterruptSubscriber]]
    /// Records every input level change when set (nil: tracing off, one branch per change).
    @exclusivity(unchecked) public var tracer: Tracer?

    public init(kind: InterruptControllerKind, lineCount: Int) {
        precondition(lineCount > 0)
        self.kind = kind
        self.lineCount = lineCount
        sense = Array(repeating: .levelHigh, count: lineCount)
        input = Array(repeating: false, count: lineCount)
        latched = Array(repeating: false, count: lineCount)
        masked = Array(repeating: true, count: lineCount)
        counters = Array(repeating: InterruptLineCounters(), count: lineCount)
        subscribers = Array(repeating: [], count: lineCount)
    }

    /// Sets a line's sense, clears its latch and returns its input to the idle level.
    public func configure(line: Int, sense newSense: InterruptSense) {
        sense[line] = newSense
        input[line] = newSense.idleLevel
        latched[line] = false
    }

    public func sense(of line: Int) -> InterruptSense { sense[line] }
    public func isMasked(_ line: Int) -> Bool { masked[line] }
    public func inputLevel(of line: Int) -> Bool { input[line] }
    public func counters(of line: Int) -> InterruptLineCounters { counters[line] }

    public func isPending(_ line: Int) -> Bool {
        switch sense[line] {
        case .levelHigh: input[line]
        case .levelLow: !input[line]
        case .risingEdge, .fallingEdge: latched[line]
        }
    }

    public func subscribe(_ subscriber: any InterruptSubscriber, to line: Int) {
        subscribers[line].append(subscriber)
    }

    public func unsubscribe(_ subscriber: any InterruptSubscriber, from line: Int) {
        subscribers[line].removeAll { $0 === subscriber }
    }

    /// A device sets the electrical level of its output. Idempotent: driving the same level again
    /// changes nothing, so a device may re-derive its line after every register write.
    public func drive(line: Int, high: Bool) {
        let was = input[line]
        guard was != high else { return }
        input[line] = high
        if tracer != nil { traceLevel(line, high) }
        let asserted: Bool
        switch sense[line] {
        case .levelHigh, .risingEdge: asserted = high
        case .levelLow, .fallingEdge: asserted = !high
        }
        guard asserted else { return }
        if sense[line].isEdge { latched[line] = true }
        counters[line].raised += 1
        if masked[line] {
            counters[line].maskedWhilePending += 1
        } else {
            notify(line)
        }
    }

    @inline(never)
    private func traceLevel(_ line: Int, _ high: Bool) { tracer?.record(.interruptLine(line: line, high: high)) }

    public func mask(line: Int) { masked[line] = true }

    /// Unmasks a line; a line still pending fires again at once.
    public func unmask(line: Int) {
        guard masked[line] else { return }
        masked[line] = false
        if isPending(line) { notify(line) }
    }

    /// A subscriber takes the interrupt: clears an edge latch and returns whether anything was
    /// pending. Nothing pending counts as spurious.
    @discardableResult
    public func acknowledge(line: Int) -> Bool {
        let pending = isPending(line)
        if sense[line].isEdge { latched[line] = false }
        if !pending { counters[line].spurious += 1 }
        return pending
    }

    /// Runs on every interrupt. An indexed loop, not `for in`: the unspecialised iterator of a debug
    /// build mallocs a temporary for each existential element (seen with malloc-interposer).
    private func notify(_ line: Int) {
        var i = 0
        while i < subscribers[line].count {
            subscribers[line][i].interruptPending(line: line)
            i += 1
        }
    }
}
