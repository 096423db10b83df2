import Testing
@testable import Driver

@Suite("Receive state machine (no reactor, no device)")
struct ReceiveStateMachineTests {
    typealias A = ReceiveStateMachine.Action
    let IOC = AXIDMAHeader.IOC_Irq
    let run = ReceiveStateMachine.runControl

    @Test("start resets the core, programs it, arms buffer 0 and enables the interrupt, in that order")
    func startOrder() {
        var m = ReceiveStateMachine(ringSize: 4, bufferBytes: 4096)
        #expect(m.start(eventCount: 0).array == [.resetCore, .writeControl(run), .arm(slot: 0), .enableInterrupt])
        #expect(m.state == .running(active: 0))
        #expect(m.owners == [.device, .driver, .driver, .driver])
    }

    @Test("a completion clears the cause, delivers the buffer, arms the next one, then re-enables")
    func completionOrder() {
        var m = ReceiveStateMachine(ringSize: 4, bufferBytes: 4096)
        _ = m.start(eventCount: 0)
        let actions = m.interrupt(eventCount: 1, status: IOC | AXIDMAHeader.Idle, receivedLength: 4096)
        #expect(actions.array == [.clearStatus(IOC), .deliver(slot: 0), .arm(slot: 1), .enableInterrupt])
        #expect(m.completions[0].byteCount == 4096 && m.completions[0].transfer == 1)
        #expect(m.owners == [.consumer, .device, .driver, .driver])
        #expect(m.metrics.completions == 1)
        #expect(m.metrics.bytes == 4096)
    }

    @Test("an interrupt with no cause in DMASR is spurious: counted, re-enabled, nothing else")
    func spurious() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        #expect(m.interrupt(eventCount: 1, status: AXIDMAHeader.Idle, receivedLength: 0).array == [.enableInterrupt])
        #expect(m.metrics.spuriousInterrupts == 1)
        #expect(m.state == .running(active: 0))
    }

    @Test("a count that jumps by more than one means lost interrupts")
    func lostInterrupts() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 10)
        _ = m.interrupt(eventCount: 13, status: IOC, receivedLength: 64)
        #expect(m.metrics.lostInterrupts == 2)
        _ = m.interrupt(eventCount: Int32.min, status: IOC, receivedLength: 64)  // s32 wrap-around
        #expect(m.metrics.lostInterrupts == 2 + Int(Int32.min &- 13) - 1)
    }

    @Test("a restart with nothing to read keeps the count last read; a first start takes the first count read as the baseline")
    func restartBaseline() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: nil)
        _ = m.interrupt(eventCount: 5_000, status: IOC, receivedLength: 64)
        #expect(m.metrics.lostInterrupts == 0, "the device's total before this file: not a jump")
        _ = m.stop()
        _ = m.start(eventCount: nil)
        _ = m.interrupt(eventCount: 5_001, status: IOC, receivedLength: 64)
        #expect(m.metrics.lostInterrupts == 0)
        _ = m.stop()
        _ = m.start(eventCount: nil)
        _ = m.interrupt(eventCount: 5_004, status: IOC, receivedLength: 64)
        #expect(m.metrics.lostInterrupts == 2)
    }

    @Test("when the consumer holds every buffer the driver stops arming, and re-arms on release")
    func ringFull() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: IOC, receivedLength: 64)  // 0 → consumer, 1 armed
        let second = m.interrupt(eventCount: 2, status: IOC, receivedLength: 64)  // 1 → consumer, none free
        #expect(!second.array.contains { if case .arm = $0 { return true } else { return false } })
        #expect(m.state == .running(active: nil))
        #expect(m.metrics.ringFullStalls == 1)
        #expect(m.release(slot: 1).array == [.arm(slot: 1)])
        #expect(m.state == .running(active: 1))
        #expect(m.release(slot: 0).array == [])  // one armed already: slot 0 just becomes free
        #expect(m.owners == [.driver, .device])
    }

    @Test("returning a buffer twice, or one the consumer does not hold, is refused and counted")
    func badRelease() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: IOC, receivedLength: 64)
        _ = m.release(slot: 0)
        _ = m.release(slot: 0)
        _ = m.release(slot: 1)  // the device owns it
        _ = m.release(slot: 7)
        #expect(m.metrics.badReleases == 3)
        #expect(m.owners == [.driver, .device])
    }

    @Test("an error bit resets the core and re-arms the same buffer after a back-off")
    func errorRecovery() {
        var m = ReceiveStateMachine(ringSize: 4, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        let status = AXIDMAHeader.Err_Irq | AXIDMAHeader.DMASlvErr | AXIDMAHeader.Halted
        let actions = m.interrupt(eventCount: 1, status: status, receivedLength: 0)
        #expect(actions.array == [.clearStatus(AXIDMAHeader.Err_Irq), .resetCore, .scheduleRetry(attempt: 1), .enableInterrupt])
        #expect(m.state == .recovering(attempt: 1, slot: 0))
        #expect(m.metrics.count(.slaveError) == 1)
        #expect(m.retryTimerFired().array == [.writeControl(run), .arm(slot: 0)])
        #expect(m.state == .running(active: 0))
        #expect(m.metrics.recoveries == 1)
        let failed = m.reapCompletion()
        #expect(failed?.error == .slaveError)
        #expect(failed?.isSignalled == true)
    }

    @Test("after maxRetries errors in a row the driver fails with the reason")
    func retriesExhausted() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64, maxRetries: 2)
        _ = m.start(eventCount: 0)
        let decErr = AXIDMAHeader.Err_Irq | AXIDMAHeader.DMADecErr
        for n in 1...2 {
            _ = m.interrupt(eventCount: Int32(n), status: decErr, receivedLength: 0)
            _ = m.retryTimerFired()
        }
        let last = m.interrupt(eventCount: 3, status: decErr, receivedLength: 0)
        #expect(last.array == [.clearStatus(AXIDMAHeader.Err_Irq), .resetCore])
        #expect(m.state == .failed(.decodeError, attempts: 3))
    }

    @Test("a success in between resets the retry budget")
    func successResetsBudget() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64, maxRetries: 1)
        _ = m.start(eventCount: 0)
        let intErr = AXIDMAHeader.Err_Irq | AXIDMAHeader.DMAIntErr
        for round in 0..<5 {
            _ = m.interrupt(eventCount: Int32(2 * round + 1), status: intErr, receivedLength: 0)
            _ = m.retryTimerFired()
            _ = m.interrupt(eventCount: Int32(2 * round + 2), status: IOC, receivedLength: 64)
            _ = m.release(slot: round % 2)
        }
        #expect(m.metrics.count(.internalError) == 5)
        if case .failed = m.state { Issue.record("failed although every error was followed by a success") }
    }

    @Test("the watchdog turns a stalled transfer into a timeout error and recovers")
    func watchdog() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        #expect(m.watchdogExpired().array == [.resetCore, .scheduleRetry(attempt: 1), .enableInterrupt])
        #expect(m.metrics.count(.timeout) == 1)
    }

    @Test("a received length of 0 or beyond the buffer is an error; the buffer is re-armed without a reset")
    func badLength() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        #expect(m.interrupt(eventCount: 1, status: IOC, receivedLength: 65).array == [.clearStatus(IOC), .arm(slot: 0), .enableInterrupt])
        #expect(m.metrics.count(.badLength) == 1)
        #expect(m.metrics.completions == 0)
    }

    @Test("every signalled completion is reaped once, in order, with its byte count")
    func reaping() {
        var m = ReceiveStateMachine(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: IOC, receivedLength: 10)
        _ = m.interrupt(eventCount: 2, status: IOC, receivedLength: 20)
        #expect(m.reapCompletion().map { [$0.transfer, UInt64($0.byteCount)] } == [1, 10])
        #expect(m.reapCompletion().map { [$0.transfer, UInt64($0.byteCount)] } == [2, 20])
        #expect(m.reapCompletion() == nil)
    }
}

@Suite("Completions are signalled once")
struct CompletionTests {
    @Test("signalling twice is reported, and the first signal stands")
    func signalTwice() {
        var c = Completion(transfer: 1, slot: 0)
        #expect(c.signal(byteCount: 100) == nil)
        #expect(c.signal(byteCount: 5) == .signalledTwice)
        #expect(c.byteCount == 100)
    }

    @Test("an error can be attached before the signal, not after")
    func errorBeforeSignal() {
        var ok = Completion(transfer: 1, slot: 0)
        #expect(ok.attach(.slaveError) == nil)
        #expect(ok.signal(byteCount: 64) == nil)
        #expect(ok.error == .slaveError)
        #expect(ok.byteCount == 0)  // an errored transfer delivers nothing

        var late = Completion(transfer: 2, slot: 1)
        #expect(late.signal(byteCount: 64) == nil)
        #expect(late.attach(.timeout) == .errorAfterSignal)
        #expect(late.error == nil)
    }

    @Test("the pending list keeps the newest entries and counts what it overwrote")
    func queueOverflow() {
        var q = CompletionQueue(capacity: 2)
        for t in 1...3 {
            var c = Completion(transfer: UInt64(t), slot: 0)
            _ = c.signal()
            q.append(c)
        }
        #expect(q.overwritten == 1)
        #expect(q.reap()?.transfer == 2)
        #expect(q.reap()?.transfer == 3)
        #expect(q.reap() == nil)
    }
}
