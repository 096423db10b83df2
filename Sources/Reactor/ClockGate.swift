/// Something outside the reactor that virtual time must wait for: an attached driver process.
///
/// In virtual time the clock may only move on when everyone who could still act at this instant
/// has acted. Timers, posted work and doorbells are the reactor's own; an external process is not:
/// it runs in real time, but its actions must land at the board time it saw. So before the clock
/// jumps (and before the loop gives up for lack of work) the reactor asks its gate to let that
/// process act at the current instant. Real time has no gate: the process and the board both follow
/// the wall clock.
///
/// The gate is consulted only at clock jumps, never per event, so the per-completion path pays one
/// untaken branch per jump.
open class ClockGate {
    public init() {}

    /// Whether someone outside still acts at the current instant (the loop must not stop for lack
    /// of work, nor move the clock, before asking `holdClock()`).
    open var isHoldingClock: Bool { false }

    /// Waits (in wall time) until the outside party has done what it does at this instant and
    /// either waits for board time to pass or has gone. Returns true when it did something the
    /// reactor must look at before time moves (queued work, armed timers, rung doorbells).
    open func holdClock() -> Bool { false }
}

extension Reactor {
    /// Whether the board itself has anything left to do: a timer armed or work queued (fd watches
    /// aside). A gate asks before letting an idle board end the run.
    public var hasTimersOrQueuedWork: Bool { !core.pointee.timers.isEmpty || !core.pointee.ready.isEmpty }

    /// Virtual time, outside callbacks: moves the clock to `instant` at once when nothing would run
    /// before it anyway (no work queued, no timer due before or at it) and returns true; otherwise
    /// changes nothing and returns false. The same result as arming a timer at `instant` and
    /// running to it, without the turn: an attached process paying a register access's bus time
    /// while the board is quiet.
    public func advanceIdleClock(to instant: Instant) -> Bool {
        guard clock == .virtual, !isDispatching, core.pointee.ready.isEmpty else { return false }
        let target = instant.nanosecondsSinceStart
        if !core.pointee.timers.isEmpty && core.pointee.timers.first.deadline <= target { return false }
        if target > core.pointee.nowNanoseconds { core.pointee.nowNanoseconds = target }
        return true
    }
}
