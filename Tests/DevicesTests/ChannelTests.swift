import Board
import Devices
import Reactor
import Testing

/// The datasheet's (PG021) direct-register-mode behaviour, one claim per test, both channels.
/// Everything goes through the bus; time is virtual.
@Suite struct ChannelTests {
    /// Starts a transfer of `length` bytes on `direction`; S2MM gets an unlimited source whose
    /// packets are exactly `length` bytes.
    func startTransfer(_ bench: Bench, _ direction: DMADirection, length: UInt32 = 4096,
                       control: UInt32 = Bench.runWithInterrupts, address: PhysicalAddress = Bench.buffer) {
        if direction == .s2mm && bench.s2mm.source == nil {
            bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(max(Int(length), 64))))
        }
        bench.start(direction, address: address, length: length, control: control)
    }

    @Test("after reset DMACR reads 0x00010002 and DMASR reads Halted", arguments: DMADirection.allCases)
    func resetValues(direction: DMADirection) throws {
        let bench = try Bench()
        #expect(bench.read(.DMACR, direction) == 0x0001_0002)  // bit 1 reads 1, IRQThreshold = 1
        #expect(bench.read(.DMASR, direction) == DMASR.Halted)
        #expect(bench.read(.address, direction) == 0)
        #expect(bench.read(.addressMSB, direction) == 0)
        #expect(bench.read(.LENGTH, direction) == 0)
        #expect(!bench.pending(direction))
    }

    @Test("setting RS clears Halted; clearing RS with nothing in flight sets it again", arguments: DMADirection.allCases)
    func runStop(direction: DMADirection) throws {
        let bench = try Bench()
        bench.write(.DMACR, direction, DMACR.RS)
        #expect(bench.status(direction) & DMASR.Halted == 0)
        bench.write(.DMACR, direction, 0)
        #expect(bench.status(direction) & DMASR.Halted != 0)
    }

    @Test("start sequence: RS, address, LENGTH; completion sets IOC_Irq and Idle", arguments: DMADirection.allCases)
    func startSequence(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction)
        #expect(bench.status(direction) & (DMASR.Idle | DMASR.IOC_Irq | DMASR.Halted) == 0, "running, busy")
        bench.advance(by: .microseconds(20))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle)
        #expect(bench.dma.channel(direction)!.counters.completions == 1)
    }

    @Test("a 4 KiB transfer at 100 MHz × 4 bytes completes exactly setup + 10.24 µs later", arguments: DMADirection.allCases)
    func exactTiming(direction: DMADirection) throws {
        let bench = try Bench(setupCycles: 20)  // 200 ns at 100 MHz
        bench.advance(by: .microseconds(3))  // not at time zero
        let started = bench.reactor.now
        startTransfer(bench, direction)
        let due = started + .nanoseconds(200) + .nanoseconds(10_240)
        bench.reactor.run(until: due + .nanoseconds(-1))
        #expect(bench.status(direction) & DMASR.IOC_Irq == 0, "not a nanosecond early")
        bench.reactor.run(until: due)
        #expect(bench.status(direction) & DMASR.IOC_Irq != 0, "done exactly on time")
    }

    @Test("completion raises the line only when IOC_IrqEn is set", arguments: DMADirection.allCases)
    func iocEnable(direction: DMADirection) throws {
        let quiet = try Bench()
        startTransfer(quiet, direction, control: DMACR.RS)
        quiet.advance(by: .microseconds(20))
        #expect(quiet.status(direction) & DMASR.IOC_Irq != 0)
        #expect(!quiet.pending(direction))
        // Enabling it later raises the line for the cause already there.
        quiet.write(.DMACR, direction, DMACR.RS | DMACR.IOC_IrqEn)
        #expect(quiet.pending(direction))

        let loud = try Bench()
        startTransfer(loud, direction, control: DMACR.RS | DMACR.IOC_IrqEn)
        #expect(!loud.pending(direction))
        loud.advance(by: .microseconds(20))
        #expect(loud.pending(direction))
    }

    @Test("writing 1 to IOC_Irq clears it and drops the line; writing 0 leaves it", arguments: DMADirection.allCases)
    func iocWriteOneToClear(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction)
        bench.advance(by: .microseconds(20))
        #expect(bench.pending(direction))
        bench.write(.DMASR, direction, 0)
        #expect(bench.status(direction) & DMASR.IOC_Irq != 0)
        #expect(bench.pending(direction))
        bench.write(.DMASR, direction, DMASR.IOC_Irq)
        #expect(bench.status(direction) == DMASR.Idle)
        #expect(!bench.pending(direction))
    }

    @Test("writing LENGTH while halted does nothing", arguments: DMADirection.allCases)
    func lengthWhileHalted(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction, control: DMACR.allIrqEn)  // RS = 0
        bench.advance(by: .milliseconds(1))
        #expect(bench.status(direction) == DMASR.Halted)
        #expect(!bench.pending(direction))
        #expect(!bench.dma.channel(direction)!.isBusy)
    }

    @Test("writing 0 to LENGTH while running does nothing", arguments: DMADirection.allCases)
    func zeroLength(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction, length: 0)
        bench.advance(by: .milliseconds(1))
        #expect(bench.status(direction) == 0, "running, never started, not idle")
        #expect(!bench.pending(direction))
    }

    @Test("LENGTH keeps only length-width bits; bits above are ignored", arguments: DMADirection.allCases)
    func lengthWidthMasking(direction: DMADirection) throws {
        let bench = try Bench(lengthWidthBits: 14)
        bench.write(.LENGTH, direction, 0xFFFF_FFFF)
        #expect(bench.read(.LENGTH, direction) == 0x3FFF)
        // A value with bits only above the width is a zero length: it starts nothing.
        bench.write(.DMACR, direction, Bench.runWithInterrupts)
        bench.write(.LENGTH, direction, 0x4000)
        #expect(bench.read(.LENGTH, direction) == 0)
        bench.advance(by: .milliseconds(1))
        #expect(bench.status(direction) & DMASR.Idle == 0)
        #expect(!bench.dma.channel(direction)!.isBusy)
    }

    @Test("SA/DA and their MSB registers form a 64-bit address on a core with more than 32 address bits", arguments: DMADirection.allCases)
    func sixtyFourBitAddress(direction: DMADirection) throws {
        let bench = try Bench(options: "address-width-bits: 64")
        let high = PhysicalAddress(0x1_0000_1000)
        if direction == .mm2s {
            bench.mm2s.attach(StreamSink(pattern: .counter))
            bench.fill(high, with: patternBytes(.counter, count: 256))
        }
        startTransfer(bench, direction, length: 256, address: high)
        #expect(bench.read(.address, direction) == 0x0000_1000)
        #expect(bench.read(.addressMSB, direction) == 0x1)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle)
        if direction == .s2mm {
            #expect(bench.memory(at: high, count: 256) == patternBytes(.counter, count: 256))
            #expect(bench.memory(at: PhysicalAddress(0x1000), count: 256) == [UInt8](repeating: 0, count: 256), "not at the low 32 bits")
        } else {
            #expect(bench.mm2s.sinkStatistics.verifiedBytes == 256)
            #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
        }
    }

    @Test("a soft reset mid-transfer aborts it, resets both channels and self-clears", arguments: DMADirection.allCases)
    func softResetMidTransfer(direction: DMADirection) throws {
        let bench = try Bench()
        let other: DMADirection = direction == .mm2s ? .s2mm : .mm2s
        bench.write(.DMACR, other, Bench.runWithInterrupts)
        startTransfer(bench, direction)
        bench.advance(by: .microseconds(5))
        bench.write(.DMACR, direction, Bench.runWithInterrupts | DMACR.Reset)
        for channel in DMADirection.allCases {
            #expect(bench.read(.DMACR, channel) == 0x0001_0002, "\(channel) DMACR back to reset, Reset cleared")
            #expect(bench.read(.DMASR, channel) == DMASR.Halted)
            #expect(bench.read(.LENGTH, channel) == 0)
        }
        bench.advance(by: .milliseconds(1))
        #expect(bench.status(direction) == DMASR.Halted, "the aborted transfer never completes")
        #expect(!bench.pending(direction))
        if direction == .s2mm {
            #expect(bench.s2mm.accounting.dropped[.reset] == 4096)
            #expect(bench.s2mm.accounting.balances)
        }
    }

    @Test("S2MM writes the received byte count back into LENGTH")
    func receivedCount() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(packetSize: .fixed(1000)))
        bench.start(.s2mm, length: 4096)
        bench.advance(by: .microseconds(20))
        #expect(bench.read(.LENGTH, .s2mm) == 1000)
        #expect(bench.status(.s2mm) == DMASR.IOC_Irq | DMASR.Idle)
        #expect(bench.memory(at: Bench.buffer, count: 1000) == patternBytes(.counter, count: 1000))
    }

    @Test("clearing RS mid-transfer lets it complete, then Halted is set", arguments: DMADirection.allCases)
    func stopMidTransfer(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction)
        bench.advance(by: .microseconds(5))
        bench.write(.DMACR, direction, DMACR.allIrqEn)
        #expect(bench.status(direction) & DMASR.Halted == 0, "halting waits for the transfer")
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) == DMASR.Halted | DMASR.Idle | DMASR.IOC_Irq)
    }

    @Test("a LENGTH write while a transfer is in progress is ignored", arguments: DMADirection.allCases)
    func lengthWhileBusy(direction: DMADirection) throws {
        let bench = try Bench()
        startTransfer(bench, direction)
        bench.write(.LENGTH, direction, 16)
        #expect(bench.read(.LENGTH, direction) == 4096)
        #expect(bench.dma.channel(direction)!.counters.ignoredLengthWrites == 1)
        bench.advance(by: .microseconds(20))
        #expect(bench.dma.channel(direction)!.counters.completions == 1)
    }

    @Test("the line follows the sense's polarity: a level-low line is driven low while asserted")
    func activeLowLine() throws {
        let bench = try Bench(s2mmSense: "level-low")
        #expect(bench.board.interrupts.inputLevel(of: 3) == true, "idle high")
        startTransfer(bench, .s2mm)
        bench.advance(by: .microseconds(20))
        #expect(bench.board.interrupts.inputLevel(of: 3) == false)
        #expect(bench.pending(.s2mm))
    }
}
