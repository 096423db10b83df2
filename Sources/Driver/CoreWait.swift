/// What the core must show before a driver's parked actions go on.
enum CoreWaitCondition: Equatable {
    /// DMACR.Reset reads 0.
    case resetDone
    /// DMASR.Halted reads 0.
    case running
}

/// A driver shell waiting for the AXI DMA core to catch up with a control write, and the actions
/// that wait with it.
///
/// PG021 lets both control bits take cycles to show: DMACR.Reset reads 1 until the soft reset is
/// complete, and DMASR.Halted drops only some cycles after RS=1 ("when halted, writing to the
/// LENGTH register has no effect"). Linux's `xilinx_dma_reset` and `xilinx_dma_start` poll for
/// exactly these. A shell cannot spin in a reactor callback (board time would not move), so after
/// such a write it reads the register once, and if the core is not there yet it parks the rest of
/// its actions here and polls on a timer (`DriverWakeups.Tag.poll`); whatever the machine asks for
/// meanwhile queues behind them in order. An interrupt that arrives meanwhile is read (which quiets
/// the UIO file) and handled once the queue is done.
///
/// Not on the per-completion path: a running channel keeps RS set and is never reset.
struct CoreWait<Action> {
    typealias Condition = CoreWaitCondition

    /// What the shell waits for, or nil.
    private(set) var condition: Condition?
    /// Reads of the register so far, the one right after the write included (bounded by
    /// `DriverConfiguration.resetPollLimit`).
    private(set) var polls = 0
    /// Actions waiting their turn, the next at `head`.
    private var queue: [Action] = []
    private var head = 0
    /// The UIO count read while waiting: the interrupt is handled once the queue is done.
    var deferredInterrupt: Int32?

    init() { queue.reserveCapacity(16) }

    var isWaiting: Bool { condition != nil }

    /// Starts waiting, the first read (right after the write) already made.
    mutating func begin(_ condition: Condition) {
        self.condition = condition
        polls = 1
    }

    /// Counts one more read of the register; false once it is the `limit`-th (the last allowed).
    mutating func poll(limit: Int) -> Bool {
        polls += 1
        return polls < limit
    }

    mutating func end() { condition = nil }

    /// Parks `actions[from...]` in front of the queue (they were cut short by a wait).
    mutating func park<L: Sequence>(_ actions: L, from first: Int) where L.Element == Action {
        var at = head
        for action in actions.dropFirst(first) {  // bounded: an action list holds at most six
            queue.insert(action, at: at)
            at += 1
        }
    }

    /// Queues `actions` behind everything parked (an input that came while waiting).
    mutating func enqueue<L: Sequence>(_ actions: L) where L.Element == Action {
        queue.append(contentsOf: actions)
    }

    /// The next parked action, or nil when none is left.
    mutating func next() -> Action? {
        guard head < queue.count else {
            if head > 0 {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return nil
        }
        head += 1
        return queue[head - 1]
    }
}
