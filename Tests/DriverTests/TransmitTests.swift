import Devices
import Driver
import Scenario
import Testing
import UIO

@Suite("Transmit state machine")
struct TransmitStateMachineTests {
    let IOC = AXIDMAHeader.IOC_Irq

    @Test("the first submitted buffer is sent at once, later ones queue in order")
    func queueing() {
        var m = TransmitStateMachine(ringSize: 3, bufferBytes: 100)
        _ = m.start(eventCount: 0)
        #expect(m.submit(slot: 0, length: 100).array == [.send(slot: 0, length: 100)])
        #expect(m.submit(slot: 2, length: 50).array == [])
        #expect(m.submit(slot: 1, length: 10).array == [])
        #expect(m.owners == [.device, .queued, .queued])
        #expect(m.interrupt(eventCount: 1, status: IOC).array
            == [.clearStatus(IOC), .send(slot: 2, length: 50), .recycle(slot: 0), .enableInterrupt])
        #expect(m.interrupt(eventCount: 2, status: IOC).array
            == [.clearStatus(IOC), .send(slot: 1, length: 10), .recycle(slot: 2), .enableInterrupt])
        #expect(m.metrics.bytes == 150)
    }

    @Test("submitting a buffer the producer does not own, or a bad length, is refused and counted")
    func badSubmit() {
        var m = TransmitStateMachine(ringSize: 2, bufferBytes: 100)
        _ = m.start(eventCount: 0)
        _ = m.submit(slot: 0, length: 100)
        _ = m.submit(slot: 0, length: 100)  // in flight
        _ = m.submit(slot: 1, length: 0)
        _ = m.submit(slot: 1, length: 101)
        #expect(m.metrics.badReleases == 3)
    }

    @Test("an error resends the same buffer after the back-off")
    func errorResends() {
        var m = TransmitStateMachine(ringSize: 2, bufferBytes: 100)
        _ = m.start(eventCount: 0)
        _ = m.submit(slot: 1, length: 60)
        let err = AXIDMAHeader.Err_Irq | AXIDMAHeader.DMASlvErr
        #expect(m.interrupt(eventCount: 1, status: err).array
            == [.clearStatus(AXIDMAHeader.Err_Irq), .resetCore, .scheduleRetry(attempt: 1), .enableInterrupt])
        #expect(m.retryTimerFired().array == [.writeControl(TransmitStateMachine.runControl), .send(slot: 1, length: 60)])
        #expect(m.metrics.recoveries == 1)
    }

    @Test("a restart resends the buffer that was in flight at the stop first (the reset ended its transfer), then the queued ones in order")
    func restartResendsInFlight() {
        var m = TransmitStateMachine(ringSize: 3, bufferBytes: 100)
        _ = m.start(eventCount: 0)
        _ = m.submit(slot: 0, length: 40)
        _ = m.submit(slot: 1, length: 50)
        #expect(m.stop().array == [.writeControl(0)])
        #expect(m.hasBufferWithDevice)
        #expect(m.start(eventCount: 0, status: AXIDMAHeader.Halted).array
            == [.resetCore, .writeControl(TransmitStateMachine.runControl), .send(slot: 0, length: 40), .enableInterrupt])
        #expect(m.owners == [.device, .queued, .producer])
        #expect(m.completions[0].transfer == 2, "a new transfer: the stopped one (transfer 1) was signalled with no bytes")
        #expect(m.interrupt(eventCount: 1, status: IOC).array
            == [.clearStatus(IOC), .send(slot: 1, length: 50), .recycle(slot: 0), .enableInterrupt])
        #expect(m.metrics.completions == 1 && m.metrics.bytes == 40)
    }

    @Test("a restart counts a transfer that completed unheard after the stop (IOC_Irq still set) and gives its buffer back instead of sending it twice")
    func restartCountsUnheardCompletion() {
        var m = TransmitStateMachine(ringSize: 3, bufferBytes: 100)
        _ = m.start(eventCount: 0)
        _ = m.submit(slot: 0, length: 40)
        _ = m.submit(slot: 1, length: 50)
        _ = m.stop()
        #expect(m.start(eventCount: 0, status: IOC | AXIDMAHeader.Idle | AXIDMAHeader.Halted).array
            == [.resetCore, .writeControl(TransmitStateMachine.runControl), .recycle(slot: 0), .send(slot: 1, length: 50), .enableInterrupt])
        #expect(m.metrics.completions == 1 && m.metrics.bytes == 40)
        #expect(m.owners == [.producer, .device, .producer])
        #expect(m.metrics.completionMisuses == 0)
    }

    @Test("a restart after the driver gave up on a buffer sends that buffer again")
    func restartAfterFailure() {
        var m = TransmitStateMachine(ringSize: 2, bufferBytes: 100, maxRetries: 0)
        _ = m.start(eventCount: 0)
        _ = m.submit(slot: 1, length: 60)
        _ = m.interrupt(eventCount: 1, status: AXIDMAHeader.Err_Irq | AXIDMAHeader.DMASlvErr)
        guard case .failed = m.state else {
            Issue.record("expected failed, is \(m.state)")
            return
        }
        _ = m.stop()
        #expect(m.start(eventCount: 1, status: AXIDMAHeader.Halted).array.contains(.send(slot: 1, length: 60)))
        #expect(m.state == .running(active: 1))
    }
}

@Suite("Transmit driver end to end (MM2S loopback into a checking sink)")
struct TransmitEndToEndTests {
    func transmit(_ board: String = "p2020-fpga", _ configure: (inout WorkloadConfiguration) -> Void = { _ in })
        -> TransmitWorkload
    {
        var c = WorkloadConfiguration()
        configure(&c)
        let w = try! TransmitWorkload(profile: profile(board), configuration: c)
        try! w.start()
        return w
    }

    @Test("20,000 buffers sent: the sink verifies every byte, the ring is reused")
    func loopback() throws {
        let w = transmit()
        try w.run(completions: 20_000)
        #expect(w.driver.metrics.completions == 20_000)
        #expect(w.channel.sinkStatistics.verifiedBytes >= 20_000 * 4096)
        #expect(w.channel.sinkStatistics.mismatchedBytes == 0)
        #expect(Set(w.producer.addressBySlot) == Set(w.driver.buffers.map(\.dmaAddress)))
        #expect(w.producer.addressChanges == 0)
        #expect(w.uio.heap.findings.totalViolations == 0)
    }

    @Test("a slow sink stretches each transfer; the driver queues, nothing is lost")
    func slowSink() throws {
        let w = transmit { $0.sink.rateBytesPerSecond = 50_000_000; $0.packetLimit = 200 }
        try w.run(completions: 200)
        #expect(w.channel.sinkStatistics.packets == 200)
        #expect(w.channel.sinkStatistics.mismatchedBytes == 0)
        // 4 KiB at 50 MB/s is 81.92 us per buffer.
        #expect(w.reactor.now.nanosecondsSinceStart >= 200 * 81_920)
    }

    @Test("each injected error is recovered by resending the buffer", arguments: [
        AXIDMAFault.slaveError, .decodeError, .internalError,
    ])
    func errorRecovered(fault: AXIDMAFault) throws {
        let w = transmit()
        try w.run(completions: 50)
        try w.channel.inject(fault)
        try w.run(completions: 100)
        #expect(w.driver.metrics.recoveries == 1)
        #expect(w.driver.metrics.totalErrors == 1)
        #expect(w.channel.sinkStatistics.mismatchedBytes == 0)
    }

    @Test("restart-driver mid-stream: the driver sends again, the buffer the reset cut off goes again, the sink verifies every byte")
    func restartMidStream() throws {
        let w = transmit()
        try w.run(completions: 100)
        #expect(w.perform(.restartDriver) == nil)
        try w.run(completions: 300)
        guard case .running = w.driver.state else {
            Issue.record("the driver is \(w.driver.state)")
            return
        }
        #expect(w.driver.completions >= 300)
        #expect(w.channel.sinkStatistics.mismatchedBytes == 0)
        // Every completion's bytes reached the sink once: the cut-off buffer's only when resent.
        #expect(w.channel.sinkStatistics.verifiedBytes == UInt64(w.driver.metrics.bytes))
    }

    @Test("on the non-coherent ML507 the producer's writes reach the device only through sync-for-device")
    func nonCoherent() throws {
        let w = transmit("ml507-ppc440")
        try w.run(completions: 1_000)
        #expect(w.channel.sinkStatistics.mismatchedBytes == 0)
        #expect(w.uio.heap.findings.totalViolations == 0)
    }
}
