import Testing
@testable import Reactor

@Suite("Virtual-time timers")
struct VirtualTimerTests {
    @Test("timers with equal deadlines fire in the order they were scheduled")
    func equalDeadlinesFireInSchedulingOrder() {
        let r = Reactor(clock: .virtual)
        var fired: [Int] = []
        // Interleave two deadlines so heap order alone would not give scheduling order.
        for i in 0..<200 {
            r.schedule(after: .microseconds(i % 2 == 0 ? 10 : 5)) { fired.append(i) }
        }
        r.run()
        let odds = (0..<200).filter { $0 % 2 == 1 }
        let evens = (0..<200).filter { $0 % 2 == 0 }
        #expect(fired == odds + evens)
    }

    @Test("a timer one hour ahead fires with the clock reading exactly one hour, in well under a second")
    func oneHourTimerJumpsTheClock() {
        let r = Reactor(clock: .virtual)
        var firedAt: Instant? = nil
        let wallStart = ContinuousClock.now
        r.schedule(after: .seconds(3600)) { firedAt = r.now }
        r.run()
        let wall = ContinuousClock.now - wallStart
        #expect(firedAt == Instant(nanosecondsSinceStart: 3_600_000_000_000))
        #expect(wall < .seconds(1))
    }

    @Test("run(until:) fires what is due by then and leaves the clock at the limit")
    func runUntilStopsAtLimit() {
        let r = Reactor(clock: .virtual)
        var fired: [Int64] = []
        for ms: Int64 in [1, 5, 10, 20] {
            r.schedule(after: .milliseconds(ms)) { fired.append(ms) }
        }
        r.run(until: .start + .milliseconds(10))
        #expect(fired == [1, 5, 10])
        #expect(r.now == .start + .milliseconds(10))
        r.run()
        #expect(fired == [1, 5, 10, 20])
    }

    @Test("a periodic timer fires at exact multiples of its period and stops when cancelled")
    func periodicTimer() {
        let r = Reactor(clock: .virtual)
        var times: [Int64] = []
        var id: TimerID? = nil
        id = r.schedulePeriodic(every: .microseconds(7)) {
            times.append(r.now.nanosecondsSinceStart)
            if times.count == 5 { r.cancel(id!) }
        }
        r.run()
        #expect(times == [7_000, 14_000, 21_000, 28_000, 35_000])
        #expect(!r.hasPendingWork)
    }

    @Test("cancelling inside a callback works for the running timer and for another timer")
    func cancelInsideCallbacks() {
        let r = Reactor(clock: .virtual)
        var log: [String] = []
        var other: TimerID? = nil
        var selfID: TimerID? = nil
        selfID = r.schedulePeriodic(every: .microseconds(1)) {
            log.append("self")
            r.cancel(selfID!)  // own handle, from its own callback
            r.cancel(selfID!)  // twice is fine
            r.cancel(other!)   // another handle
        }
        other = r.schedule(after: .microseconds(2)) { log.append("other") }
        r.run()
        #expect(log == ["self"])
        r.cancel(other!)  // after the fact: a no-op
        #expect(!r.hasPendingWork)
    }

    @Test("cancelling after a one-shot fired does not touch a timer that reused its slot")
    func staleHandleIsHarmless() {
        let r = Reactor(clock: .virtual)
        var log: [Int] = []
        let first = r.schedule(after: .microseconds(1)) { log.append(1) }
        r.run()
        let second = r.schedule(after: .microseconds(1)) { log.append(2) }
        r.cancel(first)  // stale: must not cancel `second`
        #expect(r.isArmed(second))
        r.run()
        #expect(log == [1, 2])
    }

    @Test("a reusable timer can be armed, re-armed, disarmed and freed, also from its own callback")
    func reusableTimer() {
        let r = Reactor(clock: .virtual)
        var times: [Int64] = []
        var timer: TimerID? = nil
        timer = r.makeTimer {
            times.append(r.now.nanosecondsSinceStart)
            if times.count < 3 { r.arm(timer!, after: .nanoseconds(100)) } else { r.freeTimer(timer!) }
        }
        r.arm(timer!, after: .nanoseconds(50))
        r.arm(timer!, after: .nanoseconds(10))  // re-arming moves it
        r.run()
        #expect(times == [10, 110, 210])
        r.arm(timer!, after: .nanoseconds(1))  // freed: no effect
        #expect(!r.hasPendingWork)
    }

    @Test("random schedule and cancel sequences fire exactly like a reference model")
    func matchesReferenceModel() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let r = Reactor(clock: .virtual)
        // Reference: a list of (deadline, order, id) sorted on fire; cancelled ids removed.
        var model: [(deadline: Int64, order: Int, id: Int)] = []
        var handles: [Int: TimerID] = [:]
        var fired: [Int] = []
        var order = 0
        var nextID = 0
        for _ in 0..<2_000 {
            let op = rng.next() % 10
            if op < 6 || handles.isEmpty {
                let id = nextID
                nextID += 1
                let delay = Int64(rng.next() % 50)
                handles[id] = r.schedule(after: .nanoseconds(delay)) { fired.append(id) }
                model.append((r.now.nanosecondsSinceStart + delay, order, id))
                order += 1
            } else if op < 8 {
                let keys = handles.keys.sorted()
                let victim = keys[Int(rng.next() % UInt64(keys.count))]
                r.cancel(handles[victim]!)
                handles[victim] = nil
                model.removeAll { $0.id == victim }
            } else {
                // Let time move a little: everything due by then must have fired, in model order.
                let until = r.now + .nanoseconds(Int64(rng.next() % 20))
                r.run(until: until)
                let due = model.filter { $0.deadline <= until.nanosecondsSinceStart }
                    .sorted { ($0.deadline, $0.order) < ($1.deadline, $1.order) }
                model.removeAll { $0.deadline <= until.nanosecondsSinceStart }
                for d in due { handles[d.id] = nil }
                #expect(fired == due.map(\.id), "reproduce with seed 0x5EED0001")
                fired.removeAll()
            }
        }
        r.run()
        #expect(fired == model.sorted { ($0.deadline, $0.order) < ($1.deadline, $1.order) }.map(\.id))
    }

    @Test("the same program gives the same event order on every run")
    func deterministic() {
        func trace(seed: UInt64) -> [Int] {
            var rng = SplitMix64(seed: seed)
            let r = Reactor(clock: .virtual)
            var out: [Int] = []
            for i in 0..<500 {
                r.schedule(after: .nanoseconds(Int64(rng.next() % 100))) {
                    out.append(i)
                    r.post { out.append(-i) }
                }
            }
            r.run()
            return out
        }
        #expect(trace(seed: 42) == trace(seed: 42))
        #expect(trace(seed: 42) != trace(seed: 43))
    }
}
