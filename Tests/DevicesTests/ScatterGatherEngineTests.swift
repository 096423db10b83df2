import Board
import Devices
import Reactor
import Testing
import Trace

/// Scatter-gather mode's errors, packets, interrupt coalescing and cyclic mode, through the bus
/// (PG021 DMASR SGIntErr/SGSlvErr/SGDecErr, the descriptor STATUS word, "Interrupt Coalescing",
/// DMACR Cyclic BD Enable). One 256-byte descriptor takes 1080 ns (see ScatterGatherRegisterTests).
@Suite struct ScatterGatherEngineTests {
    static let descriptorNanoseconds: Int64 = ScatterGatherRegisterTests.descriptorNanoseconds
    static let errors = DMASR.SGIntErr | DMASR.SGSlvErr | DMASR.SGDecErr | DMASR.DMAIntErr | DMASR.DMASlvErr | DMASR.DMADecErr

    /// MM2S packets of one 256-byte descriptor each; `control` adds bits to every CONTROL word.
    func mm2sPackets(_ bench: Bench, count: Int) -> [PhysicalAddress] {
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(Bench.buffer, with: patternBytes(.counter, count: 256 * count))
        return bench.chain(Bench.buffers(count, size: 256)) { _ in SGControl.SOF | SGControl.EOF | 256 }
    }

    // MARK: errors

    @Test("a fetched descriptor with Cmplt set halts with SGIntErr and is left untouched", arguments: DMADirection.allCases)
    func staleDescriptor(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        if direction == .s2mm { bench.s2mm.attach(StreamSource(packetSize: .fixed(64))) } else { bench.mm2s.attach(StreamSink()) }
        let fresh = Bench.descriptor(0), stale = Bench.descriptor(1)
        bench.store(TestDescriptor(next: stale, buffer: Bench.buffer, control: SGControl.SOF | SGControl.EOF | 64), at: fresh)
        bench.store(TestDescriptor(next: fresh, buffer: Bench.buffer + 64, control: SGControl.SOF | SGControl.EOF | 64,
                                   status: SGStatus.Cmplt | 0x55), at: stale)
        bench.startChain(direction, first: fresh, tail: stale)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(of: fresh) & SGStatus.Cmplt != 0, "the first one completed")
        let status = bench.status(direction)
        #expect(status & Self.errors == DMASR.SGIntErr)
        #expect(status & (DMASR.Err_Irq | DMASR.Halted) == DMASR.Err_Irq | DMASR.Halted)
        #expect(bench.read(.DMACR, direction) & DMACR.RS == 0, "RS cleared")
        #expect(bench.pointer(.CURDESC, direction) == stale, "CURDESC names the stale descriptor")
        #expect(bench.status(of: stale) == SGStatus.Cmplt | 0x55, "STATUS not written")
        #expect(bench.word(.CONTROL, of: stale) == SGControl.SOF | SGControl.EOF | 64)
        #expect(bench.word(.APP4, of: stale) == 0xA4)
        #expect(bench.pending(direction), "Err_IrqEn raises the line")
        #expect(bench.dma.channel(direction)!.counters.staleDescriptors == 1)
    }

    @Test("a descriptor fetch where nothing answers is SGDecErr; from a window that is not memory, SGSlvErr")
    func fetchFaults() throws {
        for (pointer, error) in [(PhysicalAddress(0x4000_0000), DMASR.SGDecErr), (Bench.base, DMASR.SGSlvErr)] {
            let bench = try Bench.scatterGather()
            bench.startChain(.mm2s, first: pointer, tail: pointer)
            bench.advance(by: .microseconds(5))
            #expect(bench.status(.mm2s) & Self.errors == error, "\(pointer)")
            #expect(bench.status(.mm2s) & DMASR.Halted != 0)
            #expect(bench.pointer(.CURDESC, .mm2s) == pointer)
        }
    }

    @Test("a refused descriptor update is SGDecErr and leaves STATUS unwritten")
    func updateFault() throws {
        let policy = RefusingPolicy(refusing: [.descriptorUpdate])
        let bench = try Bench.scatterGather(accessPolicy: policy)
        let descriptors = mm2sPackets(bench, count: 2)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[1])
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.mm2s) & Self.errors == DMASR.SGDecErr)
        #expect(bench.status(of: descriptors[0]) == 0)
        #expect(bench.pointer(.CURDESC, .mm2s) == descriptors[0])
        #expect(policy.refusals.map(\.address) == [descriptors[0] + 0x1C])
        #expect(policy.refusals.first?.writesMemory == true)
    }

    @Test("a data fault is DMADecErr or DMASlvErr in DMASR and in the descriptor's STATUS, with Cmplt", arguments: DMADirection.allCases)
    func dataFault(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        if direction == .s2mm { bench.s2mm.attach(StreamSource(packetSize: .fixed(64))) } else { bench.mm2s.attach(StreamSink()) }
        for (buffer, error) in [(PhysicalAddress(0x4000_0000), DMASR.DMADecErr), (Bench.base, DMASR.DMASlvErr)] {
            bench.write(.DMACR, direction, DMACR.Reset)
            let d = Bench.descriptor(0)
            bench.store(TestDescriptor(next: d, buffer: buffer, control: SGControl.SOF | SGControl.EOF | 64), at: d)
            bench.startChain(direction, first: d, tail: d)
            bench.advance(by: .microseconds(5))
            #expect(bench.status(direction) & Self.errors == error, "\(buffer)")
            #expect(bench.status(of: d) == SGStatus.Cmplt | error << 24, "the STATUS bit sits 24 bits above DMASR's")
            #expect(bench.pointer(.CURDESC, direction) == d)
        }
        if direction == .s2mm { #expect(bench.s2mm.accounting.balances) }
    }

    @Test("a descriptor with a buffer length of 0 is DMAIntErr", arguments: DMADirection.allCases)
    func zeroLength(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        let d = Bench.descriptor(0)
        bench.store(TestDescriptor(next: d, buffer: Bench.buffer, control: SGControl.SOF | SGControl.EOF), at: d)
        bench.startChain(direction, first: d, tail: d)
        bench.advance(by: .microseconds(5))
        #expect(bench.status(direction) & Self.errors == DMASR.DMAIntErr)
        #expect(bench.status(of: d) == SGStatus.Cmplt | SGStatus.DMAIntErr)
    }

    // MARK: packets

    @Test("an S2MM packet longer than one buffer spans descriptors: RXSOF on the first, RXEOF on the last, each with its bytes")
    func s2mmPacketSpansDescriptors() throws {
        let bench = try Bench.scatterGather()
        bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(600)))
        let descriptors = bench.chain(Bench.buffers(6, size: 256)) { _ in 256 }
        bench.startChain(.s2mm, first: descriptors[0], tail: descriptors[5])
        bench.advance(by: .microseconds(20))
        #expect(bench.status(of: descriptors[0]) == SGStatus.Cmplt | SGStatus.RXSOF | 256)
        #expect(bench.status(of: descriptors[1]) == SGStatus.Cmplt | 256)
        #expect(bench.status(of: descriptors[2]) == SGStatus.Cmplt | SGStatus.RXEOF | 88)
        #expect(bench.status(of: descriptors[3]) == SGStatus.Cmplt | SGStatus.RXSOF | 256, "the next packet starts a descriptor")
        #expect(bench.memory(at: Bench.buffer, count: 600) == patternBytes(.counter, count: 600))
        #expect(bench.memory(at: Bench.buffer + 768, count: 256) == patternBytes(.counter, count: 256, skipping: 600))
        #expect(bench.s2mm.accounting.deliveredPackets == 2, "the second packet filled descriptors 3 to 5")
        #expect(bench.s2mm.accounting.balances)
    }

    @Test("S2MM packets shorter than a buffer take one descriptor each, with RXSOF and RXEOF")
    func s2mmShortPackets() throws {
        let bench = try Bench.scatterGather()
        bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(100)))
        let descriptors = bench.chain(Bench.buffers(3, size: 256)) { _ in 256 }
        bench.startChain(.s2mm, first: descriptors[0], tail: descriptors[2])
        bench.advance(by: .microseconds(20))
        for (i, d) in descriptors.enumerated() {
            #expect(bench.status(of: d) == SGStatus.Cmplt | SGStatus.RXSOF | SGStatus.RXEOF | 100)
            #expect(bench.memory(at: Bench.buffer + UInt64(256 * i), count: 100) == patternBytes(.counter, count: 100, skipping: 100 * i))
        }
        #expect(bench.status(.s2mm) & DMASR.Idle != 0)
    }

    @Test("MM2S descriptors from SOF to EOF make one packet for the sink")
    func mm2sPacketFromSeveralDescriptors() throws {
        let bench = try Bench.scatterGather()
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(Bench.buffer, with: patternBytes(.counter, count: 768))
        let descriptors = bench.chain(Bench.buffers(3, size: 256)) { i in
            (i == 0 ? SGControl.SOF : 0) | (i == 2 ? SGControl.EOF : 0) | 256
        }
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[2])
        bench.advance(by: .microseconds(10))
        #expect(bench.mm2s.sinkStatistics.packets == 1)
        #expect(bench.mm2s.sinkStatistics.bytes == 768)
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
        #expect(descriptors.allSatisfy { bench.status(of: $0) == SGStatus.Cmplt | 256 })
    }

    // MARK: coalescing

    @Test("IRQThreshold counts completed packets down to IOC_Irq and reloads; DMASR[23:16] shows the counter")
    func thresholdCoalescing() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sPackets(bench, count: 7)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[6], control: Bench.runWithInterrupts | 3 << 16)
        #expect(bench.status(.mm2s) >> 16 & 0xFF == 3, "the threshold write loaded the counter")
        func after(_ packets: Int64) -> UInt32 {
            bench.reactor.run(until: Instant(nanosecondsSinceStart: packets * Self.descriptorNanoseconds))
            return bench.status(.mm2s)
        }
        #expect(after(2) & (DMASR.IOC_Irq | DMASR.IRQThresholdSts) == 1 << 16, "two packets: one to go, no IOC_Irq")
        #expect(!bench.pending(.mm2s))
        #expect(after(3) & (DMASR.IOC_Irq | DMASR.IRQThresholdSts) == DMASR.IOC_Irq | 3 << 16, "the third: IOC_Irq, reloaded")
        #expect(bench.pending(.mm2s))
        bench.write(.DMASR, .mm2s, DMASR.IOC_Irq)
        #expect(after(5) & (DMASR.IOC_Irq | DMASR.IRQThresholdSts) == 1 << 16)
        #expect(after(6) & DMASR.IOC_Irq != 0)
        #expect(after(7) & (DMASR.IOC_Irq | DMASR.IRQThresholdSts) == DMASR.IOC_Irq | 2 << 16)
    }

    @Test("IRQDelay raises Dly_Irq 125 × IRQDelay clock periods after the last packet; DMASR[31:24] counts the periods")
    func delayInterrupt() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sPackets(bench, count: 2)
        // Threshold 4 is never reached; delay 2: 250 cycles of 10 ns.
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[1], control: Bench.runWithInterrupts | 2 << 24 | 4 << 16)
        let end = 2 * Self.descriptorNanoseconds
        bench.reactor.run(until: Instant(nanosecondsSinceStart: end + 1_300))
        #expect(bench.status(.mm2s) & (DMASR.Dly_Irq | DMASR.IOC_Irq) == 0)
        #expect(bench.status(.mm2s) >> 24 == 1, "one 1.25 µs period elapsed")
        #expect(bench.status(.mm2s) >> 16 & 0xFF == 2, "two packets counted")
        bench.reactor.run(until: Instant(nanosecondsSinceStart: end + 2_499))
        #expect(bench.status(.mm2s) & DMASR.Dly_Irq == 0)
        bench.reactor.run(until: Instant(nanosecondsSinceStart: end + 2_500))
        #expect(bench.status(.mm2s) & DMASR.Dly_Irq != 0)
        #expect(bench.status(.mm2s) >> 16 & 0xFF == 4, "a delay interrupt reloads the threshold counter")
        #expect(bench.status(.mm2s) >> 24 == 0, "the timer stopped")
        #expect(bench.pending(.mm2s))
    }

    @Test("a new packet before IRQDelay runs out restarts the delay timer")
    func delayRestartsOnANewPacket() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sPackets(bench, count: 2)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[0], control: Bench.runWithInterrupts | 2 << 24 | 4 << 16)
        let firstEnd = Self.descriptorNanoseconds
        bench.reactor.run(until: Instant(nanosecondsSinceStart: firstEnd + 1_000))
        bench.writeTail(.mm2s, descriptors[1])
        let secondEnd = firstEnd + 1_000 + Self.descriptorNanoseconds
        bench.reactor.run(until: Instant(nanosecondsSinceStart: firstEnd + 2_600))
        #expect(bench.status(.mm2s) & DMASR.Dly_Irq == 0, "not 2.5 µs after the first packet")
        bench.reactor.run(until: Instant(nanosecondsSinceStart: secondEnd + 2_500))
        #expect(bench.status(.mm2s) & DMASR.Dly_Irq != 0, "2.5 µs after the second")
    }

    @Test("IRQDelay 0 never raises Dly_Irq")
    func noDelay() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sPackets(bench, count: 1)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[0], control: Bench.runWithInterrupts | 4 << 16)
        bench.advance(by: .milliseconds(1))
        #expect(bench.status(.mm2s) & DMASR.Dly_Irq == 0)
    }

    // MARK: cyclic mode and stopping

    @Test("in cyclic BD mode the chain loops, Cmplt is ignored and TAILDESC only triggers")
    func cyclicMode() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sPackets(bench, count: 2)
        // TAILDESC points at no descriptor of the ring, as PG034 advises for cyclic mode.
        bench.startChain(.mm2s, first: descriptors[0], tail: Bench.descriptor(8),
                         control: Bench.runWithInterrupts | DMACR.CyclicBDEnable)
        bench.advance(by: .nanoseconds(10 * Self.descriptorNanoseconds + 10))
        #expect(bench.mm2s.counters.descriptorsFetched == 10, "round and round, Cmplt set or not")
        #expect(bench.mm2s.counters.completions == 10)
        #expect(bench.pointer(.CURDESC, .mm2s) == descriptors[0], "the eleventh fetch is under way")
        #expect(bench.status(.mm2s) & (Self.errors | DMASR.Idle | DMASR.Halted) == 0)
        #expect(descriptors.allSatisfy { bench.status(of: $0) == SGStatus.Cmplt | 256 })
        bench.write(.DMACR, .mm2s, Bench.runWithInterrupts & ~DMACR.RS)
        bench.advance(by: .microseconds(5))
        #expect(bench.status(.mm2s) & DMASR.Halted != 0, "clearing RS stops the ring")
    }

    @Test("clearing RS while an S2MM descriptor waits for a packet halts at once")
    func stopWhileWaitingForData() throws {
        let bench = try Bench.scatterGather()
        let descriptors = bench.chain(Bench.buffers(2, size: 256)) { _ in 256 }
        bench.startChain(.s2mm, first: descriptors[0], tail: descriptors[1])
        bench.advance(by: .microseconds(1))
        #expect(bench.s2mm.counters.descriptorsFetched == 1)
        bench.write(.DMACR, .s2mm, 0)
        #expect(bench.status(.s2mm) & DMASR.Halted != 0)
        bench.s2mm.attach(StreamSource(packetSize: .fixed(64)))
        bench.advance(by: .microseconds(5))
        #expect(bench.status(of: descriptors[0]) == 0, "nothing written after the stop")
    }
}

/// Keeps every event a tracer records.
final class CollectingSink: TraceSink {
    private(set) var events: [TraceEvent] = []
    func declare(_ track: TraceTrack) {}
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) { events.append(event) }
    func close() throws(TraceError) {}
}

extension ScatterGatherEngineTests {
    @Test("a traced walk records each descriptor's data start (at its buffer) and its end, with its bytes")
    func traced() throws {
        let bench = try Bench.scatterGather()
        let sink = CollectingSink()
        bench.dma.tracer = Tracer(reactor: bench.reactor, sinks: [sink])
        bench.s2mm.attach(StreamSource(packetSize: .fixed(300)))
        let descriptors = bench.chain(Bench.buffers(2, size: 256)) { _ in 256 }
        bench.startChain(.s2mm, first: descriptors[0], tail: descriptors[1])
        bench.advance(by: .microseconds(10))
        let transfers = sink.events.filter {
            switch $0 {
            case .dmaStart, .dmaDone, .dmaError: true
            default: false
            }
        }
        #expect(transfers == [
            .dmaStart(channel: "dma.s2mm", address: Bench.buffer.rawValue, bytes: 256), .dmaDone(channel: "dma.s2mm", bytes: 256),
            .dmaStart(channel: "dma.s2mm", address: Bench.buffer.rawValue + 256, bytes: 44), .dmaDone(channel: "dma.s2mm", bytes: 44),
        ])
    }
}
