import CLibevent
import Glibc

/// A quick end-to-end exercise of the reactor in both clocks, for `uioemu self-check` (the default
/// job of `make run` until the board has a workload). Each step says what it did and whether the
/// outcome was the expected one.
public enum ReactorSelfCheck {
    public struct Step: Sendable {
        public let name: String
        public let detail: String
        public let ok: Bool
    }

    public static func run() -> [Step] {
        [virtualHour(), equalDeadlines(), postedWork(), doorbell(.inProcess), doorbell(.eventfd),
         realTimeTimer(), eventfdWatch()]
    }

    static func virtualHour() -> Step {
        let r = Reactor(clock: .virtual)
        var firedAt = Instant.start
        let wall0 = monotonicNanoseconds()
        r.schedule(after: .seconds(3600)) { firedAt = r.now }
        r.run()
        let wallMicros = (monotonicNanoseconds() - wall0) / 1_000
        return Step(name: "virtual clock", detail: "a timer 1 h ahead fired at \(firedAt) after \(wallMicros) us of wall time",
                    ok: firedAt == .start + .seconds(3600))
    }

    static func equalDeadlines() -> Step {
        let r = Reactor(clock: .virtual)
        var order: [Int] = []
        for i in 0..<1000 { r.schedule(after: .microseconds(Int64(i % 3))) { order.append(i) } }
        r.run()
        let expected = (0..<1000).sorted { ($0 % 3, $0) < ($1 % 3, $1) }
        return Step(name: "timer order", detail: "1000 timers on 3 deadlines fired by (deadline, scheduling order)", ok: order == expected)
    }

    static func postedWork() -> Step {
        let r = Reactor(clock: .virtual)
        var log: [String] = []
        r.post {
            r.post { log.append("c") }
            log.append("a")
        }
        r.post { log.append("b") }
        r.run()
        return Step(name: "posted work", detail: "FIFO, and work posted from work ran on the next turn: \(log.joined())", ok: log == ["a", "b", "c"])
    }

    static func doorbell(_ backing: Doorbell.Backing) -> Step {
        let r = Reactor(clock: .virtual)
        let bell = r.makeDoorbell(backing: backing)
        var drained: [UInt64] = []
        let w = r.watch(bell.source, for: .read) { drained.append(bell.drain()) }
        r.schedule(after: .microseconds(1)) { bell.ring(); bell.ring() }
        r.schedule(after: .microseconds(2)) { bell.ring() }
        r.run()
        r.cancel(w)
        let name = backing == .inProcess ? "in-process doorbell" : "eventfd doorbell"
        return Step(name: name, detail: "rings 2 then 1 were drained as \(drained)", ok: drained == [2, 1])
    }

    static func realTimeTimer() -> Step {
        let r = Reactor(clock: .realTime)
        let asked = TimeSpan.microseconds(500)
        let deadline = r.now + asked
        var lateNanoseconds: Int64 = 0
        // On the wall clock: inside its callback a timer's `now` is its deadline by design, so the
        // lateness only shows against CLOCK_MONOTONIC on the reactor's scale.
        r.schedule(at: deadline) {
            lateNanoseconds = monotonicNanoseconds() - r.core.pointee.epochMonotonic - deadline.nanosecondsSinceStart
        }
        r.run()
        return Step(name: "real-time timer", detail: "asked for \(asked), fired \(lateNanoseconds / 1_000) us late on the wall clock",
                    ok: lateNanoseconds >= 0)
    }

    static func eventfdWatch() -> Step {
        let r = Reactor(clock: .realTime)
        let fd = uioemu_eventfd(0, uioemu_efd_nonblock() | uioemu_efd_cloexec())
        defer { close(fd) }
        var values: [UInt64] = []
        var written: UInt64 = 0
        func writeNext() {
            written += 1
            var v = written
            _ = write(fd, &v, 8)
        }
        var watch: WatchID? = nil
        // Each write is armed after the previous value was read: two writes must never meet in the
        // counter (a loaded machine may run two due timers before the watch), or the third value
        // would never come and the watch would keep the loop waiting.
        watch = r.watch(fd: fd, for: .read) {
            var v: UInt64 = 0
            if read(fd, &v, 8) == 8 { values.append(v) }
            if values.count == 3 || v != written {
                r.cancel(watch!)
            } else {
                r.schedule(after: .microseconds(100)) { writeNext() }
            }
        }
        r.schedule(after: .microseconds(100)) { writeNext() }
        r.run()
        return Step(name: "fd watch", detail: "an eventfd written by 3 timers was read as \(values)", ok: values == [1, 2, 3])
    }
}
