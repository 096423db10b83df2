import Board
import Devices
import Foundation
import Reactor
import Testing
@testable import UIO

/// The profile's `interrupt-delivery`: the interrupt reaches the process waiting on `/dev/uioN` a
/// drawn latency after its line rises, and the line stays up meanwhile.
@Suite struct InterruptDeliveryTests {
    /// The P2020 profile with an `interrupt-delivery` section.
    static func board(_ delivery: String) throws -> Board {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
        return Board(profile: try BoardProfile.parse(text + "\ninterrupt-delivery: \(delivery)\n", file: "delayed.yaml", registry: DeviceKinds.standard))
    }

    struct DelayedRig {
        let reactor = Reactor(clock: .virtual)
        let board: Board
        let uio: UIOSystem
        init(_ delivery: String, seed: UInt64 = 1) throws {
            board = try InterruptDeliveryTests.board(delivery)
            uio = UIOSystem(board: board, reactor: reactor, stormThreshold: 1_000_000, seed: seed)
        }
        var s2mm: EmulatedUIODevice { uio.device(named: "axi-dma-s2mm")! }
        func drive(_ high: Bool) { board.interrupts.drive(line: s2mm.interruptLine!, high: high) }
    }

    @Test("the handler masks the line at once; the count and the wake-up come the latency later")
    func delayedWakeUp() throws {
        let rig = try DelayedRig("{ min: 20 us, p50: 20 us, p99: 20 us }")
        let file = rig.s2mm.open(nonBlocking: true)
        rig.drive(true)
        #expect(rig.board.interrupts.isMasked(rig.s2mm.interruptLine!), "disable_irq_nosync in the handler, at once")
        #expect(rig.s2mm.eventCount == 0)
        #expect(rig.s2mm.eventsInDelivery == 1)
        #expect(file.poll() == .success(false))
        rig.reactor.run(until: Instant(nanosecondsSinceStart: 19_999))
        #expect(file.readEventCount() == .failure(.resourceTemporarilyUnavailable))
        rig.reactor.run(until: Instant(nanosecondsSinceStart: 20_000))
        #expect(file.readEventCount() == .success(1))
        #expect(rig.s2mm.lastInterruptTime == Instant.start, "the handler ran when the line rose")
    }

    @Test("the device's line stays up until the woken driver clears it: the interrupt pulse has the latency's width")
    func pulseWidth() throws {
        let rig = try DelayedRig("{ min: 35 us, p50: 35 us, p99: 35 us }")
        let file = rig.s2mm.open()
        rig.reactor.schedule(after: .microseconds(5)) { rig.drive(true) }
        #expect(file.readEventCount() == .success(1), "a blocking read waits for the delivery")
        #expect(rig.reactor.now == Instant(nanosecondsSinceStart: 40_000))
        #expect(rig.board.interrupts.inputLevel(of: rig.s2mm.interruptLine!), "still asserted when the driver runs")
        rig.drive(false)  // the driver's W1C
        #expect(rig.board.interrupts.counters(of: rig.s2mm.interruptLine!).raised == 1)
    }

    @Test("interrupts that arrive while one is on its way are counted when it lands")
    func interruptsDuringDelivery() throws {
        let rig = try DelayedRig("{ min: 10 us, p50: 10 us, p99: 10 us }")
        rig.drive(true)
        rig.drive(false)
        let file = rig.s2mm.open()
        guard case .success = file.setInterruptEnabled(true) else {  // re-enabled without a read
            Issue.record("enable failed")
            return
        }
        rig.reactor.run(until: Instant(nanosecondsSinceStart: 3_000))
        rig.drive(true)
        #expect(rig.s2mm.eventsInDelivery == 2)
        rig.reactor.run(until: Instant(nanosecondsSinceStart: 10_000))
        #expect(rig.s2mm.eventCount == 2)
        #expect(rig.s2mm.eventsInDelivery == 0)
    }

    /// Delivers `count` interrupts one after the other and returns each latency in nanoseconds.
    func latencies(_ delivery: String, seed: UInt64, count: Int) throws -> [Int64] {
        let rig = try DelayedRig(delivery, seed: seed)
        let file = rig.s2mm.open()
        var result: [Int64] = []
        for _ in 0..<count {
            let raised = rig.reactor.now
            rig.drive(true)
            guard case .success = file.readEventCount() else { break }
            result.append((rig.reactor.now - raised).nanoseconds)
            rig.drive(false)
            _ = file.setInterruptEnabled(true)
        }
        return result
    }

    @Test("latencies are drawn from the seed between min and max, with the profile's median and 99th percentile")
    func distribution() throws {
        let delivery = "{ min: 20 us, p50: 40 us, p99: 120 us, max: 200 us }"
        let drawn = try latencies(delivery, seed: 7, count: 4_000).sorted()
        #expect(drawn.count == 4_000)
        #expect(drawn.first! >= 20_000 && drawn.last! <= 200_000)
        #expect(abs(drawn[2_000] - 40_000) < 3_000, "median \(drawn[2_000])")
        #expect(abs(drawn[3_960] - 120_000) < 12_000, "99th percentile \(drawn[3_960])")
        #expect(try latencies(delivery, seed: 7, count: 50) == Array(try latencies(delivery, seed: 7, count: 50)), "same seed, same draws")
        #expect(try latencies(delivery, seed: 7, count: 50) != (try latencies(delivery, seed: 8, count: 50)), "another seed, other draws")
    }

    @Test("the quantiles are joined by straight lines; max defaults to p99 + (p99 - p50)")
    func quantileInterpolation() {
        let d = InterruptDelivery(minimumNanoseconds: 10, p50Nanoseconds: 30, p99Nanoseconds: 100)
        #expect(d.maximumNanoseconds == 170)
        #expect(d.latencyNanoseconds(atPartsPerMillion: 0) == 10)
        #expect(d.latencyNanoseconds(atPartsPerMillion: 250_000) == 20)
        #expect(d.latencyNanoseconds(atPartsPerMillion: 500_000) == 30)
        #expect(d.latencyNanoseconds(atPartsPerMillion: 990_000) == 100)
        #expect(d.latencyNanoseconds(atPartsPerMillion: 999_999) == 169)
        #expect(InterruptDelivery.immediate.isImmediate)
    }

    @Test("interrupt-delivery is checked: durations with units, quantiles in order; board show prints it")
    func profileKey() throws {
        for (delivery, message) in [
            ("{ min: 20, p50: 30 us, p99: 40 us }", "expected a duration"),
            ("{ min: 20 us, p50: 10 us, p99: 40 us }", "p50 (10 us) is below min (20 us)"),
            ("{ min: 1 us, p50: 2 us, p99: 3 us, max: 2 us }", "max (2 us) is below p99 (3 us)"),
            ("{ min: 1 us, p50: 2 us }", "p99"),
            ("{ min: 1 us, p50: 2 us, p99: 3 us, p90: 2 us }", "p90"),
        ] {
            do {
                _ = try Self.board(delivery)
                Issue.record("\(delivery) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(delivery): \(error)")
            }
        }
        let board = try Self.board("{ min: 20 us, p50: 35 us, p99: 80 us }")
        #expect(board.profile.interruptDelivery == InterruptDelivery(minimumNanoseconds: 20_000, p50Nanoseconds: 35_000, p99Nanoseconds: 80_000))
        #expect(BoardReport(profile: board.profile).text.contains("interrupt delivery to userspace: min 20 us, p50 35 us, p99 80 us, max 125 us"))
        #expect(shippedBoard("p2020-fpga").profile.interruptDelivery.isImmediate, "the shipped boards deliver at once (boards/README.md)")
    }
}
