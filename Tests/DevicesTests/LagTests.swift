import Board
import Devices
import Reactor
import Testing

/// DMASR.Halted following DMACR.RS, and the soft reset, each after the profile's number of cycles
/// (PG021 describes both as status catching up with a control bit and gives no figure; Linux's
/// xilinx_dma_start and xilinx_dma_reset poll for them). The test board runs at 100 MHz: one cycle
/// is 10 ns.
@Suite("the AXI DMA's Halted and Reset lag")
struct LagTests {
    @Test("RS=1 clears DMASR.Halted halt-lag-cycles later, not at once", arguments: DMADirection.allCases)
    func haltedDropsAfterTheLag(direction: DMADirection) throws {
        let bench = try Bench(haltLagCycles: 4)
        bench.write(.DMACR, direction, DMACR.RS)
        #expect(bench.status(direction) & DMASR.Halted != 0, "still halted right after the write")
        bench.advance(by: .nanoseconds(39))
        #expect(bench.status(direction) & DMASR.Halted != 0)
        bench.advance(by: .nanoseconds(1))
        #expect(bench.status(direction) & DMASR.Halted == 0, "running 4 cycles (40 ns) after RS=1")
    }

    @Test("RS=0 with nothing in flight sets DMASR.Halted after the same lag", arguments: DMADirection.allCases)
    func haltedRisesAfterTheLag(direction: DMADirection) throws {
        let bench = try Bench(haltLagCycles: 4)
        bench.write(.DMACR, direction, DMACR.RS)
        bench.advance(by: .nanoseconds(40))
        bench.write(.DMACR, direction, 0)
        #expect(bench.status(direction) & DMASR.Halted == 0)
        bench.advance(by: .nanoseconds(40))
        #expect(bench.status(direction) & DMASR.Halted != 0)
    }

    @Test("LENGTH written after RS=1 but before Halted drops starts nothing; after it, the transfer runs", arguments: DMADirection.allCases)
    func lengthDuringTheLagIsLost(direction: DMADirection) throws {
        let bench = try Bench(haltLagCycles: 4)
        if direction == .s2mm { bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(256))) }
        bench.start(direction, length: 256)
        bench.advance(by: .microseconds(20))
        #expect(bench.status(direction) & DMASR.IOC_Irq == 0, "PG021: LENGTH written while halted has no effect")
        bench.write(.LENGTH, direction, 256)
        bench.advance(by: .microseconds(20))
        #expect(bench.status(direction) & DMASR.IOC_Irq != 0)
    }

    @Test("RS set and cleared again within the lag leaves the channel halted")
    func runStopWithinTheLag() throws {
        let bench = try Bench(haltLagCycles: 4)
        bench.write(.DMACR, .s2mm, DMACR.RS)
        bench.advance(by: .nanoseconds(20))
        bench.write(.DMACR, .s2mm, 0)
        bench.advance(by: .microseconds(1))
        #expect(bench.status(.s2mm) & DMASR.Halted != 0)
    }

    @Test("DMACR.Reset reads 1 for reset-cycles in both channels; writes meanwhile are ignored; then the reset values")
    func resetTakesItsCycles() throws {
        let bench = try Bench(resetCycles: 32)
        bench.write(.DMACR, .s2mm, DMACR.RS | DMACR.IOC_IrqEn)
        bench.write(.address, .s2mm, 0x1234_0000)
        bench.write(.DMACR, .s2mm, DMACR.Reset)
        #expect(bench.read(.DMACR, .s2mm) == 0x0001_0002 | DMACR.Reset)
        #expect(bench.read(.DMACR, .mm2s) == 0x0001_0002 | DMACR.Reset, "PG021: the reset is the whole core's")
        bench.write(.DMACR, .s2mm, DMACR.RS)
        bench.write(.address, .mm2s, 0x5678_0000)
        #expect(bench.dma.writesDuringReset == 2)
        bench.advance(by: .nanoseconds(319))
        #expect(bench.read(.DMACR, .s2mm) & DMACR.Reset != 0)
        bench.advance(by: .nanoseconds(1))
        for direction in DMADirection.allCases {
            #expect(bench.read(.DMACR, direction) == 0x0001_0002, "\(direction): reset value, the write during the reset lost")
            #expect(bench.read(.DMASR, direction) == DMASR.Halted)
            #expect(bench.read(.address, direction) == 0)
        }
    }

    @Test("0 cycles: Halted follows RS and the soft reset completes at once")
    func zeroLag() throws {
        let bench = try Bench(haltLagCycles: 0, resetCycles: 0)
        bench.write(.DMACR, .s2mm, DMACR.RS)
        #expect(bench.status(.s2mm) & DMASR.Halted == 0)
        bench.write(.DMACR, .s2mm, DMACR.Reset)
        #expect(bench.read(.DMACR, .s2mm) == 0x0001_0002)
    }

    @Test("a profile without the keys gets the documented defaults: 4 cycles for Halted, 32 for the reset")
    func defaults() throws {
        let profile = try BoardProfile.parse(testProfileText(haltLagCycles: nil, resetCycles: nil), file: "defaults.yaml",
                                             registry: DeviceKinds.standard)
        let parameters = try #require(profile.device(named: "dma")?.parameters(as: AXIDMAParameters.self))
        #expect(parameters.haltLagCycles == AXIDMAParameters.defaultHaltLagCycles && parameters.haltLagCycles == 4)
        #expect(parameters.resetCycles == AXIDMAParameters.defaultResetCycles && parameters.resetCycles == 32)
        let bench = try Bench(haltLagCycles: nil, resetCycles: nil)
        #expect(bench.s2mm.haltLagNanoseconds == 40)
        #expect(bench.dma.resetNanoseconds == 320)
    }

    @Test("a lag out of range is a located profile error")
    func outOfRange() {
        let text = testProfileText(haltLagCycles: 2_000_000, resetCycles: nil)
        #expect {
            _ = try BoardProfile.parse(text, file: "lag.yaml", registry: DeviceKinds.standard)
        } throws: { error in
            "\(error)".contains("lag.yaml:") && "\(error)".contains("clock cycles")
        }
    }
}
