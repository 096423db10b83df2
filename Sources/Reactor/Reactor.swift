import Glibc
import CLibevent
import CReactorSignals

/// The single-threaded loop that drives everything in uioemu: timers, fd watches, posted work,
/// doorbells and stop signals, over one libevent `event_base`.
///
/// Two clocks, one API:
/// - **virtual**: timers live in the reactor's own timing wheel ordered by (deadline, sequence), the
///   sequence taken when a timer is armed (equal deadlines fire in arming order); each turn runs
///   the posted work and rung doorbells queued before it, then the timers due at `now` that were armed
///   before it; when nothing is left at this instant the clock jumps to the next deadline. libevent is
///   polled (non-blocking) only when real fds are watched, just before a jump, so the event order is
///   a function of the program alone and the hot path makes no system call.
/// - **real time**: the same wheel, with one libevent timer armed for its earliest deadline; posted
///   work is delivered through `event_active`. `now` is board time, which follows CLOCK_MONOTONIC but
///   never passes a timer that has not fired (see `now`).
///
/// Real-time board clock. The OS wakes a sleeping process late (~15 µs here, through a timerfd,
/// whatever the timer slack), and a model that schedules its next step from a late `now` loses that
/// lateness for good: the AXI DMA's next transfer started from the driver's late reaction, every
/// packet cycle grew by one wake-up, the FIFO filled, the back-pressured source stalled and 45% of
/// the completions a 200 MB/s source implies never happened. So timers keep their deadlines:
/// - a wake-up dispatches every timer whose deadline the wall clock has reached, in (deadline,
///   sequence) order, each with `now` set to its own deadline, as in virtual time; whatever it
///   schedules relative to `now` stays in phase however late the wake-up was;
/// - the lateness of the last timer dispatched is the board's lag behind the wall clock; until the
///   next timer fires, board time runs on at the wall clock's rate, `lag` behind it, and never past
///   the earliest armed deadline, so a handler woken by that timer (the driver, through an eventfd)
///   sees the time the board took to react, not the time the OS took to wake us;
/// - the loop sleeps only until the wall clock reaches the next deadline, so a board that fell
///   behind fires its overdue timers without sleeping and catches up (lag shrinks back to one
///   wake-up's lateness); nothing that fell behind is dropped.
///
/// Everything here must be called on the thread that created the reactor.
public final class Reactor {
    public enum Clock: Sendable, Equatable {
        case virtual
        case realTime
    }

    public let clock: Clock
    let base: OpaquePointer
    /// All mutable state, on manually managed memory: accesses through an unsafe pointer carry no
    /// dynamic exclusivity checks, which the per-event path cannot afford (DESIGN.md).
    let core: UnsafeMutablePointer<Core>
    /// Virtual time: an outside party (an attached driver process) the clock waits for before it jumps
    /// (`ClockGate`); nil for a board with only in-process actors.
    public var clockGate: ClockGate? = nil
    /// Strong references to the targets of timers, watches and work items (indexed by owner slot).
    /// The queues hold `Unmanaged` copies, so dispatch never touches reference counts.
    var owners: [ReactorTarget?] = []
    var freeOwnerSlots: [Int] = []
    /// Set by `shutdown()`: the reactor holds no target any more and must not run.
    public internal(set) var isShutDown = false
    /// Watches the system refused, with the errno (cold path: set up only).
    var watchFailures: [(id: WatchID, errno: Int32)] = []
    private let ownerThread = pthread_self()

    // libevent events owned by the reactor itself, each with a fixed context.
    var postEvent: OpaquePointer? = nil
    var wakeEvent: OpaquePointer? = nil
    var signalWakeEvent: OpaquePointer? = nil
    var signalWakeFD: Int32 = -1
    var signalRegistration: Int32 = -1
    /// The process's stop-signal count this reactor has already acted on.
    var signalsSeen: UInt = 0
    let postContext: UnsafeMutablePointer<EventContext>
    let wakeContext: UnsafeMutablePointer<EventContext>
    let signalContext: UnsafeMutablePointer<EventContext>

    /// Creates a reactor on a fresh `event_base` with precise timers (without
    /// `EVENT_BASE_FLAG_PRECISE_TIMER` libevent rounds timeouts to the kernel tick).
    public init(clock: Clock) {
        self.clock = clock
        LibeventLog.install()
        let config = event_config_new()!
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_PRECISE_TIMER.rawValue))
        guard let base = event_base_new_with_config(config) else {
            fatalError("uioemu: libevent could not create an event base")
        }
        event_config_free(config)
        self.base = base
        core = .allocate(capacity: 1)
        core.initialize(to: Core(epochMonotonic: monotonicNanoseconds()))
        postContext = .allocate(capacity: 1)
        wakeContext = .allocate(capacity: 1)
        signalContext = .allocate(capacity: 1)
        let me = Unmanaged.passUnretained(self)
        postContext.initialize(to: EventContext(reactor: me, role: .post, slot: 0))
        wakeContext.initialize(to: EventContext(reactor: me, role: .wake, slot: 0))
        signalContext.initialize(to: EventContext(reactor: me, role: .signalWake, slot: 0))
        if clock == .realTime {
            postEvent = event_new(base, -1, 0, reactorTrampoline, postContext)
            wakeEvent = event_new(base, -1, 0, reactorTrampoline, wakeContext)
        }
    }

    deinit {
        handleStopSignals(false)
        core.pointee.releaseLibeventResources()
        if let postEvent { event_free(postEvent) }
        if let wakeEvent { event_free(wakeEvent) }
        core.pointee.deallocateStorage()
        core.deinitialize(count: 1)
        core.deallocate()
        postContext.deallocate()
        wakeContext.deallocate()
        signalContext.deallocate()
        event_base_free(base)
    }

    // MARK: clock

    /// The current time; never goes backwards. Virtual time: set before any callback runs and moved
    /// only by the loop.
    ///
    /// Real time (board time): inside a timer's callback, exactly that timer's deadline, even when the
    /// wake-up came late, so what it schedules from `now` does not drift. Anywhere else: CLOCK_MONOTONIC
    /// since the reactor was created, minus the lateness of the last timer dispatched (the board's
    /// lag), and never past the earliest armed deadline (nothing sees a time a pending timer has not
    /// reached). Inside a callback it is read once, when first asked, so one callback sees one instant;
    /// outside callbacks it is read afresh.
    public var now: Instant { Instant(nanosecondsSinceStart: currentNanoseconds()) }

    /// Real time: the clock is read at most once per dispatch, and only if someone asks.
    @inline(__always)
    func currentNanoseconds() -> Int64 {
        if clock == .realTime && (core.pointee.dispatchDepth == 0 || core.pointee.clockStale) {
            core.pointee.clockStale = false
            refreshRealTimeClock()
        }
        return core.pointee.nowNanoseconds
    }

    /// Real time: how far board time runs behind the wall clock, the lateness of the last timer
    /// dispatched (see `now`); zero in virtual time. A board that fell behind (a process that was
    /// not scheduled for a while) shows it here until it has caught up.
    public var lag: TimeSpan { .nanoseconds(core.pointee.lagNanoseconds) }

    /// Real time: board time from the wall clock (see `now`): `lag` behind it, capped at the earliest
    /// armed deadline, never backwards. Out of line so that `now` stays small enough to be inlined
    /// into `arm(_:after:)`: inlined, this grew `now` and cost the virtual-time loop ~20 instructions
    /// per completion (callgrind), a call that virtual time never makes.
    @inline(never)
    func refreshRealTimeClock() {
        if clock == .realTime {
            var t = wallNanoseconds() - core.pointee.lagNanoseconds
            if !core.pointee.timers.isEmpty && core.pointee.timers.first.deadline < t { t = core.pointee.timers.first.deadline }
            if t > core.pointee.nowNanoseconds { core.pointee.nowNanoseconds = t }
        }
    }

    /// Real time: CLOCK_MONOTONIC since the reactor was created (not board time); remembered as the
    /// latest reading, which later code may use as a lower bound of the wall clock without a read.
    @inline(__always)
    func wallNanoseconds() -> Int64 {
        let t = monotonicNanoseconds() - core.pointee.epochMonotonic
        core.pointee.wallSeenNanoseconds = t
        return t
    }

    @inline(__always)
    func assertOwnerThread() {
        assert(pthread_equal(ownerThread, pthread_self()) != 0, "Reactor used from a thread other than its own")
    }

    // MARK: running

    /// Runs until `stop()`, a stop signal, or until nothing is pending (no timer armed, no work queued,
    /// no fd watched).
    public func run() { runLoop(limit: nil) }

    /// Runs until the clock reaches `limit` (virtual time: everything due at or before it runs, then the
    /// clock is set to `limit`), or until `stop()`.
    public func run(until limit: Instant) { runLoop(limit: limit.nanosecondsSinceStart) }

    /// Runs until `condition()` holds (checked before the first turn and after each one), `stop()`,
    /// or nothing is pending. Returns whether the condition holds. This is how a blocking call
    /// (a blocking UIO `read`) waits in a single-threaded emulation: by letting time pass. It must not
    /// be called from inside a callback.
    @discardableResult
    public func run(until condition: () -> Bool) -> Bool {
        precondition(!isDispatching, "run(until:) called from inside a reactor callback")
        precondition(!isShutDown, "the reactor was shut down")
        assertOwnerThread()
        core.pointee.stopRequested = false
        stoppedBySignal = nil
        while !condition() && !core.pointee.stopRequested {
            if core.pointee.watchingSignals && noticeStopSignal() { break }
            if hasPendingWork {
                switch clock {
                // Virtual time checks the condition itself after every turn and clock jump: going
                // back out here each time cost a third of the loop's own instructions.
                case .virtual: runVirtual(limit: nil, until: condition)
                case .realTime: realTimeStep()
                }
                continue
            }
            // Only watches that do not keep the loop alive are left: one look, then give up.
            guard core.pointee.libeventWatches > 0 else { break }
            let before = core.pointee.dispatchCount
            event_base_loop(base, Int32(EVLOOP_NONBLOCK))
            if before == core.pointee.dispatchCount && !hasPendingWork { break }
        }
        return condition()
    }

    /// Whether a callback is running (timers, work, watches).
    public var isDispatching: Bool { core.pointee.dispatchDepth > 0 }

    /// Makes `run()` return after the current callback. Work still queued stays queued.
    public func stop() {
        core.pointee.stopRequested = true
        if clock == .realTime { event_base_loopbreak(base) }
    }

    /// The signal (SIGINT or SIGTERM) that stopped the last `run()`, if any.
    public private(set) var stoppedBySignal: Int32? = nil
    /// The first stop signal this reactor noticed, kept across later `run` calls (each of which
    /// clears `stoppedBySignal`): a caller that runs in several steps asks this whether it was
    /// interrupted at all.
    public private(set) var interruptedBy: Int32? = nil

    /// Number of callbacks dispatched since creation (timers, work, doorbells, watches).
    public var dispatchCount: UInt64 { core.pointee.dispatchCount }

    /// Whether anything would keep `run()` going: armed timers, queued work, fd watches.
    public var hasPendingWork: Bool {
        !core.pointee.timers.isEmpty || !core.pointee.ready.isEmpty || core.pointee.keepAliveWatches > 0
            || (clock == .virtual && clockGate?.isHoldingClock == true)
    }

    /// What is still registered, for a shutdown report.
    public var pendingSummary: String {
        let c = core.pointee
        return "\(c.timers.count) timer(s) armed, \(c.ready.count) item(s) queued, \(c.keepAliveWatches) fd watch(es)"
    }

    private func runLoop(limit: Int64?) {
        assertOwnerThread()
        precondition(!isShutDown, "the reactor was shut down")
        core.pointee.stopRequested = false
        stoppedBySignal = nil
        switch clock {
        case .virtual: runVirtual(limit: limit, until: { false })
        case .realTime: runRealTime(limit: limit)
        }
    }

    /// A signal arrived since this reactor last looked: stop (each reactor sees each signal once).
    func noticeStopSignal() -> Bool {
        let count = uioemu_stop_signal_count()
        guard count != signalsSeen else { return false }
        signalsSeen = count
        stoppedBySignal = uioemu_last_stop_signal()
        if interruptedBy == nil { interruptedBy = stoppedBySignal }
        core.pointee.stopRequested = true
        return true
    }

    /// Returns once `condition()` holds (checked after each turn that ran something and after each
    /// clock jump), at `limit`, on `stop()`, or when nothing is pending.
    private func runVirtual(limit: Int64?, until condition: () -> Bool) {
        while !core.pointee.stopRequested {
            if core.pointee.watchingSignals && noticeStopSignal() { break }
            if runTurn() {
                if condition() || core.pointee.stopRequested { return }
                // Usually the turn left nothing due at this instant: then go straight on to the
                // clock jump below instead of running an empty turn first.
                if !core.pointee.ready.isEmpty || isTimerDue { continue }
            }
            // Nothing left at this instant. An outside party acts at this instant before time moves on.
            if let gate = clockGate, gate.isHoldingClock, gate.holdClock() { continue }
            // Real fds get one non-blocking look before time moves on.
            if core.pointee.libeventWatches > 0 {
                let before = core.pointee.dispatchCount
                event_base_loop(base, Int32(EVLOOP_NONBLOCK))
                if core.pointee.dispatchCount != before || !core.pointee.ready.isEmpty { continue }
            }
            if !core.pointee.timers.isEmpty {
                let next = core.pointee.timers.first.deadline
                if let limit, next > limit { break }
                if next > core.pointee.nowNanoseconds { core.pointee.nowNanoseconds = next }
                if condition() { return }
                continue
            }
            if core.pointee.keepAliveWatches > 0 {
                // Only fds can make progress: wait for them (virtual time stands still meanwhile).
                event_base_loop(base, Int32(EVLOOP_ONCE))
                continue
            }
            break
        }
        if let limit, !core.pointee.stopRequested, limit > core.pointee.nowNanoseconds {
            core.pointee.nowNanoseconds = limit
        }
    }

    /// Whether the earliest timer is due at the current instant.
    @inline(__always)
    var isTimerDue: Bool {
        !core.pointee.timers.isEmpty && core.pointee.timers.first.deadline <= core.pointee.nowNanoseconds
    }

    /// One turn: the work queued before it, then the timers due now that were armed before it.
    /// Returns whether anything ran.
    @inline(__always)
    func runTurn() -> Bool {
        let watermark = core.pointee.timers.sequenceWatermark
        var ran = false
        core.pointee.dispatchDepth += 1
        defer {
            core.pointee.dispatchDepth -= 1
            flushFreedEvents()
        }
        if !core.pointee.ready.isEmpty {
            runReadyBatch()
            ran = true
        }
        if !core.pointee.timers.isEmpty && fireDueTimers(before: watermark) { ran = true }
        return ran
    }

    /// The timers due now that were armed before `watermark`, in order; whether any ran. Out of
    /// line: with the timing wheel inlined, the turn grew too large to be inlined into the loop,
    /// and every turn paid a call, also those with only posted work or doorbells (callgrind).
    @inline(never)
    func fireDueTimers(before watermark: UInt64) -> Bool {
        var ran = false
        while !core.pointee.stopRequested && !core.pointee.timers.isEmpty {
            let first = core.pointee.timers.first
            guard first.deadline <= core.pointee.nowNanoseconds && first.sequence < watermark else { break }
            fireFirstTimer()
            ran = true
        }
        return ran
    }

    private func runRealTime(limit: Int64?) {
        var stopTimer: TimerID? = nil
        if let limit {
            stopTimer = schedule(at: Instant(nanosecondsSinceStart: limit)) { [unowned self] in stop() }
        }
        while !core.pointee.stopRequested {
            if core.pointee.watchingSignals && noticeStopSignal() { break }
            if hasPendingWork {
                realTimeStep()
                continue
            }
            // Only watches that do not keep the loop alive (eventfd-backed doorbells) are left: give
            // them one non-blocking look, so a ring from the last callback is still delivered.
            guard core.pointee.libeventWatches > 0 else { break }
            let before = core.pointee.dispatchCount
            event_base_loop(base, Int32(EVLOOP_NONBLOCK))
            if core.pointee.dispatchCount == before && !hasPendingWork { break }
        }
        if core.pointee.watchingSignals { _ = noticeStopSignal() }
        if let stopTimer { cancel(stopTimer) }
        refreshRealTimeClock()
    }

    /// Real time: one libevent turn. It sleeps only after a look without sleeping found nothing:
    /// libevent programs its timerfd before every `epoll_wait`, and arming a near timer costs
    /// microseconds (in a VM ~5 µs: the clock-event device is reprogrammed through the hypervisor),
    /// so an fd made ready by the last callbacks (the eventfd a timer rang for the driver) would
    /// otherwise wait for that on every interrupt, or for the timer itself.
    @inline(__always)
    func realTimeStep() {
        let before = core.pointee.dispatchCount
        event_base_loop(base, Int32(EVLOOP_NONBLOCK))
        if core.pointee.dispatchCount == before && !core.pointee.stopRequested && hasPendingWork {
            event_base_loop(base, Int32(EVLOOP_ONCE))
        }
    }
}

/// The state behind `Reactor.core`.
struct Core {
    var nowNanoseconds: Int64 = 0
    let epochMonotonic: Int64
    var timers = TimerQueue()
    var ready = ReadyQueue()
    var stopRequested = false
    var dispatchCount: UInt64 = 0
    /// Owner slot per timer slot (-1 for none); kept beside the queue so the timer records stay plain values.
    var timerOwner = RawBuffer<Int32>(capacity: 64)
    /// Real time: set while the wake-up callback fires due timers, so re-arming waits until the end.
    var dispatchingTimers = false
    /// Real time: set when a dispatch starts; the clock is read on first use.
    var clockStale = false
    /// Real time: how far board time is behind the wall clock: the lateness of the last timer
    /// dispatched (see `Reactor.now`).
    var lagNanoseconds: Int64 = 0
    /// Real time: set when an eventfd-backed doorbell is rung, so a timer batch can yield to its watcher.
    var rangEventFD = false
    /// Real time: the latest wall-clock reading (nanoseconds since the epoch below); the wall clock is
    /// at least this.
    var wallSeenNanoseconds: Int64 = 0
    var watches = WatchTable()
    var doorbells = DoorbellTable()
    /// fd watches (user fds) keep `run()` alive; libevent watches also count eventfd-backed doorbells.
    var keepAliveWatches = 0
    var libeventWatches = 0
    var postEventActive = false
    /// Deadline the real-time wake-up event is armed for (Int64.max: not armed).
    var wakeArmedFor: Int64 = .max
    var watchingSignals = false
    /// libevent events to free at the end of the current dispatch (freeing an event inside its own
    /// callback is not safe in libevent 2.1).
    var eventsToFree: [OpaquePointer] = []
    var contextsToFree: [UnsafeMutablePointer<EventContext>] = []
    /// Owner slots of cancelled watches, released once no callback is running.
    var ownersToRelease: [Int] = []
    /// Whether the three lists above hold anything (checked once per turn).
    var hasDeferredReleases = false
    /// How many dispatches are running: a turn of the virtual loop or a libevent callback.
    var dispatchDepth = 0

    init(epochMonotonic: Int64) { self.epochMonotonic = epochMonotonic }

    mutating func releaseLibeventResources() {
        watches.freeAllEvents()
        for ev in eventsToFree { event_free(ev) }
        for c in contextsToFree { c.deallocate() }
        eventsToFree.removeAll()
        contextsToFree.removeAll()
        doorbells.closeAll()
    }

    func deallocateStorage() {
        timers.deallocate()
        ready.deallocate()
        timerOwner.deallocate()
        watches.deallocate()
        doorbells.deallocate()
    }
}

/// The context passed to libevent for each event the reactor owns.
struct EventContext {
    enum Role: UInt8 { case post, wake, watch, signalWake }
    let reactor: Unmanaged<Reactor>
    let role: Role
    let slot: UInt32
}

/// The one C callback for every libevent event of every reactor. The context names the reactor (not
/// retained: the reactor frees its events before it goes away) and what the event is for.
let reactorTrampoline: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { _, _, raw in
    let context = raw!.assumingMemoryBound(to: EventContext.self).pointee
    context.reactor._withUnsafeGuaranteedRef { reactor in
        reactor.libeventFired(context.role, slot: context.slot)
    }
}

extension Reactor {
    func libeventFired(_ role: EventContext.Role, slot: UInt32) {
        core.pointee.clockStale = true
        core.pointee.dispatchDepth += 1
        defer {
            core.pointee.dispatchDepth -= 1
            flushFreedEvents()
        }
        switch role {
        case .post:
            core.pointee.postEventActive = false
            runReadyBatch()
            if !core.pointee.ready.isEmpty { activatePostEvent() }
        case .wake:
            core.pointee.wakeArmedFor = .max
            core.pointee.dispatchingTimers = true
            let watermark = core.pointee.timers.sequenceWatermark
            // Every timer the wall clock has reached, in deadline order, each at its own deadline
            // (see `now`); timers armed meanwhile wait for the next wake-up, which is immediate if
            // they are due, after libevent has looked at the fds once.
            //
            // A timer that makes something else ready (posted work, an eventfd doorbell rung for a
            // watcher) ends the batch: in virtual time that runs before later timers, and here too
            // the rest wait for the next wake-up (immediate, they are due), after the loop has looked
            // at the fds. Otherwise a board that is behind would run its next timers before the
            // driver saw the interrupt raised by the first, and the driver would react late in board
            // time as well.
            let wall = wallNanoseconds()
            core.pointee.rangEventFD = false
            while !core.pointee.stopRequested && !core.pointee.timers.isEmpty {
                let first = core.pointee.timers.first
                guard first.deadline <= wall && first.sequence < watermark else { break }
                // Never backwards: nothing before this saw more than the earliest armed deadline.
                if first.deadline > core.pointee.nowNanoseconds { core.pointee.nowNanoseconds = first.deadline }
                core.pointee.lagNanoseconds = wall - core.pointee.nowNanoseconds
                core.pointee.clockStale = false
                fireFirstTimer()
                if core.pointee.rangEventFD || !core.pointee.ready.isEmpty { break }
            }
            core.pointee.dispatchingTimers = false
            rearmWakeEvent()
        case .watch:
            fireWatch(slot: Int(slot))
        case .signalWake:
            var count: UInt64 = 0
            _ = read(signalWakeFD, &count, 8)
            if noticeStopSignal() { stop() }
        }
    }

    /// Frees the libevent events and releases the targets of watches cancelled during a dispatch.
    @inline(__always)
    func flushFreedEvents() {
        if core.pointee.hasDeferredReleases && core.pointee.dispatchDepth == 0 { flushDeferredReleases() }
    }

    @inline(never)
    func flushDeferredReleases() {
        core.pointee.hasDeferredReleases = false
        if !core.pointee.eventsToFree.isEmpty {
            for ev in core.pointee.eventsToFree { event_free(ev) }
            for c in core.pointee.contextsToFree { c.deallocate() }
            core.pointee.eventsToFree.removeAll(keepingCapacity: true)
            core.pointee.contextsToFree.removeAll(keepingCapacity: true)
        }
        if !core.pointee.ownersToRelease.isEmpty {
            for o in core.pointee.ownersToRelease { releaseOwner(o) }
            core.pointee.ownersToRelease.removeAll(keepingCapacity: true)
        }
    }

    /// Real time: make sure posted work gets a libevent turn.
    @inline(__always)
    func activatePostEvent() {
        if !core.pointee.postEventActive, let postEvent {
            core.pointee.postEventActive = true
            event_active(postEvent, 0, 0)
        }
    }

    /// Runs the items queued before this call, in FIFO order. Items queued meanwhile wait for the
    /// next turn, so work posted from a callback never runs recursively.
    @inline(__always)
    func runReadyBatch() {
        var n = core.pointee.ready.count
        while n > 0 && !core.pointee.stopRequested {
            n -= 1
            let item = core.pointee.ready.pop()
            core.pointee.dispatchCount &+= 1
            switch item {
            case let .work(callback, retained):
                callback.invoke()
                if retained { callback.target.release() }
            case let .doorbell(slot):
                runDoorbell(slot: Int(slot))
            }
        }
    }
}
