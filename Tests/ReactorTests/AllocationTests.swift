import AllocationCounting
import Testing
@testable import Reactor

/// malloc-interposer's counters are process-wide: this suite runs on its own (`make test` runs it in
/// a separate `swift test` invocation) and serialised.
@Suite("AllocationTests", .serialized)
struct AllocationTests {
    final class Counter: ReactorTarget {
        var count = 0
        let limit: Int
        let reactor: Reactor
        var timer: TimerID? = nil
        /// How the counter was called, which is how it calls itself again.
        enum Tag: UInt64 { case posted, timer }
        init(reactor: Reactor, limit: Int) { self.reactor = reactor; self.limit = limit }
        override func reactorEvent(_ tag: UInt64) {
            count += 1
            guard count < limit else { return }
            switch Tag(rawValue: tag) {
            case .posted: reactor.post(self, tag: Tag.posted.rawValue)
            case .timer: reactor.arm(timer!, after: .nanoseconds(10))
            case nil: preconditionFailure("Counter: unknown tag \(tag)")
            }
        }
    }

    static func mallocs(_ body: () -> Void) -> Int { mallocsOnThisThread(body) }

    @Test("the interposer is active (so a zero below means something)")
    func interposerCounts() {
        let n = Self.mallocs {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
            p.deallocate()
        }
        #expect(n >= 1)
    }

    @Test("100,000 posted dispatches after warm-up allocate nothing", arguments: [Reactor.Clock.virtual, .realTime])
    func postedWorkAllocatesNothing(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        let warm = Counter(reactor: r, limit: 1_000)
        r.post(warm, tag: Counter.Tag.posted.rawValue)
        r.run()
        let hot = Counter(reactor: r, limit: 100_000)
        let n = Self.mallocs {
            r.post(hot, tag: Counter.Tag.posted.rawValue)
            r.run()
        }
        #expect(hot.count == 100_000)
        #expect(n == 0)
    }

    @Test("100,000 timer dispatches after warm-up allocate nothing", arguments: [Reactor.Clock.virtual, .realTime])
    func timersAllocateNothing(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        let warm = Counter(reactor: r, limit: 1_000)
        warm.timer = r.makeTimer(target: warm, tag: Counter.Tag.timer.rawValue)
        r.arm(warm.timer!, after: .zero)
        r.run()
        let hot = Counter(reactor: r, limit: clock == .virtual ? 100_000 : 20_000)
        hot.timer = r.makeTimer(target: hot, tag: Counter.Tag.timer.rawValue)
        let n = Self.mallocs {
            r.arm(hot.timer!, after: .zero)
            r.run()
        }
        #expect(hot.count == hot.limit)
        #expect(n == 0)
    }

    @Test("100,000 in-process doorbell ring-to-watch dispatches allocate nothing")
    func doorbellsAllocateNothing() {
        final class PingPong: ReactorTarget {
            let bell: Doorbell
            var count = 0
            var limit = 1_000
            init(bell: Doorbell) { self.bell = bell }
            override func reactorEvent(_ tag: UInt64) {
                _ = bell.drain()
                count += 1
                if count < limit { bell.ring() }
            }
        }
        let r = Reactor(clock: .virtual)
        let bell = r.makeDoorbell()
        let pp = PingPong(bell: bell)
        let w = r.watch(bell.source, for: .read, target: pp)
        bell.ring()
        r.run()  // warm-up
        pp.limit = 101_000
        let n = Self.mallocs {
            bell.ring()
            r.run()
        }
        r.cancel(w)
        #expect(pp.count == 101_000)
        #expect(n == 0)
    }
}
