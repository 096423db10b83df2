import Board

/// The register map of the Xilinx AXI DMA (PG021, "AXI DMA LogiCORE IP Product Guide", v7.1:
/// "Direct Register Mode Register Address Map", "Scatter Gather Mode Register Address Map", the
/// MM2S_/S2MM_ register detail tables and the descriptor field tables), declared once: the device
/// model derives its write and read behaviour from it, the conformance tests check it bit by bit,
/// and whatever prints registers (traces, `board show`) takes names, offsets and field names from
/// it. The field tables themselves are in AXIDMARegisterFields.swift (registers) and
/// SGDescriptor.swift (descriptor words).

/// How a register field behaves, as PG021's "Access Type" column says.
public enum FieldAccess: String, Sendable, Codable, CaseIterable {
    /// R/W: reads back what was written.
    case readWrite = "RW"
    /// R/W, except that a written 0 leaves the field as it was. PG021 on DMACR.IRQThreshold: "The
    /// minimum setting for the threshold is 0x01. A write of 0x00 to this register has no effect."
    case readWriteNonZero = "RW/nz"
    /// "R/W (RO)": writable while the channel is halted (DMACR.RS = 0 and DMASR.Halted = 1), read
    /// only otherwise (CURDESC).
    case readWriteWhileHalted = "RW/halted"
    /// RO: driven by the device; writes have no effect.
    case readOnly = "RO"
    /// R/WC: the device sets it; writing 1 clears it, writing 0 leaves it.
    case writeOneToClear = "W1C"
    /// R/W, but the device clears it again when the action it starts is done (DMACR.Reset).
    case selfClearing = "RW/SC"
    /// Reserved: writes have no effect, reads return the reset value (0, or 1 for DMACR bit 1).
    case reserved = "reserved"
}

/// One field of a register or descriptor word: a contiguous run of bits.
public struct RegisterField: Hashable, Sendable, Codable {
    /// The PG021 field name (`RS`, `IOC_IrqEn`, `Length`).
    public let name: String
    public let lowBit: Int
    public let width: Int
    public let access: FieldAccess
    /// The field's value after reset (already shifted down: `IRQThreshold` resets to 1).
    public let resetValue: UInt32
    /// What the field does, or why the model leaves it alone.
    public let note: String

    public init(_ name: String, bit: Int, width: Int = 1, _ access: FieldAccess, reset: UInt32 = 0, note: String = "") {
        self.name = name
        self.lowBit = bit
        self.width = width
        self.access = access
        self.resetValue = reset
        self.note = note
    }

    /// The field's bits in the register.
    public var mask: UInt32 { UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(width)) - 1) << UInt32(lowBit) }

    /// `RS`, or `Length[13:0]` for a field wider than one bit.
    public var label: String { width == 1 ? name : "\(name)[\(lowBit + width - 1):\(lowBit)]" }
}

/// A 32-bit word made of fields (a register, or a word of a scatter-gather descriptor): the helpers
/// the device, the printers and the tests share.
public protocol FieldTable {
    var name: String { get }
    /// Low bit first, covering bits 0–31.
    var fields: [RegisterField] { get }
}

extension FieldTable {
    /// The value after reset.
    public var resetValue: UInt32 { fields.reduce(0) { $0 | ($1.resetValue << UInt32($1.lowBit)) & $1.mask } }

    /// All bits whose fields have `access`.
    public func mask(_ access: FieldAccess) -> UInt32 {
        fields.filter { $0.access == access }.reduce(0) { $0 | $1.mask }
    }

    /// The field holding `bit`.
    public func field(atBit bit: Int) -> RegisterField? {
        fields.first { bit >= $0.lowBit && bit < $0.lowBit + $0.width }
    }

    /// The field named `name`.
    public func field(named name: String) -> RegisterField? { fields.first { $0.name == name } }

    /// Field by field for a trace or `board show`: `RS=1 Reset=0 IOC_IrqEn=1 …` (reserved fields left out).
    public func decode(_ value: UInt32) -> String {
        fields.filter { $0.access != .reserved }
            .map { "\($0.name)=\((value & $0.mask) >> UInt32($0.lowBit))" }
            .joined(separator: " ")
    }
}

/// The direction of a channel. PG021 names every register after its channel (MM2S_DMACR, S2MM_DA).
public enum DMADirection: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Memory to stream: the engine reads RAM and sends it out of its AXI4-Stream master port.
    case mm2s
    /// Stream to memory: the engine takes packets from its AXI4-Stream slave port and writes RAM.
    case s2mm

    /// The offset of the channel's first register (DMACR).
    public var baseOffset: UInt32 { self == .mm2s ? 0x00 : 0x30 }
    public var description: String { rawValue }
    /// `MM2S` / `S2MM`, as in the register names.
    public var registerPrefix: String { rawValue.uppercased() }
}

/// The registers of one channel, by offset from the channel's base. PG021 "Direct Register Mode
/// Register Address Map": 00h/30h DMACR, 04h/34h DMASR, 18h SA / 48h DA, 1Ch SA_MSB / 4Ch DA_MSB,
/// 28h/58h LENGTH. "Scatter Gather Mode Register Address Map": DMACR, DMASR, 08h/38h CURDESC,
/// 0Ch/3Ch CURDESC_MSB, 10h/40h TAILDESC, 14h/44h TAILDESC_MSB. Which of them a core has depends on
/// its mode and address width (`AXIDMARegisterMap.has(_:)`); the other offsets read 0.
public enum ChannelRegister: UInt32, Sendable, Codable, CaseIterable {
    case DMACR = 0x00
    case DMASR = 0x04
    /// Scatter-gather: the current descriptor, low 32 bits.
    case CURDESC = 0x08
    /// Scatter-gather: the current descriptor, upper 32 bits (address width above 32 bits).
    case CURDESC_MSB = 0x0C
    /// Scatter-gather: the tail descriptor (the pause point), low 32 bits.
    case TAILDESC = 0x10
    /// Scatter-gather: the tail descriptor, upper 32 bits (address width above 32 bits).
    case TAILDESC_MSB = 0x14
    /// Direct: SA (MM2S source address) or DA (S2MM destination address), low 32 bits.
    case address = 0x18
    /// Direct: SA_MSB / DA_MSB, the upper 32 bits (address width above 32 bits).
    case addressMSB = 0x1C
    /// Direct: bytes to transfer.
    case LENGTH = 0x28

    /// The PG021 name for `direction`: `MM2S_SA`, `S2MM_DA_MSB`, `S2MM_TAILDESC`.
    public func name(_ direction: DMADirection) -> String {
        let address = direction == .mm2s ? "SA" : "DA"
        let suffix: String = switch self {
        case .DMACR: "DMACR"
        case .DMASR: "DMASR"
        case .CURDESC: "CURDESC"
        case .CURDESC_MSB: "CURDESC_MSB"
        case .TAILDESC: "TAILDESC"
        case .TAILDESC_MSB: "TAILDESC_MSB"
        case .address: address
        case .addressMSB: "\(address)_MSB"
        case .LENGTH: "LENGTH"
        }
        return "\(direction.registerPrefix)_\(suffix)"
    }

    /// Registers of scatter-gather mode only.
    public var isScatterGather: Bool { [.CURDESC, .CURDESC_MSB, .TAILDESC, .TAILDESC_MSB].contains(self) }
    /// Registers of direct register mode only.
    public var isDirect: Bool { [.address, .addressMSB, .LENGTH].contains(self) }
    /// The upper halves of 64-bit pointers, present only above 32 address bits.
    public var isMSB: Bool { [.CURDESC_MSB, .TAILDESC_MSB, .addressMSB].contains(self) }
}

/// A register: its place in the map and its fields (every bit of it belongs to exactly one field).
public struct RegisterDescription: FieldTable, Hashable, Sendable, Codable {
    public let name: String
    /// Bytes from the window's base.
    public let offset: UInt32
    public let direction: DMADirection
    public let register: ChannelRegister
    /// Low bit first, covering bits 0–31.
    public let fields: [RegisterField]

    /// The masks the device applies on every access, derived from the fields.
    public var semantics: RegisterSemantics {
        RegisterSemantics(
            writable: mask(.readWrite) | mask(.selfClearing) | mask(.readWriteNonZero) | mask(.readWriteWhileHalted),
            keptWhenZero: mask(.readWriteNonZero),
            writeOneToClear: mask(.writeOneToClear),
            resetValue: resetValue)
    }
}

/// What a register write does, as masks: the device keeps the other bits and then applies its side
/// effects. Computed once per device from the descriptions, so the write path is a few ANDs.
public struct RegisterSemantics: Hashable, Sendable {
    /// Bits a write replaces (RW, RW/nz, RW/halted and self-clearing fields). The device checks
    /// "halted" itself for RW/halted fields before it writes.
    public let writable: UInt32
    /// The bits of a field that a written 0 leaves alone (RW/nz: DMACR.IRQThreshold). One field at
    /// most: a write of 0 to it is recognised by the whole mask reading 0.
    public let keptWhenZero: UInt32
    /// Bits a written 1 clears.
    public let writeOneToClear: UInt32
    public let resetValue: UInt32

    /// The register's new value when `value` is written over `current`.
    @inline(__always)
    public func applyWrite(_ value: UInt32, to current: UInt32) -> UInt32 {
        let replaced = value & keptWhenZero == 0 ? writable & ~keptWhenZero : writable
        return ((current & ~replaced) | (value & replaced)) & ~(value & writeOneToClear)
    }
}

/// The AXI DMA register map for one configuration: the LENGTH (buffer length) width, the address
/// width and the mode are build parameters of the core (PG021 c_sg_length_width, c_addr_width,
/// c_include_sg).
public struct AXIDMARegisterMap: Hashable, Sendable, Codable {
    public let lengthWidthBits: Int
    /// 32 to 64. Above 32 the MSB registers (SA_MSB/DA_MSB, CURDESC_MSB, TAILDESC_MSB) and the
    /// descriptors' MSB words exist; at 32 those offsets read 0 and ignore writes.
    public let addressWidthBits: Int
    public let scatterGather: Bool
    /// Every register of both channels this core has, by offset.
    public let registers: [RegisterDescription]
    /// Scatter-gather: the descriptor words of both channels (empty in direct register mode).
    public let descriptorWords: [DescriptorWordDescription]

    /// The map of a core built with these parameters. The default address width, 64, gives the
    /// widest map of the mode (every register PG021 names for it); a device's map comes from its
    /// profile, whose default is 32.
    public init(lengthWidthBits: Int, addressWidthBits: Int = 64, scatterGather: Bool = false) {
        precondition((8...26).contains(lengthWidthBits), "PG021 allows a LENGTH width of 8 to 26 bits")
        precondition((32...64).contains(addressWidthBits), "PG021 allows an address width of 32 to 64 bits")
        self.lengthWidthBits = lengthWidthBits
        self.addressWidthBits = addressWidthBits
        self.scatterGather = scatterGather
        let present = ChannelRegister.allCases.filter {
            Self.has($0, scatterGather: scatterGather, addressWidthBits: addressWidthBits)
        }
        registers = DMADirection.allCases.flatMap { direction in
            present.map { register in
                RegisterDescription(
                    name: register.name(direction), offset: direction.baseOffset + register.rawValue,
                    direction: direction, register: register,
                    fields: Self.fields(of: register, direction: direction, lengthWidthBits: lengthWidthBits, scatterGather: scatterGather))
            }
        }
        descriptorWords = scatterGather
            ? DMADirection.allCases.flatMap { Self.descriptorWords(direction: $0, lengthWidthBits: lengthWidthBits, addressWidthBits: addressWidthBits) }
            : []
    }

    /// Whether a core of this mode and address width has `register`.
    public static func has(_ register: ChannelRegister, scatterGather: Bool, addressWidthBits: Int) -> Bool {
        if register.isScatterGather && !scatterGather { return false }
        if register.isDirect && scatterGather { return false }
        if register.isMSB && addressWidthBits <= 32 { return false }
        return true
    }

    /// One line per field, for `board show` and documentation:
    /// `0x30  S2MM_DMACR     RS[0]  RW  reset 0  run/stop; …`, then the descriptor words as
    /// `BD+0x18  MM2S_CONTROL  TXSOF  RW  …`.
    public var listing: [String] {
        let registerLines = registers.flatMap { register in
            register.fields.filter { $0.access != .reserved || $0.resetValue != 0 }.map { field in
                let offset = PhysicalAddress.hex(UInt64(register.offset), digits: 2)
                let columns = [offset, register.name, field.label, field.access.rawValue, "reset \(field.resetValue)", field.note]
                return columns.joined(separator: "  ").trimmingSuffixSpaces
            }
        }
        let descriptorLines = descriptorWords.flatMap { word in
            word.fields.filter { $0.access != .reserved }.map { field in
                let offset = "BD+" + PhysicalAddress.hex(UInt64(word.offset), digits: 2)
                return [offset, word.name, field.label, field.access.rawValue, field.note].joined(separator: "  ").trimmingSuffixSpaces
            }
        }
        return registerLines + descriptorLines
    }

    /// The register at `offset`, or nil for a reserved offset.
    public func register(at offset: UInt32) -> RegisterDescription? { registers.first { $0.offset == offset } }

    /// The description of `register` of `direction`; nil when this core does not have it.
    public func register(_ register: ChannelRegister, of direction: DMADirection) -> RegisterDescription? {
        registers.first { $0.register == register && $0.direction == direction }
    }

    /// Scatter-gather: the description of a descriptor word of `direction`'s descriptors.
    public func descriptorWord(_ word: DescriptorWord, of direction: DMADirection) -> DescriptorWordDescription? {
        descriptorWords.first { $0.word == word && $0.direction == direction }
    }
}

extension String {
    fileprivate var trimmingSuffixSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// Bit masks of DMACR and DMASR by their PG021 names, for the device and for drivers.
public enum DMACR {
    public static let RS: UInt32 = 1 << 0
    public static let Reset: UInt32 = 1 << 2
    /// Scatter-gather: the descriptor chain loops (NXTDESC of the last points at the first),
    /// Cmplt is ignored and TAILDESC only triggers.
    public static let CyclicBDEnable: UInt32 = 1 << 4
    public static let IOC_IrqEn: UInt32 = 1 << 12
    public static let Dly_IrqEn: UInt32 = 1 << 13
    public static let Err_IrqEn: UInt32 = 1 << 14
    /// The three interrupt enables; the same bit positions as the causes in DMASR.
    public static let allIrqEn: UInt32 = 0x7000
    /// IRQThreshold[23:16] and IRQDelay[31:24], scatter-gather interrupt coalescing.
    public static let IRQThresholdShift: UInt32 = 16
    public static let IRQThreshold: UInt32 = 0xFF << 16
    public static let IRQDelayShift: UInt32 = 24
    public static let IRQDelay: UInt32 = 0xFF << 24
}

public enum DMASR {
    public static let Halted: UInt32 = 1 << 0
    public static let Idle: UInt32 = 1 << 1
    /// Reads 1 on a core built with scatter-gather.
    public static let SGIncld: UInt32 = 1 << 3
    public static let DMAIntErr: UInt32 = 1 << 4
    public static let DMASlvErr: UInt32 = 1 << 5
    public static let DMADecErr: UInt32 = 1 << 6
    /// Scatter-gather: a fetched descriptor was stale (Cmplt already set) or otherwise unusable.
    public static let SGIntErr: UInt32 = 1 << 8
    /// Scatter-gather: a descriptor fetch or update got an AXI SLVERR.
    public static let SGSlvErr: UInt32 = 1 << 9
    /// Scatter-gather: a descriptor fetch or update got an AXI DECERR (no slave at the address).
    public static let SGDecErr: UInt32 = 1 << 10
    public static let IOC_Irq: UInt32 = 1 << 12
    public static let Dly_Irq: UInt32 = 1 << 13
    public static let Err_Irq: UInt32 = 1 << 14
    /// The three interrupt causes (write-1-to-clear).
    public static let allIrq: UInt32 = 0x7000
    /// IRQThresholdSts[23:16] and IRQDelaySts[31:24].
    public static let IRQThresholdStsShift: UInt32 = 16
    public static let IRQThresholdSts: UInt32 = 0xFF << 16
    public static let IRQDelayStsShift: UInt32 = 24
    public static let IRQDelaySts: UInt32 = 0xFF << 24
    /// The error bits that halt the channel until a reset.
    public static let errors: UInt32 = DMAIntErr | DMASlvErr | DMADecErr | SGIntErr | SGSlvErr | SGDecErr
}
