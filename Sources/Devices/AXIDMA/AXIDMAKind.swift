import Board
import Reactor

// Everything the profile knows about the AXI DMA, next to its model: the kind's keys, their parsing
// and checks, and building the model of one device. Registered in `DeviceKinds.standard`.

/// Parameters of a Xilinx AXI DMA core (PG021, "AXI DMA LogiCORE IP Product Guide") as a profile
/// configures it: what `AXIDMA` is built from.
public struct AXIDMAParameters: DeviceParameters, Hashable {
    /// One direction of the core: MM2S (memory to stream) or S2MM (stream to memory).
    public struct Channel: Hashable, Sendable, Codable {
        /// The controller input its `mm2s_introut` / `s2mm_introut` drives.
        public var interruptLine: Int
        public var sense: InterruptSense
        /// The stream endpoint attached to the channel's AXI4-Stream port, by name (scenarios
        /// define the endpoints); nil when none is attached yet.
        public var stream: String?
    }

    /// `m_axi_*_aclk`, the memory-mapped side's clock.
    public var clockHz: UInt64
    /// Memory-map data width in bytes (C_M_AXI_MM2S_DATA_WIDTH / 8): 4 to 128.
    public var dataWidthBytes: Int
    /// Bytes the device FIFO holds for data arriving with no transfer armed.
    public var fifoDepthBytes: UInt64
    /// Width of the LENGTH registers (C_SG_LENGTH_WIDTH): 8 to 26 bits.
    public var lengthWidthBits: Int
    /// Clock cycles from the start of a transfer (the LENGTH write, or data arriving for an armed
    /// S2MM transfer) until data moves: command queueing and the first AXI read/write burst. PG021's
    /// "Latency and Throughput" section gives figures of this order; profiles without the key get 0.
    public var setupCycles: UInt64 = 0
    /// Width of the addresses the core puts on its AXI master ports (c_addr_width): 32 to 64.
    /// Above 32 the MSB registers and descriptor words exist; at 32 they read 0 and ignore writes.
    public var addressWidthBits: Int = 32
    /// The Data Realignment Engine (c_include_mm2s_dre / c_include_s2mm_dre). Without it a buffer
    /// address must be aligned to the data width (PG021, MM2S_SA / S2MM_DA / BUFFER_ADDRESS).
    public var dataRealignment = false
    /// Built with the scatter-gather engine (c_include_sg): descriptors instead of SA/DA/LENGTH.
    public var scatterGather = false
    /// Scatter-gather: clock cycles to fetch one descriptor (13 words over the 32-bit SG port, plus
    /// the memory's read latency). PG021 gives no per-descriptor figure; the default, 16, is 13
    /// beats and a few cycles of latency.
    public var descriptorFetchCycles: UInt64 = Self.defaultDescriptorFetchCycles
    /// Scatter-gather: clock cycles to write a descriptor's STATUS back (one beat, its address
    /// phase and the write response). Default 8, an estimate like the fetch's.
    public var descriptorUpdateCycles: UInt64 = Self.defaultDescriptorUpdateCycles
    /// Clock cycles from a DMACR.RS write until DMASR.Halted follows it (RS=1: Halted drops; RS=0
    /// with nothing in flight: Halted rises). PG021 describes Halted as a status that follows RS
    /// ("DMASR.Halted ... when RS = 0 and the channel has halted") without a figure, and drivers poll
    /// for it (Linux `xilinx_dma_start` and `xilinx_dma_halt` poll DMASR with a timeout), so a
    /// driver that writes LENGTH right after RS=1 without checking Halted loses the transfer.
    /// Default `defaultHaltLagCycles`.
    public var haltLagCycles: UInt64 = AXIDMAParameters.defaultHaltLagCycles
    /// Clock cycles a soft reset (DMACR.Reset) takes: DMACR.Reset reads 1 until then and the core
    /// ignores register writes (PG021: "Reset ... This bit is set to 0 when the reset is complete";
    /// Linux `xilinx_dma_reset` polls it). Default `defaultResetCycles`.
    public var resetCycles: UInt64 = AXIDMAParameters.defaultResetCycles
    /// Nil when the core is built without that channel (C_INCLUDE_MM2S / C_INCLUDE_S2MM = 0).
    public var mm2s: Channel?
    public var s2mm: Channel?

    /// The largest transfer one LENGTH write (or one descriptor) can ask for.
    public var maximumTransferBytes: UInt64 { (1 << UInt64(lengthWidthBits)) - 1 }

    /// What `board show` prints; the options appear only when they differ from their defaults.
    public var summary: String {
        var text = "\(Units.frequency(clockHz)), \(dataWidthBytes)-byte data, \(lengthWidthBits)-bit length, FIFO \(Units.size(fifoDepthBytes))"
        if addressWidthBits != 32 { text += ", \(addressWidthBits)-bit address" }
        if dataRealignment { text += ", DRE" }
        if scatterGather { text += ", scatter-gather" }
        return text
    }

    public static let dataWidths: [UInt64] = [4, 8, 16, 32, 64, 128]
    public static let lengthWidthBits: ClosedRange<UInt64> = 8...26
    public static let addressWidthBits: ClosedRange<UInt64> = 32...64
    public static let setupCycles: ClosedRange<UInt64> = 0...1_000_000
    public static let defaultDescriptorFetchCycles: UInt64 = 16
    public static let defaultDescriptorUpdateCycles: UInt64 = 8
    /// The range of `halt-lag-cycles` and `reset-cycles`.
    public static let lagCycles: ClosedRange<UInt64> = 0...1_000_000
    /// A few cycles: the RS write crossing into the channel's state machine and back to DMASR.
    /// PG021 gives no figure; 0 in a profile makes Halted follow RS at once.
    public static let defaultHaltLagCycles: UInt64 = 4
    /// The reset has to cross both channels' clock domains and drain the AXI interfaces; 32 cycles of
    /// an idle core is an estimate (PG021 gives no figure). 0 makes the reset immediate.
    public static let defaultResetCycles: UInt64 = 32
}

/// `kind: axi-dma`.
public struct AXIDMAKind: DeviceModelKind {
    public init() {}

    public var name: String { "axi-dma" }
    public var keys: [String] {
        [
            "clock", "data-width-bytes", "fifo-depth", "length-width-bits", "setup-cycles", "address-width-bits", "dre",
            "scatter-gather", "descriptor-fetch-cycles", "descriptor-update-cycles", "halt-lag-cycles", "reset-cycles", "mm2s", "s2mm",
        ]
    }

    public func parse(_ mapping: YAMLMapping, context: DeviceParseContext, _ diagnostics: inout Diagnostics) -> ParsedDevice? {
        let clock = mapping.required("clock", expecting: YAMLValue.frequencyExpectation, &diagnostics)?.frequency(&diagnostics)
        let width = mapping.required("data-width-bytes", expecting: "4, 8, 16, 32, 64 or 128", &diagnostics).flatMap { value in
            value.integer("a data width in bytes", in: 4...128, &diagnostics).flatMap { bytes in
                AXIDMAParameters.dataWidths.contains(bytes) ? Int(bytes)
                    : value.mismatch("a data width of 4, 8, 16, 32, 64 or 128 bytes", &diagnostics)
            }
        }
        let fifo = mapping.required("fifo-depth", expecting: YAMLValue.sizeExpectation, &diagnostics)?.size(&diagnostics)
        let lengthBits = mapping.required("length-width-bits", expecting: "a width from 8 to 26 bits", &diagnostics)?
            .integer("a LENGTH register width in bits", in: AXIDMAParameters.lengthWidthBits, &diagnostics)
        let setupValue = mapping["setup-cycles"]
        let setup = setupValue.map { $0.integer("a number of clock cycles", in: AXIDMAParameters.setupCycles, &diagnostics) } ?? 0
        let addressBits = mapping["address-width-bits"].map {
            $0.integer("an address width in bits", in: AXIDMAParameters.addressWidthBits, &diagnostics)
        } ?? 32
        let dre = mapping["dre"].map { $0.bool(&diagnostics) } ?? false
        let scatterGather = mapping["scatter-gather"].map { $0.bool(&diagnostics) } ?? false
        func descriptorCycles(_ key: String, default value: UInt64) -> UInt64? {
            guard let given = mapping[key] else { return value }
            if scatterGather == false {
                diagnostics.error("'\(key)' applies to a scatter-gather core: expected 'scatter-gather: true' beside it", at: given.location)
            }
            return given.integer("a number of clock cycles", in: AXIDMAParameters.setupCycles, &diagnostics)
        }
        let fetch = descriptorCycles("descriptor-fetch-cycles", default: AXIDMAParameters.defaultDescriptorFetchCycles)
        let update = descriptorCycles("descriptor-update-cycles", default: AXIDMAParameters.defaultDescriptorUpdateCycles)
        let haltLag = mapping["halt-lag-cycles"].map { $0.integer("a number of clock cycles", in: AXIDMAParameters.lagCycles, &diagnostics) }
            ?? AXIDMAParameters.defaultHaltLagCycles
        let resetCycles = mapping["reset-cycles"].map { $0.integer("a number of clock cycles", in: AXIDMAParameters.lagCycles, &diagnostics) }
            ?? AXIDMAParameters.defaultResetCycles

        var routes: [(route: InterruptRoute, location: SourceLocation)] = []
        func channel(_ key: String) -> AXIDMAParameters.Channel? {
            guard let value = mapping[key] else { return nil }
            guard let fields = value.mapping("channel '\(key)' of device '\(context.deviceName)'", keys: ["interrupt", "sense", "stream"], &diagnostics) else {
                return nil
            }
            let lineValue = fields.required("interrupt", expecting: "the controller input number", &diagnostics)
            let line = lineValue?.integer("an interrupt line number", in: 0...UInt64(Int32.max), &diagnostics)
            let sense = fields.required("sense", expecting: "an interrupt sense", &diagnostics).flatMap { context.sense($0, &diagnostics) }
            let stream = fields["stream"].flatMap { $0.name(&diagnostics) }
            guard let line, let sense, let lineValue else { return nil }
            routes.append((InterruptRoute(output: key, line: Int(line), sense: sense), lineValue.location))
            return AXIDMAParameters.Channel(interruptLine: Int(line), sense: sense, stream: stream)
        }
        let mm2s = channel("mm2s")
        let s2mm = channel("s2mm")
        if mapping["mm2s"] == nil && mapping["s2mm"] == nil {
            diagnostics.error("device '\(context.deviceName)' has no channel: expected 'mm2s', 's2mm' or both", at: mapping.location)
        }
        guard let clock, let width, let fifo, let lengthBits, let setup, let addressBits, let dre, let scatterGather, let fetch,
              let update, let haltLag, let resetCycles, mm2s != nil || s2mm != nil
        else { return nil }
        let parameters = AXIDMAParameters(
            clockHz: clock, dataWidthBytes: width, fifoDepthBytes: fifo, lengthWidthBits: Int(lengthBits),
            setupCycles: setup, addressWidthBits: Int(addressBits), dataRealignment: dre, scatterGather: scatterGather,
            descriptorFetchCycles: fetch, descriptorUpdateCycles: update, haltLagCycles: haltLag, resetCycles: resetCycles,
            mm2s: mm2s, s2mm: s2mm)
        return ParsedDevice(parameters: parameters, interrupts: routes)
    }

    public func makeModel(
        spec: DeviceSpec, index: Int, board: Board, reactor: Reactor, random: inout SplitMix64, accessPolicy: DMAAccessPolicy
    ) -> RegisterWindow {
        AXIDMA(spec: spec, index: index, board: board, reactor: reactor, random: &random, accessPolicy: accessPolicy)
    }
}

extension DeviceSet {
    /// The AXI DMA cores in profile order.
    public var axiDMAs: [AXIDMA] { models.compactMap { $0 as? AXIDMA } }

    /// The AXI DMA core named `name` in the profile.
    public func axiDMA(named name: String) -> AXIDMA? { axiDMAs.first { $0.name == name } }
}
