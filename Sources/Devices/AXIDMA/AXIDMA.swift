import Board
import Reactor
import Trace

/// A Xilinx AXI DMA core (PG021, "AXI DMA LogiCORE IP Product Guide" v7.1), in direct register
/// mode or built with scatter-gather, as it appears on the bus: one 64 KiB register window holding
/// both channels.
///
/// The register map and each bit's access semantics come from `AXIDMARegisterMap`; each channel
/// (`DMAChannel`) owns its registers, transfer and interrupt output. The core itself only routes
/// offsets to channels and performs the soft reset, which PG021 defines for the whole core:
/// setting DMACR.Reset in either channel resets both.
public final class AXIDMA: RegisterWindow {
    public let name: String
    public let parameters: AXIDMAParameters
    public let registerMap: AXIDMARegisterMap
    /// How long a soft reset takes: the profile's `reset-cycles` at the core's clock.
    public let resetNanoseconds: Int64
    /// Nil when the core is built without that channel (C_INCLUDE_MM2S / C_INCLUDE_S2MM = 0): its
    /// registers then read 0 and ignore writes.
    public let mm2s: DMAChannel?
    public let s2mm: DMAChannel?
    /// The channel and register at each word offset of the window that has one in this core,
    /// indexed by offset / 4, built from `registerMap` (the one declaration of the map): decoding
    /// an access is an array index, not a search. Offsets past its end, and nil entries, are
    /// reserved. The channel is unretained (`mm2s`/`s2mm` own it): a call through a reference taken
    /// out of an Optional or an array would cost a retain/release per access.
    let decodeTable: [(channel: Unmanaged<DMAChannel>, register: ChannelRegister)?]

    /// Reads and writes of offsets with no register in this core (reserved in its mode, or an MSB
    /// register of a 32-bit core): they read 0 and are ignored, never a trap.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var reservedAccesses = 0
    @exclusivity(unchecked) public private(set) var softResets = 0
    /// Register writes while a soft reset was in progress (DMACR.Reset still 1): ignored.
    @exclusivity(unchecked) public private(set) var writesDuringReset = 0

    /// Records register accesses (and, through the channels, transfers, faults and status changes)
    /// when set; nil is tracing off. The channels are named `<device>.mm2s` / `<device>.s2mm`.
    @exclusivity(unchecked) public var tracer: Tracer? {
        didSet {
            mm2s?.attachTracer(tracer, name: "\(name).mm2s")
            s2mm?.attachTracer(tracer, name: "\(name).s2mm")
            if tracer != nil && tracedRegisterNames.isEmpty {
                let words = Int((registerMap.registers.map(\.offset).max() ?? 0) / 4) + 1
                tracedRegisterNames = (0..<words).map { TraceName(registerMap.register(at: UInt32($0 * 4))?.name ?? "(reserved)") }
                tracedDeviceName = TraceName(name)
                tracedReservedName = TraceName("(reserved)")
            }
        }
    }
    /// Register names by offset / 4, from the register table, made when a tracer is attached: a
    /// traced access looks its name up here instead of searching the table. Names, not `String`s:
    /// an event copies them without reference counting.
    @exclusivity(unchecked) private var tracedRegisterNames: [TraceName] = []
    @exclusivity(unchecked) private var tracedDeviceName = TraceName.device
    @exclusivity(unchecked) private var tracedReservedName = TraceName.device

    /// Builds the core for `spec` (an `axi-dma` device of `board`'s profile). The caller attaches it
    /// to the bus window (`DeviceSet` does). `board` and `reactor` must outlive it.
    public init(
        spec: DeviceSpec, index: Int, board: Board, reactor: Reactor, random: inout SplitMix64,
        accessPolicy: DMAAccessPolicy
    ) {
        guard let parameters = spec.parameters(as: AXIDMAParameters.self) else {
            preconditionFailure("device '\(spec.name)' is a \(spec.kind), not an axi-dma")
        }
        name = spec.name
        self.parameters = parameters
        let map = AXIDMARegisterMap(
            lengthWidthBits: parameters.lengthWidthBits, addressWidthBits: parameters.addressWidthBits,
            scatterGather: parameters.scatterGather)
        registerMap = map
        resetNanoseconds = Int64((parameters.resetCycles * 1_000_000_000 + parameters.clockHz - 1) / parameters.clockHz)
        func makeChannel(_ direction: DMADirection, _ configured: AXIDMAParameters.Channel?, _ random: SplitMix64) -> DMAChannel? {
            guard let configured else { return nil }
            let route = InterruptRoute(output: direction.rawValue, line: configured.interruptLine, sense: configured.sense)
            return DMAChannel(
                direction: direction, route: route, deviceIndex: index, parameters: parameters, registerMap: map,
                board: board, reactor: reactor, random: random, policy: accessPolicy)
        }
        let mm2sRandom = random.split()
        let s2mmRandom = random.split()
        mm2s = makeChannel(.mm2s, parameters.mm2s, mm2sRandom)
        s2mm = makeChannel(.s2mm, parameters.s2mm, s2mmRandom)
        var table = [(channel: Unmanaged<DMAChannel>, register: ChannelRegister)?](
            repeating: nil, count: Int((map.registers.map(\.offset).max() ?? 0) / 4) + 1)
        for description in map.registers {
            guard let channel = description.direction == .mm2s ? mm2s : s2mm else { continue }
            table[Int(description.offset / 4)] = (.passUnretained(channel), description.register)
        }
        decodeTable = table
        super.init()
    }

    public func channel(_ direction: DMADirection) -> DMAChannel? { direction == .mm2s ? mm2s : s2mm }

    // MARK: register access

    override public func read32(offset: UInt32) -> UInt32 { readRegister(offset: offset) }

    override public func write32(offset: UInt32, value: UInt32) { writeRegister(offset: offset, value: value) }

    /// `read32(offset:)` without the virtual call: the UIO mapping calls it directly on the core
    /// behind its window, so the decode and the channel's register read inline into the driver's
    /// specialised shell (DESIGN.md, per-completion hot path). The helpers it calls are internal,
    /// not private, for the same reason: cross-module optimisation cannot hand on a body that names
    /// a private function.
    @inline(__always)
    public func readRegister(offset: UInt32) -> UInt32 {
        guard let (channel, register) = decode(offset) else {
            reservedAccesses += 1
            if tracer != nil { traceAccess(offset, 0, .read) }
            return 0
        }
        let value = channel._withUnsafeGuaranteedRef { $0.read(register) }
        if tracer != nil { traceAccess(offset, value, .read) }
        return value
    }

    /// `write32(offset:value:)` without the virtual call (see `readRegister`).
    @inline(__always)
    public func writeRegister(offset: UInt32, value: UInt32) {
        if tracer != nil { traceAccess(offset, value, .write) }
        guard let (channel, register) = decode(offset) else {
            reservedAccesses += 1
            return
        }
        // Both channels reset together, so the written channel's own DMACR.Reset says whether the core
        // is in a soft reset: its registers hold their reset values until it is done.
        if channel._withUnsafeGuaranteedRef({ $0.isResetting }) {
            writesDuringReset += 1
            return
        }
        if register == .DMACR && value & DMACR.Reset != 0 {
            // PG021 DMACR.Reset: resets the entire core; the bit reads 0 again once it is done
            // (`reset-cycles` of the profile later).
            softReset()
            return
        }
        channel._withUnsafeGuaranteedRef { $0.write(register, value) }
    }

    /// Out of line, so a run without a tracer pays only the nil check; the name comes from the
    /// register table (no string is built).
    @inline(never)
    func traceAccess(_ offset: UInt32, _ value: UInt32, _ access: TraceEvent.RegisterAccess) {
        let index = Int(offset >> 2)
        let register = offset & 3 == 0 && index < tracedRegisterNames.count ? tracedRegisterNames[index] : tracedReservedName
        tracer.unretained?._withUnsafeGuaranteedRef {
            $0.record(.register(device: tracedDeviceName, register: register, offset: offset, value: value, access: access))
        }
    }

    /// The channel (present in this core, unretained) and register at `offset`.
    @inline(__always)
    func decode(_ offset: UInt32) -> (Unmanaged<DMAChannel>, ChannelRegister)? {
        let index = Int(offset >> 2)
        guard offset & 3 == 0, index < decodeTable.count, let entry = decodeTable[index] else { return nil }
        return (entry.channel, entry.register)
    }

    // MARK: reset

    /// Soft reset of the whole core, done at once: transfers in flight are aborted, the FIFO is
    /// flushed, every register returns to its reset value and both lines drop.
    public func reset() {
        softResets += 1
        mm2s?.reset()
        s2mm?.reset()
    }

    /// What writing DMACR.Reset does: the reset of `reset()`, with DMACR.Reset reading 1 in both
    /// channels for the profile's `reset-cycles` (the core ignores writes meanwhile).
    @inline(never)
    func softReset() {
        softResets += 1
        mm2s?.reset(inProgressFor: resetNanoseconds)
        s2mm?.reset(inProgressFor: resetNanoseconds)
    }
}
