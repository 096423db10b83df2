import Testing
@testable import Reactor

@Suite("Posted work", .serialized)
struct PostTests {
    @Test("posted work runs in FIFO order after the posting callback returns", arguments: [Reactor.Clock.virtual, .realTime])
    func fifoAfterCallback(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        var log: [String] = []
        r.schedule(after: .zero) {
            r.post { log.append("a") }
            r.post { log.append("b") }
            r.post { log.append("c") }
            log.append("callback end")
        }
        r.run()
        #expect(log == ["callback end", "a", "b", "c"])
    }

    @Test("work posted from posted work runs on the next turn, not recursively", arguments: [Reactor.Clock.virtual, .realTime])
    func nestedPostsRunNextTurn(clock: Reactor.Clock) {
        let r = Reactor(clock: clock)
        var log: [String] = []
        var depth = 0
        r.post {
            depth += 1
            log.append("outer1")
            r.post { log.append("inner depth \(depth)") }
            depth -= 1
        }
        r.post { log.append("outer2") }
        r.run()
        #expect(log == ["outer1", "outer2", "inner depth 0"])
    }

    @Test("a target and tag are delivered without a closure")
    func targetDelivery() {
        final class Recorder: ReactorTarget {
            var tags: [UInt64] = []
            override func reactorEvent(_ tag: UInt64) { tags.append(tag) }
        }
        let r = Reactor(clock: .virtual)
        let rec = Recorder()
        r.post(rec, tag: 7)
        r.post(rec, tag: 9)
        let t = r.makeTimer(target: rec, tag: 11)
        r.arm(t, after: .microseconds(3))
        r.run()
        #expect(rec.tags == [7, 9, 11])
    }

    @Test("posted work and due timers share a turn: work queued first, timers after")
    func turnOrder() {
        let r = Reactor(clock: .virtual)
        var log: [String] = []
        r.schedule(after: .zero) { log.append("timer") }
        r.post { log.append("work") }
        r.run()
        #expect(log == ["work", "timer"])
    }

    @Test("stop() from a callback returns from run(); queued work survives for the next run()")
    func stopKeepsQueue() {
        let r = Reactor(clock: .virtual)
        var log: [String] = []
        r.post { log.append("first"); r.stop() }
        r.post { log.append("second") }
        r.run()
        #expect(log == ["first"])
        r.run()
        #expect(log == ["first", "second"])
    }
}
