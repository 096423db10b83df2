import Board
import Devices
import Driver
import Reactor
import Scenario
import Testing
import UIO

@Suite("Scatter-gather receive driver on the emulated board")
struct SGReceiveEndToEndTests {
    @Test("the ring and its buffers are allocated once, every byte arrives verified, and descriptors are little-endian in memory")
    func steadyStream() throws {
        let w = sgWorkload { $0.driver.ringSize = 8; $0.driver.coalescing = .init(threshold: 4, delay: 10) }
        let buffersAtStart = w.uio.heap.liveBuffers.count
        try w.run(completions: 500)
        #expect(w.uio.heap.liveBuffers.count == buffersAtStart && buffersAtStart == 9, "8 buffers and one descriptor ring")
        let v = w.consumer.statistics
        #expect(v.mismatchedBytes == 0 && v.verifiedBytes == v.receivedBytes && v.receivedBytes == UInt64(w.driver.metrics.bytes))
        #expect(v.unexplainedGaps == 0 && v.skippedPackets == 0)
        #expect(w.consumer.statistics.addressChanges == 0)
        // Descriptor 0's NXTDESC, read as the AXI side does (little-endian), names descriptor 1.
        let next = try w.board.bus.read32(at: PhysicalAddress(w.driver.descriptorAddress(0)), assuming: .little).get()
        #expect(UInt64(next) == w.driver.descriptorAddress(1))
        #expect(w.channel.counters.staleDescriptors == 0)
    }

    @Test("IRQThreshold 4 gives one interrupt per four packets")
    func coalescing() throws {
        let w = sgWorkload { $0.driver.ringSize = 16; $0.driver.coalescing = .init(threshold: 4) }
        try w.run(completions: 400)
        let interrupts = w.uioDevice.eventCount
        #expect(interrupts >= 99 && interrupts <= 101, "\(interrupts) interrupts for \(w.completions) completions")
    }

    @Test("a stale descriptor halts the engine with SGIntErr; the driver resets, rebuilds the chain and goes on with no byte unexplained")
    func staleDescriptorRecovery() throws {
        let w = sgWorkload { $0.driver.ringSize = 8 }
        try w.run(completions: 50)
        try w.channel.inject(.staleDescriptor)
        try w.run(completions: 200)
        #expect(w.channel.counters.staleDescriptors == 1)
        #expect(w.driver.metrics.count(.staleDescriptor) == 1 && w.driver.metrics.recoveries == 1)
        #expect(w.consumer.statistics.mismatchedBytes == 0 && w.consumer.statistics.unexplainedGaps == 0)
        #expect(w.problems.isEmpty, "\(w.problems)")
    }

    @Test("a slow consumer holding buffers stalls the ring without losing a byte it was given; the source's drops are counted")
    func slowConsumer() throws {
        let w = sgWorkload {
            $0.driver.ringSize = 4
            $0.consumer = .init(processing: .microseconds(40), hold: 4)
        }
        w.run(for: .milliseconds(2))
        let v = w.consumer.statistics
        #expect(v.mismatchedBytes == 0 && v.unexplainedGaps == 0 && v.verifiedBytes == v.receivedBytes)
        #expect(w.driver.metrics.ringFullStalls > 0)
        #expect(w.problems.isEmpty, "\(w.problems)")
    }
}
