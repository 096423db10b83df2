import Board
import Devices
import Reactor
import Testing

/// Every register bit DESIGN.md ("AXI DMA") names, as the datasheet (PG021) states it, checked
/// against the declared register map and through the bus on both channels.
@Suite struct RegisterConformanceTests {
    enum Behaviour: CustomStringConvertible {
        case readWrite, readOnly, writeOneToClear, selfClearing, readsOne
        var description: String { "\(self)" }
    }

    struct Bit: CustomStringConvertible {
        let register: ChannelRegister
        let bit: Int
        let name: String
        let behaviour: Behaviour
        let resetValue: UInt32
        var description: String { "\(register).\(name)" }
    }

    /// DESIGN.md, "AXI DMA": DMACR bits 0, 1, 2, 12, 13, 14; DMASR bits 0, 1, 4, 5, 6, 12, 13, 14.
    static let designBits: [Bit] = [
        Bit(register: .DMACR, bit: 0, name: "RS", behaviour: .readWrite, resetValue: 0),
        Bit(register: .DMACR, bit: 1, name: "Reserved", behaviour: .readsOne, resetValue: 1),
        Bit(register: .DMACR, bit: 2, name: "Reset", behaviour: .selfClearing, resetValue: 0),
        Bit(register: .DMACR, bit: 12, name: "IOC_IrqEn", behaviour: .readWrite, resetValue: 0),
        Bit(register: .DMACR, bit: 13, name: "Dly_IrqEn", behaviour: .readWrite, resetValue: 0),
        Bit(register: .DMACR, bit: 14, name: "Err_IrqEn", behaviour: .readWrite, resetValue: 0),
        Bit(register: .DMASR, bit: 0, name: "Halted", behaviour: .readOnly, resetValue: 1),
        Bit(register: .DMASR, bit: 1, name: "Idle", behaviour: .readOnly, resetValue: 0),
        Bit(register: .DMASR, bit: 4, name: "DMAIntErr", behaviour: .readOnly, resetValue: 0),
        Bit(register: .DMASR, bit: 5, name: "DMASlvErr", behaviour: .readOnly, resetValue: 0),
        Bit(register: .DMASR, bit: 6, name: "DMADecErr", behaviour: .readOnly, resetValue: 0),
        Bit(register: .DMASR, bit: 12, name: "IOC_Irq", behaviour: .writeOneToClear, resetValue: 0),
        Bit(register: .DMASR, bit: 13, name: "Dly_Irq", behaviour: .writeOneToClear, resetValue: 0),
        Bit(register: .DMASR, bit: 14, name: "Err_Irq", behaviour: .writeOneToClear, resetValue: 0),
    ]

    static let cases: [(DMADirection, Bit)] = DMADirection.allCases.flatMap { d in designBits.map { (d, $0) } }

    @Test("each DESIGN.md bit is declared in the register map with its name, access and reset value",
          arguments: cases)
    func declared(direction: DMADirection, bit: Bit) throws {
        let map = AXIDMARegisterMap(lengthWidthBits: 23)
        let field = try #require(map.register(bit.register, of: direction)?.field(atBit: bit.bit))
        #expect(field.name == bit.name)
        #expect(field.width == 1)
        #expect(field.resetValue == bit.resetValue)
        let access: FieldAccess = switch bit.behaviour {
        case .readWrite: .readWrite
        case .readOnly: .readOnly
        case .writeOneToClear: .writeOneToClear
        case .selfClearing: .selfClearing
        case .readsOne: .reserved
        }
        #expect(field.access == access)
    }

    @Test("each DESIGN.md bit resets, reads and takes writes as the datasheet says", arguments: cases)
    func behaves(direction: DMADirection, bit: Bit) throws {
        let bench = try Bench()
        let mask: UInt32 = 1 << UInt32(bit.bit)
        func value() -> UInt32 { bench.read(bit.register, direction) & mask }
        #expect(value() == bit.resetValue << UInt32(bit.bit), "reset value")
        switch bit.behaviour {
        case .readWrite:
            bench.write(bit.register, direction, mask)
            #expect(value() == mask, "a written 1 reads back")
            bench.write(bit.register, direction, 0)
            #expect(value() == 0, "a written 0 reads back")
        case .readsOne:
            bench.write(bit.register, direction, 0)
            #expect(value() == mask, "reads 1 whatever is written")
        case .selfClearing:
            bench.write(.DMACR, direction, DMACR.RS)
            bench.write(bit.register, direction, mask)
            #expect(value() == 0, "cleared again once the reset is done")
            #expect(bench.dma.softResets == 1)
            #expect(bench.read(.DMACR, direction) & DMACR.RS == 0, "the reset took effect")
        case .readOnly:
            let before = value()
            bench.write(bit.register, direction, before ^ mask)
            #expect(value() == before, "a write does not change it")
        case .writeOneToClear:
            try setCause(bit.bit, direction, bench)
            #expect(value() == mask, "the device set it")
            bench.write(bit.register, direction, 0)
            #expect(value() == mask, "writing 0 leaves it")
            bench.write(bit.register, direction, mask)
            #expect(value() == 0, "writing 1 clears it")
        }
    }

    /// Makes the device set IOC_Irq, Dly_Irq or Err_Irq.
    func setCause(_ bit: Int, _ direction: DMADirection, _ bench: Bench) throws {
        let channel = bench.dma.channel(direction)!
        switch bit {
        case 12:
            if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(64))) }
            bench.start(direction, length: 64)
            bench.advance(by: .microseconds(10))
        case 13:
            try channel.inject(.delayInterrupt)
        default:
            try channel.inject(.slaveError)
            if direction == .s2mm { channel.attach(StreamSource(packetSize: .fixed(64))) }
            bench.start(direction, length: 64)
            bench.advance(by: .microseconds(10))
        }
    }

    /// Both modes, at 32 and at 64 address bits (profile keys for the AXI DMA).
    static let configurations = [
        "", "address-width-bits: 64", "scatter-gather: true", "scatter-gather: true\naddress-width-bits: 64",
    ]

    @Test("every bit of every register behaves as the register map declares it, in both modes and address widths",
          arguments: DMADirection.allCases, configurations)
    func everyBitFollowsTheMap(direction: DMADirection, options: String) throws {
        for register in try Bench(lengthWidthBits: 14, options: options).dma.registerMap.registers where register.direction == direction {
            let bench = try Bench(lengthWidthBits: 14, options: options)
            let reg = register.register
            #expect(bench.read(reg, direction) == register.resetValue, "\(register.name) reset value")
            // All ones, then all zeros: RW bits follow (RW/halted ones too: the channel is halted),
            // RO and reserved bits keep their values, W1C bits (all 0 here) stay 0, the
            // self-clearing Reset is left out (it resets the core), and an RW/nz field keeps its 1s
            // when 0 is written.
            let fixed = register.mask(.readOnly) | register.mask(.reserved) | register.mask(.writeOneToClear)
            let writable = register.mask(.readWrite) | register.mask(.readWriteWhileHalted)
            let nonZero = register.mask(.readWriteNonZero)
            bench.write(reg, direction, ~register.mask(.selfClearing))
            #expect(bench.read(reg, direction) & (writable | nonZero) == writable | nonZero, "\(register.name): RW bits take 1s")
            #expect(bench.read(reg, direction) & fixed & ~DMASR.Halted == register.resetValue & fixed & ~DMASR.Halted,
                    "\(register.name): other bits keep their reset values")
            bench.write(reg, direction, 0)
            #expect(bench.read(reg, direction) & writable == 0, "\(register.name): RW bits take 0s")
            #expect(bench.read(reg, direction) & nonZero == nonZero, "\(register.name): a 0 written to an RW/nz field has no effect")
            #expect(bench.read(reg, direction) & register.mask(.reserved) == register.resetValue & register.mask(.reserved))
        }
    }

    @Test("reserved offsets read 0 and ignore writes")
    func reservedOffsets() throws {
        let bench = try Bench()
        let used = Set(bench.dma.registerMap.registers.map(\.offset))
        for offset in stride(from: UInt32(0), to: 0x100, by: 4) where !used.contains(offset) {
            bench.write(offset: offset, 0xFFFF_FFFF)
            #expect(bench.read(offset: offset) == 0, "offset \(offset)")
        }
        #expect(bench.dma.reservedAccesses > 0)
        #expect(bench.read(.DMASR, .mm2s) == DMASR.Halted, "nothing else changed")
    }

    @Test("the register map names registers as PG021 does, at its offsets")
    func names() {
        let map = AXIDMARegisterMap(lengthWidthBits: 23)
        let expected: [(String, UInt32)] = [
            ("MM2S_DMACR", 0x00), ("MM2S_DMASR", 0x04), ("MM2S_SA", 0x18), ("MM2S_SA_MSB", 0x1C), ("MM2S_LENGTH", 0x28),
            ("S2MM_DMACR", 0x30), ("S2MM_DMASR", 0x34), ("S2MM_DA", 0x48), ("S2MM_DA_MSB", 0x4C), ("S2MM_LENGTH", 0x58),
        ]
        #expect(map.registers.map(\.name) == expected.map(\.0))
        #expect(map.registers.map(\.offset) == expected.map(\.1))
        for register in map.registers {
            // Fields tile the register: every bit belongs to exactly one field.
            #expect(register.fields.reduce(0) { $0 + $1.width } == 32)
            #expect((0..<32).allSatisfy { register.field(atBit: $0) != nil })
        }
        #expect(map.register(.DMACR, of: .s2mm)?.decode(0x0001_5003).hasPrefix("RS=1 Reset=0") == true)
    }
}

extension RegisterConformanceTests {
    @Test("the register listing names each field with its access kind and reset value")
    func listing() {
        let lines = AXIDMARegisterMap(lengthWidthBits: 14).listing
        #expect(lines.contains("0x30  S2MM_DMACR  RS  RW  reset 0  run/stop; cleared by the core on any error"))
        #expect(lines.contains { $0.hasPrefix("0x34  S2MM_DMASR  IOC_Irq  W1C  reset 0") })
        #expect(lines.contains { $0.hasPrefix("0x58  S2MM_LENGTH  Length[13:0]  RW") })
        #expect(lines.contains { $0.hasPrefix("0x00  MM2S_DMACR  Reserved  reserved  reset 1") })
    }
}
