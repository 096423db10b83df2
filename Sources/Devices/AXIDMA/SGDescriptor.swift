import Board

/// The words of a scatter-gather descriptor (buffer descriptor, BD), by offset from its start
/// (PG021 "Scatter Gather Descriptor", and Xilinx embeddedsw xaxidma_hw.h XAXIDMA_BD_*_OFFSET).
/// Descriptors are 16 words (0x40) apart and 0x40-aligned; the engine reads words 0x00–0x33 and
/// writes back STATUS.
public enum DescriptorWord: UInt32, Sendable, Codable, CaseIterable {
    case NXTDESC = 0x00
    case NXTDESC_MSB = 0x04
    case BUFFER_ADDRESS = 0x08
    case BUFFER_ADDRESS_MSB = 0x0C
    /// 0x10 and 0x14 hold multichannel (MCDMA) fields; reserved in the AXI DMA.
    case reserved10 = 0x10
    case reserved14 = 0x14
    case CONTROL = 0x18
    case STATUS = 0x1C
    case APP0 = 0x20
    case APP1 = 0x24
    case APP2 = 0x28
    case APP3 = 0x2C
    case APP4 = 0x30

    /// `MM2S_CONTROL`, `S2MM_STATUS`, `MM2S_APP0`.
    public func name(_ direction: DMADirection) -> String {
        switch self {
        case .reserved10, .reserved14: "\(direction.registerPrefix)_RESERVED_\(String(rawValue, radix: 16, uppercase: true))"
        default: "\(direction.registerPrefix)_\(self)"
        }
    }
}

/// A descriptor word and its fields, declared like a register (`FieldTable`). Access is from the
/// software's side: RW fields are set by software and read by the engine, RO fields are written
/// back by the engine at completion (software zeroes STATUS before handing the descriptor back).
public struct DescriptorWordDescription: FieldTable, Hashable, Sendable, Codable {
    public let name: String
    /// Bytes from the descriptor's start.
    public let offset: UInt32
    public let direction: DMADirection
    public let word: DescriptorWord
    public let fields: [RegisterField]
}

/// CONTROL bits by their PG021 names (MM2S: TXSOF/TXEOF; S2MM CONTROL has only the length).
public enum SGControl {
    /// MM2S: the first descriptor of a packet.
    public static let SOF: UInt32 = 1 << 27
    /// MM2S: the last descriptor of a packet.
    public static let EOF: UInt32 = 1 << 26
}

/// STATUS bits by their PG021 names.
public enum SGStatus {
    /// The engine completed the descriptor.
    public static let Cmplt: UInt32 = 1 << 31
    public static let DMADecErr: UInt32 = 1 << 30
    public static let DMASlvErr: UInt32 = 1 << 29
    public static let DMAIntErr: UInt32 = 1 << 28
    /// S2MM: the descriptor holds the start of a packet.
    public static let RXSOF: UInt32 = 1 << 27
    /// S2MM: the descriptor holds the end of a packet.
    public static let RXEOF: UInt32 = 1 << 26
    /// The error bits (the DMASR error bit shifted to its STATUS place).
    public static let errors: UInt32 = DMADecErr | DMASlvErr | DMAIntErr
}

extension AXIDMARegisterMap {
    /// PG021's descriptor field tables (MM2S_NXTDESC … MM2S_APP4, S2MM_NXTDESC … S2MM_APP4).
    static func descriptorWords(direction: DMADirection, lengthWidthBits w: Int, addressWidthBits: Int) -> [DescriptorWordDescription] {
        let msbNote = addressWidthBits > 32 ? "upper 32 bits" : "ignored: the core has 32 address bits"
        func word(_ word: DescriptorWord, _ fields: [RegisterField]) -> DescriptorWordDescription {
            DescriptorWordDescription(name: word.name(direction), offset: word.rawValue, direction: direction, word: word, fields: fields)
        }
        let control: [RegisterField] = direction == .mm2s
            ? [
                RegisterField("Buffer_Length", bit: 0, width: w, .readWrite, note: "bytes to send from the buffer; 0 is DMAIntErr"),
                RegisterField("Reserved", bit: w, width: 26 - w, .reserved),
                RegisterField("TXEOF", bit: 26, .readWrite, note: "the last descriptor of a packet (TLAST after its bytes)"),
                RegisterField("TXSOF", bit: 27, .readWrite, note: "the first descriptor of a packet"),
                RegisterField("Reserved", bit: 28, width: 4, .reserved),
            ]
            : [
                RegisterField("Buffer_Length", bit: 0, width: w, .readWrite, note: "bytes the buffer holds; 0 is DMAIntErr"),
                RegisterField("Reserved", bit: w, width: 32 - w, .reserved),
            ]
        var status: [RegisterField] = [
            RegisterField("Transferred_Bytes", bit: 0, width: w, .readOnly, note: "bytes moved for this descriptor"),
        ]
        if direction == .mm2s {
            status.append(RegisterField("Reserved", bit: w, width: 28 - w, .reserved))
        } else {
            status += [
                RegisterField("Reserved", bit: w, width: 26 - w, .reserved),
                RegisterField("RXEOF", bit: 26, .readOnly, note: "the packet ends in this buffer"),
                RegisterField("RXSOF", bit: 27, .readOnly, note: "the packet starts in this buffer"),
            ]
        }
        status += [
            RegisterField("DMAIntErr", bit: 28, .readOnly, note: "length 0, or (S2MM) a packet longer than the buffers"),
            RegisterField("DMASlvErr", bit: 29, .readOnly, note: "AXI SLVERR moving this buffer's data"),
            RegisterField("DMADecErr", bit: 30, .readOnly, note: "AXI DECERR moving this buffer's data"),
            RegisterField("Cmplt", bit: 31, .readOnly,
                          note: "set at completion; a fetched descriptor with it set is stale (SGIntErr), except in cyclic mode"),
        ]
        let app: [DescriptorWordDescription] = [DescriptorWord.APP0, .APP1, .APP2, .APP3, .APP4].map {
            word($0, [RegisterField("User_Application", bit: 0, width: 32, .readWrite,
                                    note: "for the status/control streams (C_SG_INCLUDE_STSCNTRL_STRM); not modelled, left untouched")])
        }
        return [
            word(.NXTDESC, [
                RegisterField("Reserved", bit: 0, width: 6, .reserved),
                RegisterField("Next_Descriptor_Pointer", bit: 6, width: 26, .readWrite, note: "the next descriptor (0x40-aligned)"),
            ]),
            word(.NXTDESC_MSB, [RegisterField("Next_Descriptor_Pointer_MSB", bit: 0, width: 32, .readWrite, note: msbNote)]),
            word(.BUFFER_ADDRESS, [RegisterField("Buffer_Address", bit: 0, width: 32, .readWrite,
                                                 note: "without DRE it must be aligned to the data width")]),
            word(.BUFFER_ADDRESS_MSB, [RegisterField("Buffer_Address_MSB", bit: 0, width: 32, .readWrite, note: msbNote)]),
            word(.reserved10, [RegisterField("Reserved", bit: 0, width: 32, .reserved)]),
            word(.reserved14, [RegisterField("Reserved", bit: 0, width: 32, .reserved)]),
            word(.CONTROL, control),
            word(.STATUS, status),
        ] + app
    }
}

/// A descriptor as the engine fetched it: the words it acts on, decoded from the little-endian
/// bytes of the AXI side (the byte order the AXI DMA reads and writes memory in; a big-endian
/// CPU must store the words byte-swapped, `out_le32`). A plain value: fetching one allocates nothing.
public struct SGDescriptor: Hashable, Sendable {
    /// Descriptors are 16-word aligned (PG021: "Descriptors must be 16 word aligned, that is, 0x00,
    /// 0x40, 0x80 …"); the low 6 bits of a descriptor pointer are reserved.
    public static let alignment: UInt64 = 0x40
    /// The words the engine reads: NXTDESC through APP4.
    public static let fetchBytes = 0x34

    /// Where it was fetched from.
    public var address: PhysicalAddress
    public var nextDescriptor: PhysicalAddress
    public var bufferAddress: PhysicalAddress
    public var control: UInt32
    public var status: UInt32

    public init(address: PhysicalAddress, nextDescriptor: PhysicalAddress, bufferAddress: PhysicalAddress, control: UInt32, status: UInt32) {
        self.address = address
        self.nextDescriptor = nextDescriptor
        self.bufferAddress = bufferAddress
        self.control = control
        self.status = status
    }

    /// Decodes the `fetchBytes` at `bytes` (little-endian words). Above 32 address bits the MSB
    /// words extend the pointers; on a 32-bit core they are ignored.
    public init(fetched bytes: UnsafeRawBufferPointer, from address: PhysicalAddress, addressWidthBits: Int) {
        precondition(bytes.count >= Self.fetchBytes)
        func word(_ word: DescriptorWord) -> UInt32 {
            UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: Int(word.rawValue), as: UInt32.self))
        }
        let wide = addressWidthBits > 32
        func pointer(_ low: DescriptorWord, _ high: DescriptorWord) -> UInt64 {
            (wide ? UInt64(word(high)) << 32 : 0) | UInt64(word(low))
        }
        self.address = address
        nextDescriptor = PhysicalAddress(pointer(.NXTDESC, .NXTDESC_MSB) & ~(Self.alignment - 1))
        bufferAddress = PhysicalAddress(pointer(.BUFFER_ADDRESS, .BUFFER_ADDRESS_MSB))
        control = word(.CONTROL)
        status = word(.STATUS)
    }

    /// The buffer length in CONTROL, for a core whose length field is `mask`.
    @inline(__always)
    public func bufferLength(mask: UInt32) -> Int { Int(control & mask) }

    public var isComplete: Bool { status & SGStatus.Cmplt != 0 }
}
