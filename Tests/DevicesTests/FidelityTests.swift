import Board
import Devices
import Reactor
import Testing

/// Direct register mode, checked against PG021 where the first model was looser: the address
/// width (c_addr_width), IRQThreshold written as 0, and buffers not aligned to the data width on a
/// core without the Data Realignment Engine.
@Suite struct FidelityTests {
    // MARK: address width

    @Test("on a 32-bit core SA_MSB and DA_MSB read 0 and ignore writes; the transfer uses the low 32 bits",
          arguments: DMADirection.allCases)
    func msbRegistersAbsentAt32Bits(direction: DMADirection) throws {
        let bench = try Bench()  // address-width-bits defaults to 32
        #expect(bench.dma.registerMap.register(.addressMSB, of: direction) == nil)
        let channel = try #require(bench.dma.channel(direction))
        if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(64))) } else { channel.attach(StreamSink()) }
        bench.write(.DMACR, direction, Bench.runWithInterrupts)
        bench.write(.address, direction, UInt32(Bench.buffer.rawValue))
        bench.write(.addressMSB, direction, 0x1)  // would point at 4 GiB + buffer on a 64-bit core
        #expect(bench.read(.addressMSB, direction) == 0)
        bench.write(.LENGTH, direction, 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle, "no DMADecErr: the MSB write went nowhere")
        #expect(channel.address == Bench.buffer)
        #expect(bench.dma.reservedAccesses == 2)
    }

    @Test("the MSB registers exist exactly when the address width is above 32 bits, in both modes")
    func msbRegistersFollowTheWidth() {
        for sg in [false, true] {
            for bits in [32, 33, 40, 64] {
                let map = AXIDMARegisterMap(lengthWidthBits: 23, addressWidthBits: bits, scatterGather: sg)
                let msb = map.registers.filter { $0.register.isMSB }.map(\.name)
                let expected = bits > 32 ? (sg ? ["MM2S_CURDESC_MSB", "MM2S_TAILDESC_MSB", "S2MM_CURDESC_MSB", "S2MM_TAILDESC_MSB"]
                                               : ["MM2S_SA_MSB", "S2MM_DA_MSB"]) : []
                #expect(msb == expected, "scatter-gather \(sg), \(bits) bits")
            }
        }
    }

    @Test("address-width-bits must be 32 to 64; dre and scatter-gather are booleans")
    func profileKeysAreChecked() {
        for (options, message) in [
            ("address-width-bits: 31", "expected an address width in bits from 32 to 64, found 31"),
            ("address-width-bits: 65", "expected an address width in bits from 32 to 64, found 65"),
            ("dre: maybe", "expected true or false"),
            ("scatter-gather: 1", "expected true or false"),
            ("descriptor-fetch-cycles: 4", "'descriptor-fetch-cycles' applies to a scatter-gather core"),
        ] {
            do {
                _ = try BoardProfile.parse(testProfileText(options: options), file: "t.yaml", registry: DeviceKinds.standard)
                Issue.record("'\(options)' was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(options): \(error)")
            }
        }
    }

    // MARK: IRQThreshold

    @Test("DMACR.IRQThreshold written as 0 keeps its value (PG021: the minimum is 0x01, a write of 0x00 has no effect)",
          arguments: DMADirection.allCases, ["", "scatter-gather: true"])
    func thresholdZeroHasNoEffect(direction: DMADirection, options: String) throws {
        let bench = try Bench(options: options)
        #expect(bench.read(.DMACR, direction) >> 16 & 0xFF == 1, "reset value 1")
        bench.write(.DMACR, direction, 0x0005_0000)
        #expect(bench.read(.DMACR, direction) >> 16 & 0xFF == 5)
        bench.write(.DMACR, direction, 0x0000_1000)
        #expect(bench.read(.DMACR, direction) >> 16 & 0xFF == 5, "0 written: still 5")
        #expect(bench.read(.DMACR, direction) & DMACR.IOC_IrqEn != 0, "the rest of the write took effect")
        let field = try #require(bench.dma.registerMap.register(.DMACR, of: direction)?.field(named: "IRQThreshold"))
        #expect(field.access == .readWriteNonZero)
    }

    // MARK: data realignment

    @Test("without DRE, MM2S from an address off the data width reads from the address rounded down")
    func unalignedMM2SWithoutDRE() throws {
        let bench = try Bench()  // 4-byte data width, no DRE
        bench.mm2s.attach(StreamSink(pattern: .counter))
        bench.fill(Bench.buffer, with: patternBytes(.counter, count: 256))
        bench.start(.mm2s, address: Bench.buffer + 2, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.mm2s) == DMASR.IOC_Irq | DMASR.Idle, "no error: the core does not notice")
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0, "the sink got the 64 bytes from the aligned address")
        #expect(bench.mm2s.counters.unalignedTransfers == 1)
    }

    @Test("without DRE, S2MM to an address off the data width loses the packet's first bytes on the strobed-off lanes")
    func unalignedS2MMWithoutDRE() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(64)))
        bench.fill(Bench.buffer, with: [UInt8](repeating: 0xEE, count: 80))
        bench.start(.s2mm, address: Bench.buffer + 3, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.s2mm) == DMASR.IOC_Irq | DMASR.Idle)
        #expect(bench.read(.LENGTH, .s2mm) == 64, "LENGTH counts the stream bytes taken")
        let memory = bench.memory(at: Bench.buffer, count: 80)
        #expect(Array(memory[0..<3]) == [0xEE, 0xEE, 0xEE], "nothing below the address")
        // Stream byte i lands at (address rounded down) + i: bytes 3..63 from the address on.
        #expect(Array(memory[3..<64]) == Array(patternBytes(.counter, count: 64)[3..<64]))
        #expect(Array(memory[64..<80]) == [UInt8](repeating: 0xEE, count: 16), "nothing past the aligned end")
        #expect(bench.s2mm.counters.unalignedTransfers == 1)
        #expect(bench.s2mm.accounting.dropped[.unalignedWithoutDRE] == 3)
        #expect(bench.s2mm.accounting.balances)
    }

    @Test("with dre: true an unaligned address moves the bytes exactly where it says", arguments: DMADirection.allCases)
    func unalignedWithDRE(direction: DMADirection) throws {
        let bench = try Bench(options: "dre: true")
        let start = Bench.buffer + 3
        if direction == .s2mm {
            bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(64)))
        } else {
            bench.mm2s.attach(StreamSink(pattern: .counter))
            bench.fill(start, with: patternBytes(.counter, count: 64))
        }
        bench.start(direction, address: start, length: 64)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle)
        if direction == .s2mm {
            #expect(bench.memory(at: start, count: 64) == patternBytes(.counter, count: 64))
            #expect(bench.s2mm.accounting.dropped.total == 0)
        } else {
            #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0)
        }
        #expect(bench.dma.channel(direction)!.counters.unalignedTransfers == 0)
    }

    @Test("an aligned address is never counted as unaligned, whatever the data width", arguments: [4, 8, 16])
    func alignedIsNotCounted(width: Int) throws {
        let text = testProfileText().replacingOccurrences(of: "data-width-bytes: 4", with: "data-width-bytes: \(width)")
        let board = Board(profile: try BoardProfile.parse(text, file: "w.yaml", registry: DeviceKinds.standard))
        let reactor = Reactor(clock: .virtual)
        let devices = DeviceSet(board: board, reactor: reactor, seed: 1)
        let s2mm = try #require(devices.axiDMA(named: "dma")?.s2mm)
        s2mm.attach(StreamSource(packetSize: .fixed(64)))
        for (offset, value) in [(0x30, DMACR.RS), (0x48, UInt32(Bench.buffer.rawValue + UInt64(width))), (0x58, 64)] {
            _ = board.bus.write32(UInt32(value), at: Bench.base + UInt64(offset), assuming: .little)
        }
        reactor.run(until: reactor.now + .microseconds(10))
        #expect(s2mm.counters.unalignedTransfers == 0)
        #expect(s2mm.counters.completions == 1)
    }
}
