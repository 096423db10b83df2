import CLibevent

/// Timers. Two ways to use them:
/// - reusable: `makeTimer` once (target + tag, or a closure), then `arm`/`disarm` as often as needed;
///   arming never allocates. This is the path for device models and drivers.
/// - one-shot conveniences: `schedule(after:)`/`schedule(at:)` with a closure; the slot is freed
///   after it fires or is cancelled.
/// Every id stays safe to use after the timer is gone: operations on a stale id do nothing.
extension Reactor {
    // MARK: reusable timers

    public func makeTimer(target: ReactorTarget, tag: UInt64 = 0) -> TimerID {
        assertOwnerThread()
        return allocateTimer(target: target, tag: tag, disposable: false)
    }

    public func makeTimer(_ body: @escaping () -> Void) -> TimerID {
        makeTimer(target: ClosureTarget(body))
    }

    /// Arms `timer` to fire once `delay` from now (a negative delay means now). Re-arming an armed
    /// timer moves it; it then fires after timers armed earlier for the same instant.
    @inline(__always)
    public func arm(_ timer: TimerID, after delay: TimeSpan) {
        arm(timer, at: now + delay)
    }

    @inline(__always)
    public func arm(_ timer: TimerID, at deadline: Instant) {
        guard core.pointee.timers.isLive(timer) else { return }
        let slot = Int(timer.slot)
        core.pointee.timers.setPeriod(slot: slot, nanoseconds: 0)
        armSlot(slot, deadline: max(deadline.nanosecondsSinceStart, core.pointee.nowNanoseconds))
    }

    /// Arms `timer` to fire every `period`, first after `firstAfter` (default: one period). Each next
    /// deadline is the previous deadline plus the period, so a periodic timer does not drift.
    public func armPeriodic(_ timer: TimerID, every period: TimeSpan, firstAfter: TimeSpan? = nil) {
        precondition(period.nanoseconds > 0, "a periodic timer needs a positive period")
        guard core.pointee.timers.isLive(timer) else { return }
        let slot = Int(timer.slot)
        core.pointee.timers.setPeriod(slot: slot, nanoseconds: period.nanoseconds)
        armSlot(slot, deadline: (now + (firstAfter ?? period)).nanosecondsSinceStart)
    }

    /// Stops `timer` from firing; it can be armed again. Safe on a disarmed, fired or freed timer.
    public func disarm(_ timer: TimerID) {
        guard core.pointee.timers.isLive(timer) else { return }
        core.pointee.timers.disarm(slot: Int(timer.slot))
        core.pointee.timers.setPeriod(slot: Int(timer.slot), nanoseconds: 0)
    }

    /// Whether `timer` is armed.
    public func isArmed(_ timer: TimerID) -> Bool {
        core.pointee.timers.isLive(timer) && core.pointee.timers.isArmed(slot: Int(timer.slot))
    }

    /// Disarms and frees `timer`, releasing its target. Safe to call twice, or from its own callback.
    public func freeTimer(_ timer: TimerID) {
        guard core.pointee.timers.isLive(timer) else { return }
        let slot = Int(timer.slot)
        let owner = Int(core.pointee.timerOwner[slot])
        _ = core.pointee.timers.free(timer)
        core.pointee.timerOwner[slot] = -1
        // The target may be the one running; keep it until the dispatch ends.
        if core.pointee.dispatchDepth > 0 {
            core.pointee.hasDeferredReleases = true
            core.pointee.ownersToRelease.append(owner)
        } else {
            releaseOwner(owner)
        }
    }

    // MARK: one-shot conveniences

    /// Runs `body` once, `delay` from now. Returns an id for `cancel`.
    @discardableResult
    public func schedule(after delay: TimeSpan, _ body: @escaping () -> Void) -> TimerID {
        schedule(at: now + delay, body)
    }

    @discardableResult
    public func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> TimerID {
        assertOwnerThread()
        let id = allocateTimer(target: ClosureTarget(body), tag: 0, disposable: true)
        armSlot(Int(id.slot), deadline: max(deadline.nanosecondsSinceStart, core.pointee.nowNanoseconds))
        return id
    }

    /// Runs `body` every `period` until cancelled.
    @discardableResult
    public func schedulePeriodic(every period: TimeSpan, _ body: @escaping () -> Void) -> TimerID {
        let id = allocateTimer(target: ClosureTarget(body), tag: 0, disposable: true)
        armPeriodic(id, every: period)
        return id
    }

    /// Cancels a timer: a one-shot convenience timer is freed, a reusable one is disarmed.
    /// Safe from any callback, twice, or after the timer fired.
    public func cancel(_ timer: TimerID) {
        guard core.pointee.timers.isLive(timer) else { return }
        if core.pointee.timers.record(Int(timer.slot)).disposable {
            freeTimer(timer)
        } else {
            disarm(timer)
        }
    }

    // MARK: internals

    private func allocateTimer(target: ReactorTarget, tag: UInt64, disposable: Bool) -> TimerID {
        let owner = retainOwner(target)
        let id = core.pointee.timers.allocate(Callback(target: .passUnretained(target), tag: tag), disposable: disposable)
        let slot = Int(id.slot)
        // The slots before this one are the owners to keep (the new record is already counted in
        // `recordCount`: keeping that many read one element past the old buffer, which
        // AddressSanitizer reported as a heap-buffer-overflow at the 65th timer).
        core.pointee.timerOwner.reserve(slot + 1, keeping: slot)
        core.pointee.timerOwner[slot] = Int32(owner)
        return id
    }

    @inline(__always)
    func armSlot(_ slot: Int, deadline: Int64) {
        core.pointee.timers.arm(slot: slot, deadline: deadline)
        // Real time: only an earlier deadline needs the libevent timer moved; a later front just
        // costs one early wake-up that finds nothing due.
        if clock == .realTime && deadline < core.pointee.wakeArmedFor && !core.pointee.dispatchingTimers {
            rearmWakeEvent()
        }
    }

    /// Pops the earliest timer and runs it. A periodic timer is re-armed before its callback, so the
    /// callback may cancel it; a disposable one-shot is freed after its callback returns.
    @inline(__always)
    func fireFirstTimer() {
        let entry = core.pointee.timers.popFirst()
        let slot = Int(entry.slot)
        let record = core.pointee.timers.record(slot)
        if record.periodNanoseconds > 0 {
            core.pointee.timers.arm(slot: slot, deadline: entry.deadline + record.periodNanoseconds)
        }
        core.pointee.dispatchCount &+= 1
        record.callback.invoke()
        if record.disposable { finishOneShot(TimerID(slot: entry.slot, generation: record.generation)) }
    }

    /// Unless its callback freed or re-armed it, a one-shot convenience timer is done. Out of line:
    /// inlined into the loop, the owner table's access check was hoisted in front of every timer
    /// dispatch (a swift_beginAccess per turn, seen in callgrind).
    @inline(never)
    func finishOneShot(_ id: TimerID) {
        if core.pointee.timers.isLive(id) && !core.pointee.timers.isArmed(slot: Int(id.slot)) { freeTimer(id) }
    }

    /// Real time: point the single libevent timer at the earliest deadline.
    func rearmWakeEvent() {
        guard let wakeEvent else { return }
        guard !core.pointee.timers.isEmpty else {
            if core.pointee.wakeArmedFor != .max {
                event_del(wakeEvent)
                core.pointee.wakeArmedFor = .max
            }
            return
        }
        let deadline = core.pointee.timers.first.deadline
        guard deadline < core.pointee.wakeArmedFor else { return }
        if core.pointee.wakeArmedFor != .max { event_del(wakeEvent) }
        core.pointee.wakeArmedFor = deadline
        // Relative to the wall clock, not to board time: a deadline the wall clock has passed gets a
        // zero timeout, so a lagging board catches up without sleeping (see `Reactor.now`). A deadline
        // at or before the last reading is known to be due without reading the clock again (a timer
        // re-armed for "now" from its own callback).
        guard deadline > core.pointee.wallSeenNanoseconds else {
            var zero = TimeSpan.zero.timeval
            event_add(wakeEvent, &zero)
            return
        }
        let wall = wallNanoseconds()
        // A wake-up that comes before the deadline finds nothing due and costs a second sleep; it
        // was 8.6% of the wake-ups of the real-time receive workload, for two reasons. Inside a
        // callback libevent adds the timeout to its cached time, taken when epoll returned, older
        // than `wall`: refreshed after our reading (same CLOCK_MONOTONIC) it is not. And libevent
        // keeps time in whole microseconds, truncated: one more microsecond covers that.
        event_base_update_cache_time(base)
        var tv = TimeSpan(nanoseconds: deadline - wall + 1_000).timeval
        event_add(wakeEvent, &tv)
    }
}
