import Board
import Devices
import Reactor
import Testing

/// Scatter-gather mode's registers and the walk of the chain, through the bus (PG021 "Scatter
/// Gather Mode Register Address Map", MM2S_CURDESC/MM2S_TAILDESC and their S2MM twins,
/// "Descriptor Management"). Timing: 100 MHz × 4 bytes, setup 20 cycles, a fetch 16 cycles, a
/// write-back 8: a 256-byte descriptor takes 160 + 200 + 640 + 80 ns.
@Suite struct ScatterGatherRegisterTests {
    static let descriptorNanoseconds: Int64 = 160 + 200 + 640 + 80

    /// MM2S descriptors of 256 bytes each, every one a packet (SOF and EOF).
    func mm2sChain(_ bench: Bench, count: Int) -> [PhysicalAddress] {
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(Bench.buffer, with: patternBytes(.counter, count: 256 * count))
        return bench.chain(Bench.buffers(count, size: 256)) { _ in SGControl.SOF | SGControl.EOF | 256 }
    }

    @Test("after reset a scatter-gather core reads SGIncld = 1 and IRQThresholdSts = 1, both pointers 0",
          arguments: DMADirection.allCases)
    func resetValues(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        #expect(bench.read(.DMACR, direction) == 0x0001_0002)
        #expect(bench.status(direction) == DMASR.Halted | DMASR.SGIncld | 1 << 16)
        #expect(bench.read(.CURDESC, direction) == 0)
        #expect(bench.read(.TAILDESC, direction) == 0)
    }

    @Test("SA/DA and LENGTH do not exist in scatter-gather mode: their offsets read 0 and ignore writes",
          arguments: DMADirection.allCases)
    func directRegistersAbsent(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        for register in [ChannelRegister.address, .addressMSB, .LENGTH] {
            #expect(bench.dma.registerMap.register(register, of: direction) == nil)
            bench.write(register, direction, 0x1234_5678)
            #expect(bench.read(register, direction) == 0)
        }
        #expect(bench.dma.reservedAccesses == 6)
    }

    @Test("the register map names the scatter-gather registers as PG021 does, at its offsets")
    func names() {
        let map = AXIDMARegisterMap(lengthWidthBits: 23, addressWidthBits: 64, scatterGather: true)
        let expected: [(String, UInt32)] = [
            ("MM2S_DMACR", 0x00), ("MM2S_DMASR", 0x04), ("MM2S_CURDESC", 0x08), ("MM2S_CURDESC_MSB", 0x0C),
            ("MM2S_TAILDESC", 0x10), ("MM2S_TAILDESC_MSB", 0x14),
            ("S2MM_DMACR", 0x30), ("S2MM_DMASR", 0x34), ("S2MM_CURDESC", 0x38), ("S2MM_CURDESC_MSB", 0x3C),
            ("S2MM_TAILDESC", 0x40), ("S2MM_TAILDESC_MSB", 0x44),
        ]
        #expect(map.registers.map(\.name) == expected.map(\.0))
        #expect(map.registers.map(\.offset) == expected.map(\.1))
        for table in map.registers.map({ $0 as any FieldTable }) + map.descriptorWords.map({ $0 as any FieldTable }) {
            #expect(table.fields.reduce(0) { $0 + $1.width } == 32, "\(table.name) tiles 32 bits")
            #expect((0..<32).allSatisfy { table.field(atBit: $0) != nil }, "\(table.name)")
        }
        #expect(map.register(.CURDESC, of: .mm2s)?.field(atBit: 6)?.access == .readWriteWhileHalted)
        #expect(map.register(.DMASR, of: .s2mm)?.field(named: "SGIncld")?.resetValue == 1)
    }

    @Test("the descriptor table declares PG021's words and bits, and the device's constants agree with it")
    func descriptorTable() throws {
        let map = AXIDMARegisterMap(lengthWidthBits: 23, addressWidthBits: 32, scatterGather: true)
        let mm2s = map.descriptorWords.filter { $0.direction == .mm2s }
        #expect(mm2s.map(\.offset) == stride(from: UInt32(0), through: 0x30, by: 4).map { $0 })
        let control = try #require(map.descriptorWord(.CONTROL, of: .mm2s))
        #expect(control.field(named: "TXSOF")?.mask == SGControl.SOF)
        #expect(control.field(named: "TXEOF")?.mask == SGControl.EOF)
        #expect(control.field(named: "Buffer_Length")?.mask == 0x7F_FFFF)
        let status = try #require(map.descriptorWord(.STATUS, of: .s2mm))
        for (name, bit) in [("Cmplt", SGStatus.Cmplt), ("DMADecErr", SGStatus.DMADecErr), ("DMASlvErr", SGStatus.DMASlvErr),
                            ("DMAIntErr", SGStatus.DMAIntErr), ("RXSOF", SGStatus.RXSOF), ("RXEOF", SGStatus.RXEOF)] {
            #expect(status.field(named: name)?.mask == bit, "\(name)")
            #expect(status.field(named: name)?.access == .readOnly, "\(name) is written back by the engine")
        }
        #expect(map.descriptorWord(.STATUS, of: .mm2s)?.field(named: "RXSOF") == nil, "MM2S STATUS has no RXSOF")
        #expect(map.descriptorWord(.NXTDESC_MSB, of: .mm2s)?.fields.first?.note.hasPrefix("ignored") == true)
        #expect(map.listing.contains { $0.hasPrefix("BD+0x1c  S2MM_STATUS  Cmplt  RO") })
        #expect(map.listing.contains { $0.hasPrefix("0x08  MM2S_CURDESC  Current_Descriptor_Pointer[31:6]  RW/halted") })
    }

    @Test("CURDESC is written only while halted; a write while running is ignored and counted", arguments: DMADirection.allCases)
    func curdescWritableOnlyWhileHalted(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        bench.write(.CURDESC, direction, 0x0F01_0040)
        #expect(bench.read(.CURDESC, direction) == 0x0F01_0040)
        bench.write(.DMACR, direction, DMACR.RS)
        bench.write(.CURDESC, direction, 0x0F01_0080)
        #expect(bench.read(.CURDESC, direction) == 0x0F01_0040, "read only while running")
        #expect(bench.dma.channel(direction)!.counters.ignoredDescriptorPointerWrites == 1)
        bench.write(.DMACR, direction, 0)
        bench.write(.CURDESC, direction, 0x0F01_0080)
        #expect(bench.read(.CURDESC, direction) == 0x0F01_0080, "writable again once halted")
    }

    @Test("CURDESC and TAILDESC read their low 6 bits as 0: descriptors are 16-word aligned", arguments: DMADirection.allCases)
    func pointersAreAligned(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        bench.write(.CURDESC, direction, 0x0F01_007F)
        bench.write(.TAILDESC, direction, 0x0F01_00FF)
        #expect(bench.read(.CURDESC, direction) == 0x0F01_0040)
        #expect(bench.read(.TAILDESC, direction) == 0x0F01_00C0)
    }

    @Test("TAILDESC written while halted is stored and starts nothing (PG021: no effect on DMA operations)")
    func tailWhileHaltedStartsNothing() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 1)
        bench.write(.CURDESC, .mm2s, UInt32(descriptors[0].rawValue))
        bench.write(.TAILDESC, .mm2s, UInt32(descriptors[0].rawValue))
        bench.advance(by: .microseconds(10))
        #expect(bench.read(.TAILDESC, .mm2s) == UInt32(descriptors[0].rawValue))
        #expect(bench.mm2s.counters.descriptorsFetched == 0)
        #expect(bench.status(of: descriptors[0]) == 0)
    }

    @Test("a TAILDESC write fetches from CURDESC and walks the chain to the tail, which sets Idle")
    func walksToTheTail() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 4)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[2])
        bench.advance(by: .microseconds(20))
        for d in descriptors[0...2] {
            #expect(bench.status(of: d) == SGStatus.Cmplt | 256, "\(d): Cmplt and the bytes sent")
        }
        #expect(bench.status(of: descriptors[3]) == 0, "past the tail: untouched")
        #expect(bench.status(.mm2s) & (DMASR.Idle | DMASR.Halted) == DMASR.Idle, "paused, not halted")
        #expect(bench.pointer(.CURDESC, .mm2s) == descriptors[2], "CURDESC names the tail while paused")
        #expect(bench.mm2s.sinkStatistics.packets == 3)
        #expect(bench.mm2s.sinkStatistics.verifiedBytes == 768)
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
        #expect(bench.word(.APP0, of: descriptors[0]) == 0xA0, "APP words are left alone")
    }

    @Test("paused at the tail, a TAILDESC write resumes at the tail's NXTDESC")
    func resumesAfterTheTail() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 4)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[1])
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.mm2s) & DMASR.Idle != 0)
        bench.writeTail(.mm2s, descriptors[3])
        #expect(bench.status(.mm2s) & DMASR.Idle == 0, "Idle clears as the fetch starts")
        bench.advance(by: .microseconds(10))
        #expect(descriptors.allSatisfy { bench.status(of: $0) & SGStatus.Cmplt != 0 })
        #expect(bench.mm2s.counters.descriptorsFetched == 4, "the tail was not fetched twice")
        #expect(bench.pointer(.CURDESC, .mm2s) == descriptors[3])
    }

    @Test("a TAILDESC write while the engine works moves the pause point")
    func tailWriteMovesThePausePoint() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 4)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[0])
        bench.advance(by: .nanoseconds(500))  // inside the first descriptor
        bench.writeTail(.mm2s, descriptors[2])
        bench.advance(by: .microseconds(10))
        #expect(bench.status(of: descriptors[2]) & SGStatus.Cmplt != 0)
        #expect(bench.status(of: descriptors[3]) == 0)
        #expect(bench.pointer(.CURDESC, .mm2s) == descriptors[2])
    }

    @Test("CURDESC follows the descriptor being worked on, from the start of its fetch")
    func curdescFollows() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 3)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[2])
        for (i, d) in descriptors.enumerated() {
            bench.advance(by: .nanoseconds(i == 0 ? 100 : Self.descriptorNanoseconds))
            #expect(bench.pointer(.CURDESC, .mm2s) == d, "descriptor \(i)")
        }
    }

    @Test("a descriptor takes its fetch, the data and its STATUS write-back, with the profile's cycles")
    func descriptorTiming() throws {
        let bench = try Bench.scatterGather("descriptor-fetch-cycles: 30\ndescriptor-update-cycles: 12")
        let descriptors = mm2sChain(bench, count: 1)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[0])
        let total: Int64 = 300 + 200 + 640 + 120
        bench.advance(by: .nanoseconds(total - 1))
        #expect(bench.status(of: descriptors[0]) == 0)
        bench.advance(by: .nanoseconds(1))
        #expect(bench.status(of: descriptors[0]) == SGStatus.Cmplt | 256)
        #expect(bench.mm2s.descriptorFetchNanoseconds == 300)
        #expect(bench.mm2s.descriptorUpdateNanoseconds == 120)
    }

    @Test("on a 32-bit core the descriptor's MSB words are ignored")
    func msbWordsIgnoredAt32Bits() throws {
        let bench = try Bench.scatterGather()
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(Bench.buffer, with: patternBytes(.counter, count: 64))
        let d = Bench.descriptor(0)
        bench.store(TestDescriptor(next: d, buffer: Bench.buffer, control: SGControl.SOF | SGControl.EOF | 64), at: d)
        _ = bench.board.bus.write32(0x1, at: d + 0x0C, assuming: .little)  // BUFFER_ADDRESS_MSB
        bench.startChain(.mm2s, first: d, tail: d)
        bench.advance(by: .microseconds(5))
        #expect(bench.status(of: d) == SGStatus.Cmplt | 64, "read from the low 32 bits, no DMADecErr")
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
    }

    @Test("above 32 address bits the MSB words extend the pointers, and the TAILDESC_MSB write is the one that starts")
    func sixtyFourBitChain() throws {
        let bench = try Bench.scatterGather("address-width-bits: 64")
        let high = PhysicalAddress(0x1_0000_2000)
        let descriptor = PhysicalAddress(0x1_0000_1000)
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(high, with: patternBytes(.counter, count: 128))
        bench.store(TestDescriptor(next: descriptor, buffer: high, control: SGControl.SOF | SGControl.EOF | 128), at: descriptor)
        bench.write(.CURDESC, .mm2s, 0x0000_1000)
        bench.write(.CURDESC_MSB, .mm2s, 0x1)
        bench.write(.DMACR, .mm2s, Bench.runWithInterrupts)
        bench.write(.TAILDESC, .mm2s, 0x0000_1000)
        bench.advance(by: .microseconds(5))
        #expect(bench.mm2s.counters.descriptorsFetched == 0, "the low half alone starts nothing")
        bench.write(.TAILDESC_MSB, .mm2s, 0x1)
        bench.advance(by: .microseconds(5))
        #expect(bench.status(of: descriptor) == SGStatus.Cmplt | 128)
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
        #expect(bench.read(.CURDESC_MSB, .mm2s) == 1)
    }

    @Test("descriptor words are little-endian on the AXI side: one stored in the CPU's big-endian order is read byte-swapped")
    func descriptorByteOrder() throws {
        let bench = try Bench.scatterGather()
        bench.mm2s.attach(StreamSink())
        let d = Bench.descriptor(0)
        bench.store(TestDescriptor(next: d, buffer: Bench.buffer, control: SGControl.SOF | SGControl.EOF | 64), at: d, order: .big)
        bench.startChain(.mm2s, first: d, tail: d)
        bench.advance(by: .microseconds(5))
        // BUFFER_ADDRESS 0x0f00_0000 read as 0x0000_000f, CONTROL 0x0c00_0040 as 0x4000_000c
        // (length 12): the engine sends 12 bytes from address 0xf.
        let channel = bench.mm2s
        #expect(channel.sinkStatistics.bytes == 12)
        #expect(channel.counters.unalignedTransfers == 1, "0xf is not 4-byte aligned either")
        #expect(bench.status(of: d) == SGStatus.Cmplt | 12, "and writes STATUS back little-endian")
    }

    @Test("clearing RS lets the descriptor in flight finish and write back, then halts")
    func stopAfterTheDescriptorInFlight() throws {
        let bench = try Bench.scatterGather()
        let descriptors = mm2sChain(bench, count: 3)
        bench.startChain(.mm2s, first: descriptors[0], tail: descriptors[2])
        bench.advance(by: .nanoseconds(500))
        bench.write(.DMACR, .mm2s, Bench.runWithInterrupts & ~DMACR.RS)
        #expect(bench.status(.mm2s) & DMASR.Halted == 0, "still moving")
        bench.advance(by: .microseconds(10))
        #expect(bench.status(of: descriptors[0]) == SGStatus.Cmplt | 256)
        #expect(bench.status(of: descriptors[1]) == 0, "not fetched")
        #expect(bench.status(.mm2s) & DMASR.Halted != 0)
    }

    @Test("a soft reset clears CURDESC and TAILDESC and stops the walk", arguments: DMADirection.allCases)
    func softReset(direction: DMADirection) throws {
        let bench = try Bench.scatterGather()
        if direction == .s2mm { bench.s2mm.attach(StreamSource(packetSize: .fixed(256))) }
        let descriptors = direction == .mm2s ? mm2sChain(bench, count: 3) : bench.chain(Bench.buffers(3, size: 256)) { _ in 256 }
        bench.startChain(direction, first: descriptors[0], tail: descriptors[2])
        bench.advance(by: .nanoseconds(500))
        bench.write(.DMACR, direction, DMACR.Reset)
        #expect(bench.read(.CURDESC, direction) == 0)
        #expect(bench.read(.TAILDESC, direction) == 0)
        #expect(bench.status(direction) == DMASR.Halted | DMASR.SGIncld | 1 << 16)
        bench.advance(by: .microseconds(10))
        #expect(descriptors.allSatisfy { bench.status(of: $0) == 0 }, "nothing completed after the reset")
    }
}
