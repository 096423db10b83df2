import Board

/// The register map of the Xilinx AXI DMA in direct register mode (PG021, "AXI DMA LogiCORE IP
/// Product Guide", v7.1: "Direct Register Mode Register Address Map" and the MM2S_/S2MM_ register
/// detail tables), declared once: the device model derives its write and read behaviour from it, the
/// conformance tests check it bit by bit, and whatever prints registers (traces, `board show`) takes
/// names, offsets and field names from it.

/// How a register field behaves, as PG021's "Access Type" column says.
public enum FieldAccess: String, Sendable, Codable, CaseIterable {
    /// R/W: reads back what was written.
    case readWrite = "RW"
    /// RO: driven by the device; writes have no effect.
    case readOnly = "RO"
    /// R/WC: the device sets it; writing 1 clears it, writing 0 leaves it.
    case writeOneToClear = "W1C"
    /// R/W, but the device clears it again when the action it starts is done (DMACR.Reset).
    case selfClearing = "RW/SC"
    /// Reserved: writes have no effect, reads return the reset value (0, or 1 for DMACR bit 1).
    case reserved = "reserved"
}

/// One field of a register: a contiguous run of bits.
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

/// The five registers of one channel, by offset from the channel's base (PG021 Table
/// "Direct Register Mode Register Address Map": 00h/30h DMACR, 04h/34h DMASR, 18h SA / 48h DA,
/// 1Ch SA_MSB / 4Ch DA_MSB, 28h/58h LENGTH). Offsets 08h–14h, 20h–24h and 2Ch of each channel are
/// reserved in direct register mode (they hold the scatter-gather pointers in SG mode) and read 0.
public enum ChannelRegister: UInt32, Sendable, Codable, CaseIterable {
    case DMACR = 0x00
    case DMASR = 0x04
    /// SA (MM2S source address) or DA (S2MM destination address), low 32 bits.
    case address = 0x18
    /// SA_MSB / DA_MSB, the upper 32 bits (present when the address width exceeds 32 bits).
    case addressMSB = 0x1C
    case LENGTH = 0x28

    /// The PG021 name for `direction`: `MM2S_SA`, `S2MM_DA_MSB`, `S2MM_LENGTH`.
    public func name(_ direction: DMADirection) -> String {
        let address = direction == .mm2s ? "SA" : "DA"
        switch self {
        case .DMACR: return "\(direction.registerPrefix)_DMACR"
        case .DMASR: return "\(direction.registerPrefix)_DMASR"
        case .address: return "\(direction.registerPrefix)_\(address)"
        case .addressMSB: return "\(direction.registerPrefix)_\(address)_MSB"
        case .LENGTH: return "\(direction.registerPrefix)_LENGTH"
        }
    }
}

/// A register: its place in the map and its fields (every bit of it belongs to exactly one field).
public struct RegisterDescription: Hashable, Sendable, Codable {
    public let name: String
    /// Bytes from the window's base.
    public let offset: UInt32
    public let direction: DMADirection
    public let register: ChannelRegister
    /// Low bit first, covering bits 0–31.
    public let fields: [RegisterField]

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

    /// Field by field for a trace or `board show`: `RS=1 Reset=0 IOC_IrqEn=1 …` (reserved fields left out).
    public func decode(_ value: UInt32) -> String {
        fields.filter { $0.access != .reserved }
            .map { "\($0.name)=\((value & $0.mask) >> UInt32($0.lowBit))" }
            .joined(separator: " ")
    }

    /// The masks the device applies on every access, derived from the fields.
    public var semantics: RegisterSemantics {
        RegisterSemantics(
            writable: mask(.readWrite) | mask(.selfClearing),
            writeOneToClear: mask(.writeOneToClear),
            resetValue: resetValue)
    }
}

/// What a register write does, as three masks: the device keeps the other bits and then applies its
/// side effects. Computed once per device from the descriptions, so the write path is two ANDs.
public struct RegisterSemantics: Hashable, Sendable {
    /// Bits a write replaces (RW and self-clearing fields).
    public let writable: UInt32
    /// Bits a written 1 clears.
    public let writeOneToClear: UInt32
    public let resetValue: UInt32

    /// The register's new value when `value` is written over `current`.
    @inline(__always)
    public func applyWrite(_ value: UInt32, to current: UInt32) -> UInt32 {
        ((current & ~writable) | (value & writable)) & ~(value & writeOneToClear)
    }
}

/// The AXI DMA register map for one configuration (the LENGTH field's width is a build parameter).
public struct AXIDMARegisterMap: Hashable, Sendable, Codable {
    public let lengthWidthBits: Int
    /// Every register of both channels, by offset.
    public let registers: [RegisterDescription]

    public init(lengthWidthBits: Int) {
        precondition((8...26).contains(lengthWidthBits), "PG021 allows a LENGTH width of 8 to 26 bits")
        self.lengthWidthBits = lengthWidthBits
        registers = DMADirection.allCases.flatMap { direction in
            ChannelRegister.allCases.map { register in
                RegisterDescription(
                    name: register.name(direction), offset: direction.baseOffset + register.rawValue,
                    direction: direction, register: register,
                    fields: Self.fields(of: register, direction: direction, lengthWidthBits: lengthWidthBits))
            }
        }
    }

    /// One line per field, for `board show` and documentation:
    /// `0x30  S2MM_DMACR     RS[0]  RW  reset 0  run/stop; …`.
    public var listing: [String] {
        registers.flatMap { register in
            register.fields.filter { $0.access != .reserved || $0.resetValue != 0 }.map { field in
                let offset = PhysicalAddress.hex(UInt64(register.offset), digits: 2)
                let columns = [offset, register.name, field.label, field.access.rawValue, "reset \(field.resetValue)", field.note]
                return columns.joined(separator: "  ").trimmingSuffixSpaces
            }
        }
    }

    /// The register at `offset`, or nil for a reserved offset.
    public func register(at offset: UInt32) -> RegisterDescription? { registers.first { $0.offset == offset } }

    public func register(_ register: ChannelRegister, of direction: DMADirection) -> RegisterDescription {
        registers.first { $0.register == register && $0.direction == direction }!
    }

    /// PG021's field tables for direct register mode. Scatter-gather-only fields read as they do on
    /// a core built without SG (C_INCLUDE_SG = 0): SGIncld 0, the SG error bits 0.
    static func fields(of register: ChannelRegister, direction: DMADirection, lengthWidthBits: Int) -> [RegisterField] {
        switch register {
        case .DMACR:
            return [
                RegisterField("RS", bit: 0, .readWrite, note: "run/stop; cleared by the core on any error"),
                RegisterField("Reserved", bit: 1, .reserved, reset: 1, note: "always reads 1"),
                RegisterField("Reset", bit: 2, .selfClearing, note: "soft reset of the whole core, both channels"),
                RegisterField("Keyhole", bit: 3, .readWrite, note: "stored; fixed-address bursts are not modelled"),
                RegisterField("Cyclic BD Enable", bit: 4, .readWrite, note: "stored; scatter-gather only"),
                RegisterField("Reserved", bit: 5, width: 7, .reserved),
                RegisterField("IOC_IrqEn", bit: 12, .readWrite),
                RegisterField("Dly_IrqEn", bit: 13, .readWrite),
                RegisterField("Err_IrqEn", bit: 14, .readWrite),
                RegisterField("Reserved", bit: 15, .reserved),
                RegisterField("IRQThreshold", bit: 16, width: 8, .readWrite, reset: 1, note: "stored; scatter-gather only"),
                RegisterField("IRQDelay", bit: 24, width: 8, .readWrite, note: "stored; scatter-gather only"),
            ]
        case .DMASR:
            return [
                RegisterField("Halted", bit: 0, .readOnly, reset: 1, note: "1 after reset and while RS=0 with nothing in flight"),
                RegisterField("Idle", bit: 1, .readOnly, note: "1 when the last transfer has completed"),
                RegisterField("Reserved", bit: 2, .reserved),
                RegisterField("SGIncld", bit: 3, .readOnly, note: "0: built without scatter-gather"),
                RegisterField("DMAIntErr", bit: 4, .readOnly, note: "internal error; halts until reset"),
                RegisterField("DMASlvErr", bit: 5, .readOnly, note: "AXI SLVERR; halts until reset"),
                RegisterField("DMADecErr", bit: 6, .readOnly, note: "AXI DECERR (no slave at the address); halts until reset"),
                RegisterField("Reserved", bit: 7, .reserved),
                RegisterField("SGIntErr", bit: 8, .readOnly, note: "scatter-gather only: 0"),
                RegisterField("SGSlvErr", bit: 9, .readOnly, note: "scatter-gather only: 0"),
                RegisterField("SGDecErr", bit: 10, .readOnly, note: "scatter-gather only: 0"),
                RegisterField("Reserved", bit: 11, .reserved),
                RegisterField("IOC_Irq", bit: 12, .writeOneToClear, note: "transfer complete"),
                RegisterField("Dly_Irq", bit: 13, .writeOneToClear, note: "delay timer; only a fault sets it in direct mode"),
                RegisterField("Err_Irq", bit: 14, .writeOneToClear, note: "an error bit was set"),
                RegisterField("Reserved", bit: 15, .reserved),
                RegisterField("IRQThresholdSts", bit: 16, width: 8, .readOnly, note: "scatter-gather only: 0"),
                RegisterField("IRQDelaySts", bit: 24, width: 8, .readOnly, note: "scatter-gather only: 0"),
            ]
        case .address:
            let name = direction == .mm2s ? "Source_Address" : "Destination_Address"
            return [RegisterField(name, bit: 0, width: 32, .readWrite, note: "low 32 bits")]
        case .addressMSB:
            let name = direction == .mm2s ? "Source_Address_MSB" : "Destination_Address_MSB"
            return [RegisterField(name, bit: 0, width: 32, .readWrite, note: "high 32 bits")]
        case .LENGTH:
            let note = direction == .mm2s
                ? "bytes to send; a non-zero write while running starts the transfer"
                : "buffer bytes; a non-zero write while running arms the transfer; the received count is written back at completion"
            return [
                RegisterField("Length", bit: 0, width: lengthWidthBits, .readWrite, note: note),
                RegisterField("Reserved", bit: lengthWidthBits, width: 32 - lengthWidthBits, .reserved),
            ]
        }
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
    public static let IOC_IrqEn: UInt32 = 1 << 12
    public static let Dly_IrqEn: UInt32 = 1 << 13
    public static let Err_IrqEn: UInt32 = 1 << 14
    /// The three interrupt enables; the same bit positions as the causes in DMASR.
    public static let allIrqEn: UInt32 = 0x7000
}

public enum DMASR {
    public static let Halted: UInt32 = 1 << 0
    public static let Idle: UInt32 = 1 << 1
    public static let DMAIntErr: UInt32 = 1 << 4
    public static let DMASlvErr: UInt32 = 1 << 5
    public static let DMADecErr: UInt32 = 1 << 6
    public static let IOC_Irq: UInt32 = 1 << 12
    public static let Dly_Irq: UInt32 = 1 << 13
    public static let Err_Irq: UInt32 = 1 << 14
    /// The three interrupt causes (write-1-to-clear).
    public static let allIrq: UInt32 = 0x7000
    /// The error bits that halt the channel until a reset.
    public static let errors: UInt32 = DMAIntErr | DMASlvErr | DMADecErr
}
