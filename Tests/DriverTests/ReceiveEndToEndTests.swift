import Devices
import Driver
import Reactor
import Scenario
import Testing
import UIO

/// The receive driver on the emulated P2020 in virtual time, through every layer.
@Suite("Receive driver end to end on p2020-fpga")
struct ReceiveEndToEndTests {
    @Test("100,000 completions: every byte verified, buffers cycling through exactly the ring")
    func hundredThousandCompletions() throws {
        let w = workload { $0.driver.ringSize = 8 }
        try w.run(completions: 100_000)
        let r = w.report
        #expect(r.completions == 100_000)
        #expect(r.verifiedBytes == 100_000 * 4096)
        #expect(r.mismatchedBytes == 0)
        #expect(Set(w.consumer.addressBySlot) == Set(w.driver.buffers.map(\.dmaAddress)))
        #expect(w.consumer.addressBySlot.count == 8)
        #expect(w.uio.heap.liveBuffers.count == 8)
        #expect(w.uio.heap.allocationsAfterStart == 0)
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("restarting the driver mid-stream loses no interrupt (soak finding: each restart counted every interrupt since boot as lost)")
    func restartLosesNothing() throws {
        let w = workload()
        try w.run(completions: 1_000)
        for round in 1...3 {
            #expect(w.perform(.restartDriver) == nil)
            try w.run(completions: 1_000 * (round + 1))
        }
        let r = w.report
        #expect(r.lostInterrupts == 0, "\(r.summary)")
        #expect(r.completions == 4_000)
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("PRBS-31 data with random packet sizes is verified byte for byte")
    func prbsVariablePackets() throws {
        let w = workload(seed: 99) {
            $0.pattern = .prbs31()
            $0.source.packetSize = .range(64...4096)
        }
        try w.run(completions: 5_000)
        let r = w.report
        #expect(r.mismatchedBytes == 0)
        #expect(r.verifiedBytes == UInt64(r.bytes))
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("a slow consumer: the ring fills, the device drops with a reason, nothing is lost silently")
    func slowConsumer() {
        let w = workload {
            $0.source.rateBytesPerSecond = 400_000_000  // a 4 KiB packet every 10.24 us
            $0.consumer.processing = .microseconds(200)
            $0.consumer.hold = 8
        }
        w.run(for: .milliseconds(20))
        let r = w.report
        #expect(r.ringFullStalls > 0)
        #expect((r.droppedBytes["fifo-overflow"] ?? 0) > 0)
        #expect(r.producedBytes == r.deliveredBytes + r.heldBytes + r.droppedBytes.values.reduce(0, +))
        #expect(r.mismatchedBytes == 0)  // the checker skipped exactly the dropped packets
        #expect(w.consumer.statistics.skippedBytes > 0)
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("each injected DMA error is recovered: reset, re-arm, and the stream goes on", arguments: [
        AXIDMAFault.slaveError, .decodeError, .internalError,
    ])
    func errorRecovered(fault: AXIDMAFault) throws {
        let w = workload()
        try w.run(completions: 100)
        try w.channel.inject(fault)
        try w.run(completions: 200)
        let r = w.report
        #expect(r.recoveries == 1)
        #expect(r.errors.values.reduce(0, +) == 1)
        if case .running = w.driver.state {} else { Issue.record("driver is \(w.driver.state), not running") }
        #expect(r.completions == 200)
        #expect(r.mismatchedBytes == 0)
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("a stalled engine is caught by the watchdog and recovered")
    func stallRecovered() throws {
        let w = workload { $0.driver.watchdog = .microseconds(100) }
        try w.run(completions: 10)
        try w.channel.inject(.stall)
        try w.run(completions: 50)
        let r = w.report
        #expect(r.errors["timeout"] == 1)
        #expect(r.recoveries == 1)
        #expect(r.completions == 50)
        #expect(r.allInvariantsHold, "\(r.summary)")
    }

    @Test("a spurious interrupt (line pulsed, no status bit) is counted and survived")
    func spuriousInterrupt() throws {
        let w = workload()
        try w.run(completions: 10)
        try w.channel.inject(.spuriousInterrupt)
        try w.run(completions: 20)
        #expect(w.driver.metrics.spuriousInterrupts == 1)
        #expect(w.report.allInvariantsHold, "\(w.report.summary)")
    }

    @Test("a lost interrupt (edge line) is counted by the device and recovered by the watchdog")
    func lostInterrupt() throws {
        let w = workload(edgeTriggeredP2020()) { $0.driver.watchdog = .microseconds(100) }
        try w.run(completions: 10)
        try w.channel.inject(.lostInterrupt)
        try w.run(completions: 30)
        #expect(w.channel.counters.lostInterrupts == 1)
        #expect(w.driver.metrics.count(.timeout) == 1)
        #expect(w.report.completions == 30)
        #expect(w.report.mismatchedBytes == 0)
    }

    @Test("a level line cannot lose its level: the fault is refused with the reason")
    func lostInterruptOnLevelLine() {
        let w = workload()
        #expect(throws: FaultRejection.self) { try w.channel.inject(.lostInterrupt) }
    }

    @Test("a planted driver bug (enable before W1C) is caught as enables with the cause asserted, not as a storm")
    func plantedBugCaught() throws {
        let w = workload { $0.driver.enableBeforeClearForTesting = true }
        try w.run(completions: 1_000)
        let r = w.report
        #expect(w.uioDevice.enablesWithCauseAsserted >= 1_000)
        let enables = r.invariants.first { $0.name == "no enable with the cause asserted" }
        #expect(enables?.holds == false)
        #expect(r.invariants.first { $0.name == "no level-interrupt storm" }?.holds == true)
        // The same run with the correct order is clean.
        let good = workload()
        try good.run(completions: 1_000)
        #expect(good.uioDevice.enablesWithCauseAsserted == 0)
    }

    @Test("the driver never calls the consumer with a buffer the device still owns (sync-for-cpu first)")
    func ownershipRespected() throws {
        let w = workload(profile("ml507-ppc440"))  // non-coherent: mistakes would show as violations
        try w.run(completions: 2_000)
        #expect(w.uio.heap.findings.totalViolations == 0)
        #expect(w.report.mismatchedBytes == 0)
        #expect(w.report.allInvariantsHold, "\(w.report.summary)")
    }
}
