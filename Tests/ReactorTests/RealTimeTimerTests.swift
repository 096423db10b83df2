import Glibc
import Testing
@testable import Reactor

/// The real-time board clock (`Reactor.now`): timers keep their deadlines however late the wake-up,
/// and board time never passes a timer that has not fired. Lateness is made, not waited for: a
/// callback (or the test, outside the loop) keeps the thread busy until the wall clock has passed
/// the deadlines it wants missed, so every assertion holds whatever the machine's load.
@Suite("Real-time timers")
struct RealTimeTimerTests {
    /// Keeps the thread busy until the reactor's wall clock (not board time) reads `nanoseconds`.
    func busy(_ r: Reactor, untilWall nanoseconds: Int64) {
        while r.wallNanoseconds() < nanoseconds {}
    }

    func ms(_ n: Int64) -> Int64 { n * 1_000_000 }

    @Test("a late wake-up fires every due timer in deadline order, each seeing its own deadline as now")
    func lateWakeFiresDueTimersInDeadlineOrder() {
        let r = Reactor(clock: .realTime)
        var fired: [(String, Int64)] = []
        var wallAtFirst: Int64 = 0
        r.schedule(at: .start) { [self] in busy(r, untilWall: ms(5)) }
        // Scheduled out of deadline order; the two at 2 ms fire in scheduling order.
        r.schedule(at: .start + .milliseconds(3)) { fired.append(("3ms", r.now.nanosecondsSinceStart)) }
        r.schedule(at: .start + .milliseconds(2)) { fired.append(("2ms-a", r.now.nanosecondsSinceStart)) }
        r.schedule(at: .start + .milliseconds(1)) {
            wallAtFirst = r.wallNanoseconds()
            fired.append(("1ms", r.now.nanosecondsSinceStart))
        }
        r.schedule(at: .start + .milliseconds(2)) { fired.append(("2ms-b", r.now.nanosecondsSinceStart)) }
        r.run()
        #expect(fired.map(\.0) == ["1ms", "2ms-a", "2ms-b", "3ms"])
        #expect(fired.map(\.1) == [ms(1), ms(2), ms(2), ms(3)])
        // They really were late: the wall clock had passed all of them when the first one ran.
        #expect(wallAtFirst >= ms(5))
    }

    @Test("a periodic timer keeps its phase through a late wake-up, and no tick is lost")
    func periodicTimerKeepsPhase() {
        let r = Reactor(clock: .realTime)
        var times: [Int64] = []
        var id: TimerID? = nil
        // Set up at exactly t+0: inside a timer's callback `now` is its deadline.
        r.schedule(at: .start) { [self] in
            id = r.schedulePeriodic(every: .milliseconds(1)) { [self] in
                times.append(r.now.nanosecondsSinceStart)
                // The first tick overruns the next three periods.
                if times.count == 1 { busy(r, untilWall: ms(4) + 500_000) }
                if times.count == 6 { r.cancel(id!) }
            }
        }
        r.run()
        #expect(times == [ms(1), ms(2), ms(3), ms(4), ms(5), ms(6)])
    }

    @Test("a timer re-armed relative to now from its own late callback does not drift")
    func rearmFromLateCallbackDoesNotDrift() {
        final class Ticker: ReactorTarget {
            let reactor: Reactor
            var timer: TimerID? = nil
            var times: [Int64] = []
            let overrunUntilWall: Int64
            init(_ reactor: Reactor, overrunUntilWall: Int64) {
                self.reactor = reactor
                self.overrunUntilWall = overrunUntilWall
            }
            override func reactorEvent(_ tag: UInt64) {
                times.append(reactor.now.nanosecondsSinceStart)
                if times.count == 2 { while reactor.wallNanoseconds() < overrunUntilWall {} }
                // The way a device schedules its next step: relative to now.
                if times.count < 8 { reactor.arm(timer!, after: .microseconds(500)) }
            }
        }
        let r = Reactor(clock: .realTime)
        let ticker = Ticker(r, overrunUntilWall: ms(3))
        ticker.timer = r.makeTimer(target: ticker)
        r.arm(ticker.timer!, at: .start + .microseconds(500))
        r.run()
        #expect(ticker.times == (1...8).map { Int64($0) * 500_000 })
    }

    @Test("work posted by a late timer sees the time the board took since that timer, capped at the next armed deadline")
    func postedWorkAfterLateTimer() {
        let r = Reactor(clock: .realTime)
        var order: [String] = []
        var workNow: Int64 = -1
        var laterNow: Int64 = -1
        r.schedule(at: .start) { [self] in busy(r, untilWall: ms(5)) }
        r.schedule(at: .start + .milliseconds(1)) {
            order.append("1ms")
            r.post {
                order.append("work")
                workNow = r.now.nanosecondsSinceStart
            }
            // Already due by the wall clock, but armed after the batch began: it waits for the
            // posted work, and the work may not see a time past it.
            r.schedule(after: .microseconds(500)) {
                order.append("1.5ms")
                laterNow = r.now.nanosecondsSinceStart
            }
        }
        r.schedule(at: .start + .milliseconds(3)) { order.append("3ms") }
        r.run()
        #expect(order == ["1ms", "work", "1.5ms", "3ms"])
        #expect(workNow >= ms(1) && workNow <= ms(1) + 500_000)
        #expect(laterNow == ms(1) + 500_000)
    }

    @Test("work posted by a late timer runs before the later overdue timers, as in virtual time")
    func postedWorkRunsBeforeLaterOverdueTimers() {
        let r = Reactor(clock: .realTime)
        var order: [String] = []
        var workNow: Int64 = -1
        r.schedule(at: .start) { [self] in busy(r, untilWall: ms(5)) }
        r.schedule(at: .start + .milliseconds(1)) {
            order.append("1ms")
            r.post {
                order.append("work")
                workNow = r.now.nanosecondsSinceStart
            }
        }
        r.schedule(at: .start + .milliseconds(2)) { order.append("2ms") }
        r.schedule(at: .start + .milliseconds(3)) { order.append("3ms") }
        r.run()
        #expect(order == ["1ms", "work", "2ms", "3ms"])
        #expect(workNow >= ms(1) && workNow <= ms(2))
    }

    @Test("an eventfd doorbell rung by a late timer is handled before the later overdue timers")
    func doorbellRungByLateTimerRunsBeforeLaterTimers() {
        let r = Reactor(clock: .realTime)
        let bell = r.makeDoorbell(backing: .eventfd)
        var order: [String] = []
        var handlerNow: Int64 = -1
        var raisedAt: Int64 = -1
        let watch = r.watch(bell.source, for: .read) {
            _ = bell.drain()
            order.append("handler")
            handlerNow = r.now.nanosecondsSinceStart
        }
        r.schedule(at: .start) { [self] in busy(r, untilWall: ms(5)) }
        r.schedule(at: .start + .milliseconds(1)) {
            order.append("1ms")
            raisedAt = r.now.nanosecondsSinceStart
            bell.ring()
        }
        r.schedule(at: .start + .milliseconds(2)) { order.append("2ms") }
        r.schedule(at: .start + .milliseconds(3)) {
            order.append("3ms")
            r.cancel(watch)
        }
        r.run()
        #expect(order == ["1ms", "handler", "2ms", "3ms"])
        #expect(raisedAt == ms(1))
        // Board time: after the ring, before the next timer, although the wall clock was past 5 ms.
        #expect(handlerNow >= ms(1) && handlerNow <= ms(2))
    }

    @Test("board time read outside the loop stops at an overdue timer, which then fires at its deadline")
    func nowStopsAtOverdueTimer() {
        let r = Reactor(clock: .realTime)
        var firedAt: Int64 = -1
        r.schedule(at: .start + .milliseconds(1)) { firedAt = r.now.nanosecondsSinceStart }
        busy(r, untilWall: ms(3))
        #expect(r.now.nanosecondsSinceStart == ms(1))
        r.run()
        #expect(firedAt == ms(1))
        // Afterwards board time follows the wall clock again, from where the timer left it.
        let after = r.now.nanosecondsSinceStart
        #expect(after >= ms(1))
        #expect(after <= r.wallNanoseconds())
    }

    @Test("run(until:) in real time: a board that fell behind catches up and ends at the limit")
    func runUntilCatchesUp() {
        let r = Reactor(clock: .realTime)
        var times: [Int64] = []
        var id: TimerID? = nil
        r.schedule(at: .start) { [self] in
            id = r.schedulePeriodic(every: .milliseconds(1)) { [self] in
                times.append(r.now.nanosecondsSinceStart)
                if times.count == 2 { busy(r, untilWall: ms(6)) }
            }
        }
        r.run(until: .start + .microseconds(10_500))
        r.cancel(id!)
        #expect(times == (1...10).map { ms(Int64($0)) })
        #expect(r.now.nanosecondsSinceStart >= 10_500_000)
    }

    @Test("random timers, posted work, eventfd rings and overruns: time never goes backwards, timers see their deadlines in order, nothing sees past a timer that has not fired",
          arguments: [1, 2, 3] as [UInt64])
    func randomMixKeepsBoardTimeConsistent(seed: UInt64) {
        enum Kind: Equatable { case timer(Int), work, handler }
        var rng = SplitMix64(seed: seed)
        let r = Reactor(clock: .realTime)
        let bell = r.makeDoorbell(backing: .eventfd)
        var log: [(kind: Kind, now: Int64)] = []
        var deadlines: [Int64] = []
        var posts = 0
        var rings = 0
        r.watch(bell.source, for: .read) {
            _ = bell.drain()
            log.append((.handler, r.now.nanosecondsSinceStart))
        }
        let count = 300
        // Set up at exactly t+0, so every deadline is the one drawn.
        r.schedule(at: .start) { [self] in
            for i in 0..<count {
                let deadline = Int64(rng.next() % 3_000_000)
                let action = rng.next() % 4
                let overrun = Int64(rng.next() % 300_000)
                deadlines.append(deadline)
                r.schedule(at: Instant(nanosecondsSinceStart: deadline)) { [self] in
                    log.append((.timer(i), r.now.nanosecondsSinceStart))
                    switch action {
                    case 1:
                        posts += 1
                        r.post { log.append((.work, r.now.nanosecondsSinceStart)) }
                    case 2:
                        rings += 1
                        bell.ring()
                    case 3:
                        // Keeps the thread busy: the timers due meanwhile come late.
                        busy(r, untilWall: r.wallNanoseconds() + overrun)
                    default: break
                    }
                }
            }
        }
        r.run()

        let timers = log.compactMap { entry -> (Int, Int64)? in
            if case let .timer(i) = entry.kind { return (i, entry.now) }
            return nil
        }
        // Every timer fired once, in (deadline, scheduling) order, seeing its own deadline.
        let expectedOrder = (0..<count).sorted { (deadlines[$0], $0) < (deadlines[$1], $1) }
        #expect(timers.map(\.0) == expectedOrder)
        #expect(timers.allSatisfy { $0.1 == deadlines[$0.0] })
        #expect(log.filter { $0.kind == .work }.count == posts)
        #expect(rings == 0 || log.contains { $0.kind == .handler })
        // Board time never goes backwards.
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.now <= $1.now })
        // Work and handlers never see a time past a timer that had not fired yet.
        var earliestLater = Int64.max
        var violations = 0
        for entry in log.reversed() {
            if case let .timer(i) = entry.kind {
                earliestLater = min(earliestLater, deadlines[i])
            } else if entry.now > earliestLater {
                violations += 1
            }
        }
        #expect(violations == 0)
    }
}
