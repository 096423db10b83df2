import Testing
@testable import Driver

@Suite("Scatter-gather receive state machine (no reactor, no device)")
struct SGReceiveStateMachineTests {
    typealias M = SGReceiveStateMachine
    let IOC = AXIDMAHeader.IOC_Irq
    let Dly = AXIDMAHeader.Dly_Irq
    let Err = AXIDMAHeader.Err_Irq
    let Cmplt = AXIDMAHeader.Descriptor.Cmplt
    let SOFEOF = AXIDMAHeader.Descriptor.RXSOF | AXIDMAHeader.Descriptor.RXEOF

    /// Feeds a reap the way the shell does: STATUS of each candidate from `statuses` (missing: not
    /// complete), each slot's actions, then `reapDone()`. Returns every action in order.
    func reap(_ m: inout M, _ statuses: [Int: UInt32], release: Bool = true) -> [M.Action] {
        var all: [M.Action] = []
        for _ in 0..<m.ringSize {
            guard let slot = m.reapCandidate, let status = statuses[slot], status & Cmplt != 0 else { break }
            for action in m.descriptorCompleted(slot: slot, status: status) {
                all.append(action)
                if case let .deliver(s) = action, release { all += m.release(slot: s).array }
            }
        }
        return all + m.reapDone().array
    }

    @Test("start resets, writes the ring, CURDESC while halted, then DMACR with RS and the coalescing fields, TAILDESC last, then enables")
    func startOrder() {
        var m = M(ringSize: 4, bufferBytes: 4096, coalescing: .init(threshold: 3, delay: 7))
        let control = m.runControl
        #expect(m.start(eventCount: 0).array == [.resetCore, .writeChain, .writeCurrent(slot: 0), .writeControl(control),
                                                 .writeTail(slot: 3), .enableInterrupt])
        #expect(control & AXIDMAHeader.RS != 0 && control & AXIDMAHeader.IOC_IrqEn != 0 && control & AXIDMAHeader.Dly_IrqEn != 0
            && control & AXIDMAHeader.Err_IrqEn != 0)
        #expect(control >> 16 & 0xFF == 3, "IRQThreshold")
        #expect(control >> 24 == 7, "IRQDelay")
        #expect(control & AXIDMAHeader.CyclicBDEnable == 0)
        #expect(m.owners == [.device, .device, .device, .device] && m.inChain == 4)
    }

    @Test("IOC_Irq clears the cause and reaps from head while Cmplt is set, each buffer delivered, recycled and TAILDESC written once")
    func reapInOrder() {
        var m = M(ringSize: 4, bufferBytes: 4096, coalescing: .init(threshold: 2))
        _ = m.start(eventCount: 0)
        #expect(m.interrupt(eventCount: 1, status: IOC, currentSlot: nil).array == [.clearStatus(IOC), .reap])
        let actions = reap(&m, [0: Cmplt | SOFEOF | 4096, 1: Cmplt | SOFEOF | 100])
        #expect(actions == [.deliver(slot: 0), .recycle(from: 0, count: 1), .deliver(slot: 1), .recycle(from: 1, count: 1),
                            .writeTail(slot: 1), .enableInterrupt])
        let first = m.reapCompletion(), second = m.reapCompletion()
        #expect(first?.byteCount == 4096 && first?.slot == 0 && first?.transfer == 1)
        #expect(second?.byteCount == 100 && second?.slot == 1 && second?.transfer == 2)
        #expect(m.completions[0].transfer == 5 && m.completions[1].transfer == 6, "recycled: the next transfers in those slots")
        #expect(m.head == 2 && m.tail == 1 && m.inChain == 4)
        #expect(m.metrics.completions == 2 && m.metrics.bytes == 4196)
    }

    @Test("Dly_Irq reaps too (the tail below the threshold) and is counted")
    func delayReaps() {
        var m = M(ringSize: 4, bufferBytes: 4096, coalescing: .init(threshold: 4, delay: 10))
        _ = m.start(eventCount: 0)
        #expect(m.interrupt(eventCount: 1, status: Dly, currentSlot: nil).array == [.clearStatus(Dly), .reap])
        _ = reap(&m, [0: Cmplt | SOFEOF | 64])
        #expect(m.metrics.delayInterrupts == 1 && m.metrics.completions == 1)
    }

    @Test("a buffer the consumer keeps stays out of the chain; the tail moves only over buffers back in ring order")
    func keptBuffers() {
        var m = M(ringSize: 3, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: IOC, currentSlot: nil)
        let all = [0: Cmplt | SOFEOF | 64, 1: Cmplt | SOFEOF | 64, 2: Cmplt | SOFEOF | 64]
        #expect(reap(&m, all, release: false) == [.deliver(slot: 0), .deliver(slot: 1), .deliver(slot: 2), .enableInterrupt])
        #expect(m.inChain == 0 && m.state == .running(active: nil) && m.metrics.ringFullStalls == 1)
        #expect(m.release(slot: 1).array == [], "slot 0 is still with the consumer: the tail cannot skip it")
        #expect(m.release(slot: 0).array == [.recycle(from: 0, count: 2), .writeTail(slot: 1)])
        #expect(m.owners == [.device, .device, .consumer] && m.state == .running(active: 0))
        #expect(m.release(slot: 0).array == [] && m.metrics.badReleases == 1)
    }

    @Test("SGIntErr: the descriptors before the one CURDESC names are delivered, it is abandoned with the error, the core reset, then the chain rebuilt from it")
    func staleDescriptor() {
        var m = M(ringSize: 4, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        let status = AXIDMAHeader.SGIntErr | Err | AXIDMAHeader.Halted
        #expect(m.interrupt(eventCount: 1, status: status, currentSlot: 1).array == [.clearStatus(Err), .reap])
        // Slot 1 is the stale one: its STATUS holds an old Cmplt, which must not be delivered again.
        let actions = reap(&m, [0: Cmplt | SOFEOF | 64, 1: Cmplt | SOFEOF | 64])
        #expect(actions == [.deliver(slot: 0), .recycle(from: 0, count: 1), .resetCore, .scheduleRetry(attempt: 1), .enableInterrupt])
        #expect(m.state == .recovering(attempt: 1, slot: 1))
        #expect(m.completions[1].error == .staleDescriptor && m.completions[1].isSignalled)
        #expect(m.metrics.count(.staleDescriptor) == 1)
        #expect(m.retryTimerFired().array == [.writeChain, .writeCurrent(slot: 1), .writeControl(m.runControl), .writeTail(slot: 0)])
        #expect(m.owners == [.device, .device, .device, .device] && m.head == 1 && m.metrics.recoveries == 1)
    }

    @Test("a data error in a descriptor's STATUS ends the reap there; after max-retries errors in a row the driver gives up")
    func dataErrorsAndGivingUp() {
        var m = M(ringSize: 2, bufferBytes: 64, maxRetries: 1)
        _ = m.start(eventCount: 0)
        let slave = AXIDMAHeader.DMASlvErr | Err
        _ = m.interrupt(eventCount: 1, status: slave, currentSlot: 0)
        _ = reap(&m, [0: Cmplt | AXIDMAHeader.Descriptor.DMASlvErr])
        #expect(m.state == .recovering(attempt: 1, slot: 0))
        _ = m.retryTimerFired()
        _ = m.interrupt(eventCount: 2, status: slave, currentSlot: 0)
        #expect(reap(&m, [0: Cmplt | AXIDMAHeader.Descriptor.DMASlvErr]) == [.resetCore])
        #expect(m.state == .failed(.slaveError, attempts: 2))
    }

    @Test("found by explore: stop abandons every descriptor still in the chain, in ring order, each signalled with no bytes; the consumer's buffer stays its own; a start rebuilds the chain from head with new transfers")
    func stopAbandonsTheChain() {
        var m = M(ringSize: 4, bufferBytes: 4096, coalescing: .init(threshold: 4))
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: Dly, currentSlot: nil)
        _ = reap(&m, [0: Cmplt | SOFEOF | 4096], release: false)
        #expect(m.reapCompletion()?.transfer == 1)
        // Slots 1-3 in the chain (say 1 and 2 completed unreaped: the threshold holds IOC back).
        #expect(m.stop().array == [.writeControl(0)])
        let abandoned = [m.reapCompletion(), m.reapCompletion(), m.reapCompletion()]
        #expect(abandoned.map { $0?.slot } == [1, 2, 3] && abandoned.allSatisfy { $0?.byteCount == 0 }, "\(abandoned)")
        #expect(m.reapCompletion() == nil)
        #expect(m.owners == [.consumer, .driver, .driver, .driver] && m.inChain == 0)
        #expect(m.start(eventCount: 1).array == [.resetCore, .writeChain, .writeCurrent(slot: 1), .writeControl(m.runControl),
                                                 .writeTail(slot: 3), .enableInterrupt])
        #expect(m.owners == [.consumer, .device, .device, .device] && m.completions[1].transfer == 5)
        #expect(m.metrics.completions == 1 && m.metrics.completionMisuses == 0)
    }

    @Test("cyclic mode sets DMACR bit 4, writes TAILDESC only to start, and a buffer back rejoins the loop without a TAILDESC write")
    func cyclic() {
        var m = M(ringSize: 3, bufferBytes: 64, cyclic: true)
        #expect(m.start(eventCount: 0).array.filter { if case .writeTail = $0 { return true } else { return false } }.count == 1)
        #expect(m.runControl & AXIDMAHeader.CyclicBDEnable != 0)
        _ = m.interrupt(eventCount: 1, status: IOC, currentSlot: nil)
        #expect(reap(&m, [0: Cmplt | SOFEOF | 64]) == [.deliver(slot: 0), .recycle(from: 0, count: 1), .enableInterrupt])
    }

    @Test("a completed descriptor of length 0 or beyond the buffer is a bad length: abandoned and put back, not delivered")
    func badLength() {
        var m = M(ringSize: 2, bufferBytes: 64)
        _ = m.start(eventCount: 0)
        _ = m.interrupt(eventCount: 1, status: IOC, currentSlot: nil)
        #expect(reap(&m, [0: Cmplt | SOFEOF | 65]) == [.recycle(from: 0, count: 1), .writeTail(slot: 0), .enableInterrupt])
        #expect(m.metrics.count(.badLength) == 1 && m.completions[1].transfer == 2)
    }
}
