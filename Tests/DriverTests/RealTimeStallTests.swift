import Devices
import Driver
import Glibc
import Reactor
@testable import Scenario
import Testing

/// Real time, with the consumer blocking the process for 50 ms (issue 16), as a consumer does that
/// writes to a slow disk. The emulated board lives in the same process, so it stops too: board time
/// falls 50 ms behind the wall clock, and the overdue timers then fire in deadline order without
/// sleeping until it has caught up (Reactor, "real time"). On the board's clock the consumer was
/// busy for those 50 ms and kept its buffers (a `consumer-stall` of the same length): the ring
/// fills, and the stream does not wait. What arrives meanwhile is dropped as FIFO overflow with a
/// reason, or held at the source with back-pressure; every byte is accounted for; afterwards the
/// run keeps pace with the wall clock again.
@Suite("Real time: a 50 ms stall of the process in the consumer", .serialized)
struct RealTimeStallTests {
    /// The fault itself: the one thread stops for `milliseconds` of wall time.
    static func freezeProcess(milliseconds: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: milliseconds * 1_000_000)
        var remaining = timespec()
        // Bounded: each interrupted sleep goes on with what remained, which shrinks.
        while nanosleep(&pause, &remaining) != 0 && errno == EINTR { pause = remaining }
    }

    /// A 10 MB/s source (a 4 KiB packet every ~410 µs: slow enough for a debug build under
    /// ThreadSanitizer to keep pace) into the receive driver in real time, whose consumer blocks for
    /// 50 ms as it gives back the first buffer after 20 ms of board time. Returns the workload after
    /// 200 ms of board time, the completions and the lag at 150 ms, the lag right after the stall,
    /// and whether the stall happened.
    static func run(backPressure: Bool) -> (w: ReceiveWorkload, completionsAt150: Int, lagAt150: TimeSpan, lagAfterStall: TimeSpan, froze: Bool) {
        let w = workload {
            $0.clock = .realTime
            $0.source.rateBytesPerSecond = 10_000_000
            $0.source.backPressure = backPressure
            // The consumer works 10 µs on each buffer and gives it back from a timer: the path the
            // stall is injected into.
            $0.consumer.processing = .microseconds(10)
            $0.consumer.hold = 2
        }
        let start = w.reactor.now
        let release = w.consumer.release!
        var froze = false
        var lagAfterStall = TimeSpan.zero
        w.consumer.release = { slot in
            if !froze && w.reactor.now >= start + .milliseconds(20) {
                froze = true
                w.consumer.stall(for: .milliseconds(50))
                freezeProcess(milliseconds: 50)
                w.reactor.schedule(after: .microseconds(1)) { lagAfterStall = w.reactor.lag }
            }
            release(slot)
        }
        var completionsAt150 = 0
        var lagAt150 = TimeSpan.zero
        w.reactor.schedule(at: start + .milliseconds(150)) {
            completionsAt150 = w.driver.completions
            lagAt150 = w.reactor.lag
        }
        w.run(for: .milliseconds(200))
        w.finish()
        return (w, completionsAt150, lagAt150, lagAfterStall, froze)
    }

    @Test("without back-pressure what arrives meanwhile is dropped as FIFO overflow, counted; then the run catches up")
    func dropsAreCountedAndTheRunCatchesUp() {
        let (w, completionsAt150, lagAt150, lagAfterStall, froze) = Self.run(backPressure: false)
        let r = w.report
        #expect(froze)
        #expect(lagAfterStall >= .milliseconds(45), "the board stopped with the process: lag \(lagAfterStall)")
        // 50 ms at 10 MB/s is 500 kB; the ring holds 32 KiB of it and the FIFO 16 KiB.
        #expect((r.droppedBytes["fifo-overflow"] ?? 0) > 400_000, "\(r.summary)")
        #expect(r.producedBytes == r.deliveredBytes + r.heldBytes + r.droppedBytes.values.reduce(0, +))
        #expect(r.mismatchedBytes == 0 && r.allInvariantsHold, "\(r.summary)")
        #expect(r.driverState.hasPrefix("running"))
        // Caught up: 80 ms after the stall the board is within a few ms of the wall clock, and the
        // last 50 ms saw (nearly) the 122 completions 10 MB/s of 4 KiB packets implies.
        #expect(lagAt150 < .milliseconds(5), "lag \(lagAt150)")
        #expect(r.completions - completionsAt150 >= 110, "\(r.completions - completionsAt150) completions from 150 to 200 ms")
    }

    @Test("with back-pressure nothing is dropped: the source is held meanwhile, and resumes")
    func backPressureHoldsTheSource() {
        let (w, completionsAt150, lagAt150, lagAfterStall, froze) = Self.run(backPressure: true)
        let r = w.report
        #expect(froze)
        #expect(lagAfterStall >= .milliseconds(45), "the board stopped with the process: lag \(lagAfterStall)")
        #expect(r.droppedBytes.isEmpty, "\(r.summary)")
        #expect(r.producedBytes == r.deliveredBytes + r.heldBytes)
        #expect(r.producedBytes < 200 * 10_000, "the source was held: \(r.producedBytes) bytes in 200 ms at 10 MB/s")
        #expect(r.mismatchedBytes == 0 && r.allInvariantsHold, "\(r.summary)")
        #expect(lagAt150 < .milliseconds(5), "lag \(lagAt150)")
        #expect(r.completions - completionsAt150 >= 110, "\(r.completions - completionsAt150) completions from 150 to 200 ms")
    }
}
