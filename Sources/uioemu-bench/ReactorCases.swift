import CLibevent
import Glibc
import Reactor

/// The Swift side of each floor, written the way hot code in uioemu is written: targets with a tag,
/// reusable timers, no closures on the path (except where the closure path itself is measured).
enum ReactorCases {
    static func elapsedNanoseconds(_ body: () -> Void) -> Double {
        let t0 = monotonicNow()
        body()
        return Double(monotonicNow() - t0)
    }

    static func monotonicNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    // (a) eventfd ping-pong through fd watches in real time.
    final class PingPong: ReactorTarget {
        let fds: (Int32, Int32)
        var remaining = 0
        let reactor: Reactor
        /// Which eventfd became readable: the first serves, the second returns and counts the round trip.
        enum Tag: UInt64 { case first, second }
        init(reactor: Reactor, fds: (Int32, Int32)) { self.reactor = reactor; self.fds = fds }
        override func reactorEvent(_ tag: UInt64) {
            guard let side = Tag(rawValue: tag) else { return }
            let mine = side == .first ? fds.0 : fds.1
            let other = side == .first ? fds.1 : fds.0
            var v: UInt64 = 0
            guard read(mine, &v, 8) == 8 else { return }
            if side == .second {
                remaining -= 1
                if remaining <= 0 { reactor.stop(); return }
            }
            var one: UInt64 = 1
            _ = write(other, &one, 8)
        }
    }

    static func eventfdPingPong(iterations: Int) -> Double {
        let r = Reactor(clock: .realTime)
        let a = uioemu_eventfd(0, uioemu_efd_nonblock()), b = uioemu_eventfd(0, uioemu_efd_nonblock())
        defer { close(a); close(b) }
        let p = PingPong(reactor: r, fds: (a, b))
        let w0 = r.watch(.fd(a), for: .read, target: p, tag: PingPong.Tag.first.rawValue)
        let w1 = r.watch(.fd(b), for: .read, target: p, tag: PingPong.Tag.second.rawValue)
        defer { r.cancel(w0); r.cancel(w1) }
        var one: UInt64 = 1
        p.remaining = iterations / 10 + 1
        _ = write(a, &one, 8)
        r.run()
        p.remaining = iterations
        return elapsedNanoseconds {
            _ = write(a, &one, 8)
            r.run()
        } / Double(iterations)
    }

    // (b) posted work re-posting itself; (d) timers re-arming themselves; (c) zero-delay real-time timer.
    final class Repeater: ReactorTarget {
        let reactor: Reactor
        var remaining = 0
        var timer: TimerID? = nil
        var delay = TimeSpan.zero
        /// How the repeater was called, which is how it calls itself again.
        enum Tag: UInt64 { case posted, timer }
        init(reactor: Reactor) { self.reactor = reactor }
        override func reactorEvent(_ tag: UInt64) {
            remaining -= 1
            guard remaining > 0 else { return }
            switch Tag(rawValue: tag) {
            case .posted: reactor.post(self, tag: Tag.posted.rawValue)
            case .timer: reactor.arm(timer!, after: delay)
            case nil: break
            }
        }
    }

    static func post(iterations: Int, clock: Reactor.Clock) -> Double {
        let r = Reactor(clock: clock)
        let rep = Repeater(reactor: r)
        rep.remaining = iterations / 10 + 1
        r.post(rep, tag: Repeater.Tag.posted.rawValue)
        r.run()
        rep.remaining = iterations
        return elapsedNanoseconds {
            r.post(rep, tag: Repeater.Tag.posted.rawValue)
            r.run()
        } / Double(iterations)
    }

    static func timer(iterations: Int, clock: Reactor.Clock, delay: TimeSpan, concurrent: Int = 1) -> Double {
        let r = Reactor(clock: clock)
        var reps: [Repeater] = []
        for _ in 0..<concurrent {
            let rep = Repeater(reactor: r)
            rep.timer = r.makeTimer(target: rep, tag: Repeater.Tag.timer.rawValue)
            rep.delay = delay
            reps.append(rep)
        }
        let per = max(iterations / concurrent, 1)
        for rep in reps { rep.remaining = per / 10 + 1; r.arm(rep.timer!, after: delay) }
        r.run()
        for rep in reps { rep.remaining = per }
        return elapsedNanoseconds {
            for (i, rep) in reps.enumerated() { r.arm(rep.timer!, after: delay + .nanoseconds(Int64(i))) }
            r.run()
        } / Double(per * concurrent)
    }

    /// (d), closure path: the timer's closure re-arms it.
    static func closureTimer(iterations: Int) -> Double {
        let r = Reactor(clock: .virtual)
        var remaining = 0
        var timer: TimerID? = nil
        timer = r.makeTimer {
            remaining -= 1
            if remaining > 0 { r.arm(timer!, after: .nanoseconds(1)) }
        }
        remaining = iterations / 10 + 1
        r.arm(timer!, after: .nanoseconds(1))
        r.run()
        remaining = iterations
        return elapsedNanoseconds {
            r.arm(timer!, after: .nanoseconds(1))
            r.run()
        } / Double(iterations)
    }

    // (e) doorbell ring -> watch: the watcher drains and rings again.
    final class BellLoop: ReactorTarget {
        let bell: Doorbell
        var remaining = 0
        init(bell: Doorbell) { self.bell = bell }
        override func reactorEvent(_ tag: UInt64) {
            _ = bell.drain()
            remaining -= 1
            if remaining > 0 { bell.ring() }
        }
    }

    static func doorbell(iterations: Int, backing: Doorbell.Backing, clock: Reactor.Clock) -> Double {
        let r = Reactor(clock: clock)
        let bell = r.makeDoorbell(backing: backing)
        let loop = BellLoop(bell: bell)
        let w = r.watch(bell.source, for: .read, target: loop)
        defer { r.cancel(w) }
        loop.remaining = iterations / 10 + 1
        bell.ring()
        r.run()
        loop.remaining = iterations
        return elapsedNanoseconds {
            bell.ring()
            r.run()
        } / Double(iterations)
    }

    // (f) memcpy from Swift (UnsafeMutableRawPointer.copyMemory is memcpy).
    static func copy(bytes: Int, iterations: Int) -> Double {
        let src = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        let dst = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { src.deallocate(); dst.deallocate() }
        src.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
        dst.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var sink: UInt8 = 0
        let ns = elapsedNanoseconds {
            for _ in 0..<iterations {
                dst.copyMemory(from: src, byteCount: bytes)
                sink &+= dst.load(fromByteOffset: bytes - 1, as: UInt8.self)
            }
        }
        precondition(sink != 1)  // keeps the loop observable
        return ns / Double(iterations)
    }
}
