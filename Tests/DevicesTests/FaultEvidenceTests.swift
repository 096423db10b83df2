import Board
import Devices
import Reactor
import Testing

/// Every injected fault keeps a record of whether and when it took effect: a fault that never met
/// its event says it is still waiting, one that met it and could not apply says why.
@Suite struct FaultEvidenceTests {
    /// A fault of each kind that waits for a transfer, and the transfer that takes it (S2MM, 512 B).
    static let transferFaults: [AXIDMAFault] = [
        .slaveError, .decodeError, .internalError, .stall, .delayCompletion(.microseconds(3)), .shortPacket(bytes: 100),
        .corruptByte(offset: 7),
    ]

    @Test("a fault that waits for the next transfer is pending until it comes, then took effect at that board time",
          arguments: transferFaults)
    func takesEffectWithTheTransfer(fault: AXIDMAFault) throws {
        let bench = try Bench()
        let record = try bench.s2mm.inject(fault)
        bench.advance(by: .microseconds(50))
        #expect(bench.s2mm.faultEvidence[record].outcome == .pending, "no transfer yet, no source: nothing could take it")
        bench.s2mm.attach(StreamSource(packetSize: .fixed(512)))
        bench.start(.s2mm, length: 512)
        bench.advance(by: .microseconds(50))
        let evidence = bench.s2mm.faultEvidence[record]
        guard case let .tookEffect(at) = evidence.outcome else {
            Issue.record("\(fault): \(evidence.outcome)")
            return
        }
        #expect(evidence.injectedAt == .start)
        #expect(at >= Instant.start + .microseconds(50) && at <= bench.reactor.now)
    }

    @Test("the faults that act when injected took effect at once")
    func actAtOnce() throws {
        let bench = try Bench()
        bench.advance(by: .microseconds(5))
        for fault in [AXIDMAFault.delayInterrupt, .spuriousInterrupt] {
            let record = try bench.s2mm.inject(fault)
            #expect(bench.s2mm.faultEvidence[record].outcome == .tookEffect(at: Instant.start + .microseconds(5)))
        }
    }

    @Test("a corruption beyond the packet is missed, with the byte counts")
    func corruptionBeyondThePacket() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(packetSize: .fixed(512)))
        let record = try bench.s2mm.inject(.corruptByte(offset: 600))
        bench.start(.s2mm, length: 512)
        bench.advance(by: .microseconds(50))
        guard case let .missed(_, reason) = bench.s2mm.faultEvidence[record].outcome else {
            Issue.record("\(bench.s2mm.faultEvidence[record].outcome)")
            return
        }
        #expect(reason == "the transfer moved 512 bytes: offset 600 is beyond it")
        #expect(bench.s2mm.counters.corruptedBytes == 0)
    }

    @Test("a stall a soft reset clears before any transfer is missed; a second slave error replaces the first")
    func resetAndReplacement() throws {
        let bench = try Bench()
        let stall = try bench.s2mm.inject(.stall)
        bench.write(.DMACR, .s2mm, DMACR.Reset)
        #expect(bench.s2mm.faultEvidence[stall].outcome == .missed(at: .start, reason: "a soft reset cleared it before the next transfer started"))
        let first = try bench.mm2s.inject(.slaveError)
        let second = try bench.mm2s.inject(.slaveError)
        #expect(bench.mm2s.faultEvidence[first].outcome == .replaced(at: .start))
        #expect(bench.mm2s.faultEvidence[second].outcome == .pending)
    }

    @Test("a lost interrupt takes effect at the next edge, and waits while the line stays low")
    func lostInterrupt() throws {
        let bench = try Bench(s2mmSense: "rising-edge")
        let record = try bench.s2mm.inject(.lostInterrupt)
        bench.advance(by: .microseconds(20))
        #expect(bench.s2mm.faultEvidence[record].outcome == .pending)
        bench.s2mm.attach(StreamSource(packetSize: .fixed(512)))
        bench.start(.s2mm, length: 512)
        bench.advance(by: .microseconds(50))
        #expect(bench.s2mm.faultEvidence[record].tookEffect)
        #expect(bench.s2mm.counters.lostInterrupts == 1)
    }
}
