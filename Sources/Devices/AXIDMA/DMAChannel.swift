import Board
import Reactor
import Trace

/// One channel of the AXI DMA (PG021): MM2S (memory to stream) or S2MM (stream to memory), its
/// registers, its transfer, its interrupt output and its stream endpoint. In direct register mode a
/// transfer is SA/DA + LENGTH; a core built with scatter-gather walks descriptors instead
/// (DMAChannel+ScatterGather.swift), behind the `scatterGather` flag, so the direct-mode path stays
/// as it was.
///
/// Where PG021 is silent, the model decides (and the tests pin down):
/// - DMASR.Idle is set at completion and cleared when the next transfer starts or by a reset;
///   clearing RS leaves it alone.
/// - LENGTH written while halted, or with 0, is stored (the register is R/W) but starts nothing.
/// - DMASR.Halted follows RS `halt-lag-cycles` later (PG021 gives no figure; drivers poll): RS=1
///   clears it after the lag, RS=0 with nothing in flight sets it after the lag. Clearing RS while a
///   transfer moves lets it finish; Halted follows the lag after its completion. An armed S2MM
///   transfer still waiting for data is flushed at once. An error halts at once.
/// - Data moves at completion, all at once: the access policy and the bus are consulted then, for
///   the range actually moved, and a failure moves no byte.
/// - The soft reset takes `reset-cycles`: meanwhile DMACR.Reset reads 1, both channels are halted
///   with their registers at reset values, and the core ignores register writes (`DMAChannel+Lag.swift`).
///
/// Order as in Renode/QEMU models: state, register access, `updateInterrupt()`, `reset()`, timing.
/// Data movement is in `DMAChannel+Data.swift`, stream endpoints in `DMAChannel+Stream.swift`,
/// faults in `AXIDMAFault.swift`, the scatter-gather engine in `DMAChannel+ScatterGather.swift`.
///
/// Hot path (DESIGN.md, "The per-completion hot path"): completions are a reusable reactor timer
/// dispatched by tag; links are strong `let`s, except the bus and the reactor, which own this
/// object (the bus through its register window, the reactor through its timers) and are reached
/// through `Unmanaged` to avoid a cycle; S2MM data is generated straight into memory, MM2S data
/// moves with one bus block copy per 64 KiB chunk; nothing is allocated per transfer.
public final class DMAChannel: ReactorTarget {
    /// What a transfer is doing.
    enum TransferState: Equatable {
        /// Nothing programmed, or the last transfer is over.
        case idle
        /// S2MM: LENGTH written while running, no packet yet.
        case awaitingData
        /// Bytes on the move; the completion timer is armed. MM2S: LENGTH bytes; S2MM: a packet.
        case moving(bytes: Int)
        /// A stall fault: it never completes; only a reset ends it.
        case stalled(bytes: Int)
    }

    /// What a reactor event of this channel is: its timers.
    enum Tag: UInt64 {
        /// The transfer in flight is done (`complete()`).
        case completion
        /// The attached stream source produces its next packet (`sourceTick()`).
        case source
        /// Scatter-gather: the engine's next step (a fetch done, a descriptor's data moved).
        case descriptor
        /// Scatter-gather: the IRQDelay timer ran out.
        case delay
        /// DMASR.Halted catches up with RS, or the soft reset is done (`settle()`).
        case settle
    }
    /// MM2S reads memory (and a sink checks it) in chunks of this size.
    static let chunkBytes = 64 * 1024

    // MARK: configuration

    public let direction: DMADirection
    /// Where the channel's interrupt output goes.
    public let route: InterruptRoute
    /// The device's index in its `DeviceSet`, for `DMAAccess`.
    let deviceIndex: Int
    let controlSemantics: RegisterSemantics
    let statusSemantics: RegisterSemantics
    /// LENGTH's bits (direct), or CONTROL's Buffer_Length bits (scatter-gather).
    let lengthMask: UInt32
    /// Built with the scatter-gather engine (`AXIDMAParameters.scatterGather`).
    public let scatterGather: Bool
    /// Scatter-gather: the writable bits of CURDESC/TAILDESC (the low 6 are reserved: 0x40 alignment).
    let descriptorPointerMask: UInt32
    /// The low address bits a buffer must have clear: data width - 1 without DRE, 0 with it.
    let addressAlignmentMask: UInt64
    let addressWidthBits: Int
    public let setupNanoseconds: Int64
    /// Scatter-gather: a descriptor fetch and a STATUS write-back, from the profile's cycles.
    public let descriptorFetchNanoseconds: Int64
    public let descriptorUpdateNanoseconds: Int64
    /// Scatter-gather: one IRQDelay unit, 125 periods of the SG clock (PG021: "Timeout Interval =
    /// 125 × IRQDelay × (clock period of SG clock)"). The model runs the SG port on the profile's
    /// `clock`, as when all the core's clocks are tied together.
    public let delayUnitNanoseconds: Int64
    /// Data width × clock: the memory-map side's throughput.
    public let busBytesPerSecond: UInt64
    /// `halt-lag-cycles` of the profile, in board time.
    public let haltLagNanoseconds: Int64
    /// The FPGA drives the line in the polarity the profile declares for it.
    let activeLow: Bool

    // MARK: links

    let bus: Unmanaged<Bus>
    let reactor: Unmanaged<Reactor>
    let interrupts: InterruptController
    /// `route.line` of `interrupts` (kept alive by the `let` above).
    let interruptInput: InterruptInput
    let policy: DMAAccessPolicy
    let fifo: StreamFIFO
    /// MM2S: data read from memory; S2MM: bytes on their way to memory that is not one contiguous
    /// resident span (see `writeStream`).
    let scratch: UnsafeMutableRawBufferPointer
    /// MM2S: what the sink expects; empty for S2MM.
    let expected: UnsafeMutableRawBufferPointer
    /// Scatter-gather: one descriptor's bytes on their way in or out.
    let descriptorBytes: UnsafeMutableRawBufferPointer
    /// Scatter-gather S2MM: where each packet began in the stream (a checker's view, `SGPacketLog`).
    let packetLog: SGPacketLog
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) var completionTimer: TimerID!
    @exclusivity(unchecked) var sourceTimer: TimerID!
    /// Scatter-gather only (nil in direct register mode).
    @exclusivity(unchecked) var descriptorTimer: TimerID!
    @exclusivity(unchecked) var delayTimer: TimerID!
    @exclusivity(unchecked) var settleTimer: TimerID!
    /// What `settleTimer` will do when it fires.
    @exclusivity(unchecked) var pendingSettle = Settle.none

    // MARK: registers (PG021 names)

    @exclusivity(unchecked) public internal(set) var dmacr: UInt32
    @exclusivity(unchecked) public internal(set) var dmasr: UInt32
    /// SA or DA, and SA_MSB or DA_MSB.
    @exclusivity(unchecked) var addressLow: UInt32 = 0
    @exclusivity(unchecked) var addressHigh: UInt32 = 0
    @exclusivity(unchecked) public internal(set) var length: UInt32 = 0
    /// Scatter-gather: CURDESC and TAILDESC (with their MSB halves), 0x40-aligned.
    @exclusivity(unchecked) public internal(set) var currentDescriptor: UInt64 = 0
    @exclusivity(unchecked) public internal(set) var tailDescriptor: UInt64 = 0

    // MARK: state

    @exclusivity(unchecked) var state = TransferState.idle
    /// Scatter-gather: the engine beside `state` (which tracks the data of the descriptor in hand).
    @exclusivity(unchecked) var sg = ScatterGatherState()
    @exclusivity(unchecked) var faults = PendingFaults()
    /// What became of every fault injected (AXIDMAFault.swift).
    let faultLog = FaultLog()
    /// The derived output before fault handling, and whether a lost edge is being held down.
    @exclusivity(unchecked) var outputDerived = false
    @exclusivity(unchecked) var holdingLostEdge = false
    @exclusivity(unchecked) public internal(set) var counters = ChannelCounters()
    /// Tracing (DMAChannel+Trace.swift): nil is off; set through `AXIDMA.tracer`.
    @exclusivity(unchecked) var tracer: Tracer?
    @exclusivity(unchecked) var traceName = TraceName.device
    @exclusivity(unchecked) var tracedRegisters: (control: UInt32, status: UInt32)? = nil

    // Stream endpoint state (see DMAChannel+Stream.swift).
    @exclusivity(unchecked) public internal(set) var source: StreamSource? = nil
    @exclusivity(unchecked) public internal(set) var sink: StreamSink? = nil
    @exclusivity(unchecked) public internal(set) var accounting = StreamAccounting()
    @exclusivity(unchecked) public internal(set) var sinkStatistics = SinkStatistics()
    @exclusivity(unchecked) var generator = PatternGenerator(.none)
    @exclusivity(unchecked) var random: SplitMix64
    @exclusivity(unchecked) var sourceAttached = false
    /// Paused by `pauseSource()` (attached, but producing nothing).
    @exclusivity(unchecked) var sourcePaused = false
    @exclusivity(unchecked) var sourceUnlimited = true
    @exclusivity(unchecked) var sourceRateBytesPerSecond: UInt64 = 1
    @exclusivity(unchecked) var sourceRateCarry: UInt64 = 0
    @exclusivity(unchecked) var sourcePacketSize = PacketSize.fixed(1)
    @exclusivity(unchecked) var sourceBackPressure = false
    @exclusivity(unchecked) var sourceRemainingPackets: UInt64 = 0
    /// S2MM: where the packet being moved starts in the source's stream.
    @exclusivity(unchecked) var inFlightStreamOffset: UInt64 = 0
    /// S2MM: where the packet of the last successful transfer starts in the source's stream (bytes
    /// the source produced before it, dropped ones included). A checker uses it to line its pattern
    /// up with a delivered buffer when drops left gaps; it stays valid until the next transfer completes.
    @exclusivity(unchecked) public internal(set) var lastCompletedStreamOffset: UInt64 = 0
    /// The length of the packet due at the next source tick, drawn when it was scheduled.
    @exclusivity(unchecked) var nextPacketBytes = 0
    /// A back-pressured packet waiting at the source for room in the FIFO (0: none).
    @exclusivity(unchecked) var stalledPacketBytes = 0
    @exclusivity(unchecked) var sinkRateBytesPerSecond: UInt64 = 0
    @exclusivity(unchecked) var sinkChecksData = false
    /// MM2S: the S2MM channel this one's stream loops back to (`connectLoopback`); S2MM: the wire
    /// its packets come from. Nil on both when the channels have their own source and sink.
    @exclusivity(unchecked) var loopbackTarget: DMAChannel? = nil
    @exclusivity(unchecked) var loopback: StreamLoopback? = nil
    /// S2MM with a loopback: the packet the MM2S side is reading right now.
    @exclusivity(unchecked) var pendingLoopbackBytes: [UInt8] = []

    init(
        direction: DMADirection, route: InterruptRoute, deviceIndex: Int, parameters: AXIDMAParameters,
        registerMap: AXIDMARegisterMap, board: Board, reactor: Reactor, random: SplitMix64, policy: DMAAccessPolicy
    ) {
        self.direction = direction
        self.route = route
        self.deviceIndex = deviceIndex
        controlSemantics = registerMap.register(.DMACR, of: direction)!.semantics
        statusSemantics = registerMap.register(.DMASR, of: direction)!.semantics
        scatterGather = registerMap.scatterGather
        lengthMask = scatterGather
            ? registerMap.descriptorWord(.CONTROL, of: direction)!.field(named: "Buffer_Length")!.mask
            : registerMap.register(.LENGTH, of: direction)!.semantics.writable
        descriptorPointerMask = registerMap.register(.TAILDESC, of: direction)?.semantics.writable ?? 0
        addressAlignmentMask = parameters.dataRealignment ? 0 : UInt64(parameters.dataWidthBytes - 1)
        addressWidthBits = registerMap.addressWidthBits
        busBytesPerSecond = UInt64(parameters.dataWidthBytes) * parameters.clockHz
        func nanoseconds(_ cycles: UInt64) -> Int64 { Int64((cycles * 1_000_000_000 + parameters.clockHz - 1) / parameters.clockHz) }
        setupNanoseconds = nanoseconds(parameters.setupCycles)
        descriptorFetchNanoseconds = nanoseconds(parameters.descriptorFetchCycles)
        descriptorUpdateNanoseconds = nanoseconds(parameters.descriptorUpdateCycles)
        delayUnitNanoseconds = nanoseconds(125)
        haltLagNanoseconds = nanoseconds(parameters.haltLagCycles)
        activeLow = route.sense == .levelLow || route.sense == .fallingEdge
        bus = .passUnretained(board.bus)
        self.reactor = .passUnretained(reactor)
        interrupts = board.interrupts
        interruptInput = board.interrupts.input(line: route.line)
        self.policy = policy
        fifo = StreamFIFO(depthBytes: Int(parameters.fifoDepthBytes))
        scratch = .allocate(byteCount: Self.chunkBytes, alignment: 16)
        expected = .allocate(byteCount: direction == .mm2s ? Self.chunkBytes : 0, alignment: 16)
        descriptorBytes = .allocate(byteCount: Int(SGDescriptor.alignment), alignment: 16)
        packetLog = SGPacketLog(enabled: scatterGather && direction == .s2mm)
        dmacr = controlSemantics.resetValue
        dmasr = statusSemantics.resetValue
        self.random = random
        super.init()
        completionTimer = reactor.makeTimer(target: self, tag: Tag.completion.rawValue)
        sourceTimer = reactor.makeTimer(target: self, tag: Tag.source.rawValue)
        if scatterGather {
            descriptorTimer = reactor.makeTimer(target: self, tag: Tag.descriptor.rawValue)
            delayTimer = reactor.makeTimer(target: self, tag: Tag.delay.rawValue)
        }
        settleTimer = reactor.makeTimer(target: self, tag: Tag.settle.rawValue)
        updateInterrupt()
    }

    deinit {
        scratch.deallocate()
        expected.deallocate()
        descriptorBytes.deallocate()
    }

    /// The 64-bit address from SA/DA and their MSB registers.
    public var address: PhysicalAddress { PhysicalAddress(UInt64(addressHigh) << 32 | UInt64(addressLow)) }
    /// RS=1 and not halted: a LENGTH write starts a transfer.
    public var isRunning: Bool { dmacr & DMACR.RS != 0 && dmasr & DMASR.Halted == 0 }
    /// A transfer is armed, moving or stalled.
    public var isBusy: Bool { state != .idle }
    /// The channel's interrupt output as the device derives it: `(DMASR & DMACR & 0x7000) != 0`.
    public var interruptAsserted: Bool { dmasr & dmacr & DMACR.allIrqEn != 0 }

    // MARK: register access

    func read(_ register: ChannelRegister) -> UInt32 {
        switch register {
        case .DMACR: dmacr
        case .DMASR: scatterGather ? dmasr | delayStatus() : dmasr
        case .address: addressLow
        case .addressMSB: addressHigh
        case .LENGTH: length
        case .CURDESC: UInt32(truncatingIfNeeded: currentDescriptor)
        case .CURDESC_MSB: UInt32(truncatingIfNeeded: currentDescriptor >> 32)
        case .TAILDESC: UInt32(truncatingIfNeeded: tailDescriptor)
        case .TAILDESC_MSB: UInt32(truncatingIfNeeded: tailDescriptor >> 32)
        }
    }

    /// A register write; DMACR.Reset has already been handled by the core (it resets both channels).
    /// Inlined into `AXIDMA.write32` (with the interrupt update): the register path is then one
    /// function from the bus to the line (DESIGN.md, per-completion hot path).
    @inline(__always)
    func write(_ register: ChannelRegister, _ value: UInt32) {
        switch register {
        case .DMACR: writeControl(value)
        case .DMASR: dmasr = statusSemantics.applyWrite(value, to: dmasr)
        case .address: addressLow = value
        case .addressMSB: addressHigh = value
        case .LENGTH: writeLength(value)
        case .CURDESC, .CURDESC_MSB, .TAILDESC, .TAILDESC_MSB: writeDescriptorPointer(register, value)
        }
        updateInterrupt()
    }

    /// Out of line: a DMACR write is not per completion, and the register write path inlines into
    /// the driver (`AXIDMA.writeRegister`), where it would only add size.
    @inline(never)
    func writeControl(_ value: UInt32) {
        let wasRunning = dmacr & DMACR.RS != 0
        var control = controlSemantics.applyWrite(value & ~DMACR.Reset, to: dmacr)
        // PG021: an error clears RS and halts the channel; only a reset lets it run again.
        if dmasr & DMASR.errors != 0 { control &= ~DMACR.RS }
        dmacr = control
        if scatterGather {
            // The scatter-gather engine keeps its own Halted bookkeeping (no lag modelled there).
            controlWritten(wasRunning: wasRunning, thresholdWritten: value & DMACR.IRQThreshold != 0)
            return
        }
        // PG021: "DMA stops when current (if any) DMA operations are complete"; an armed S2MM
        // transfer with no data yet is flushed. Halted follows RS after the lag (`followRunStop`).
        if control & DMACR.RS == 0 && wasRunning && state == .awaitingData { state = .idle }
        followRunStop()
    }

    /// Out of line (see `writeControl`): the start of a transfer, its FIFO and timer work.
    @inline(never)
    func writeLength(_ value: UInt32) {
        // PG021: LENGTH must not be written while a transfer is in progress; the model ignores it.
        guard !isBusy else {
            counters.ignoredLengthWrites += 1
            return
        }
        // Bits above the configured width are not implemented (PG021: "always read as zeros").
        length = value & lengthMask
        // PG021: a non-zero LENGTH starts the transfer; "when halted … writing to the LENGTH
        // register has no effect on DMA operations".
        guard length != 0, isRunning else { return }
        dmasr &= ~DMASR.Idle
        switch direction {
        case .mm2s: beginMoving(Int(length))
        case .s2mm:
            state = .awaitingData
            feedFromFIFO()
        }
    }

    // MARK: interrupt

    /// Derives the output and drives it into the controller: asserted while
    /// `(DMASR & DMACR & 0x7000) != 0`. Idempotent; called after every register write and DMA step.
    /// A pending lost-interrupt fault (edge lines only) holds the next assertion down until the
    /// cause goes away, so the controller never sees that edge.
    @inline(__always)
    func updateInterrupt() {
        if tracer != nil { traceRegisters() }
        let derived = interruptAsserted
        var level = derived
        if holdingLostEdge {
            if derived { level = false } else { holdingLostEdge = false }
        } else if derived && !outputDerived && faults.loseNextInterrupt {
            takeLostInterrupt()
            holdingLostEdge = true
            level = false
            counters.lostInterrupts += 1
        }
        outputDerived = derived
        interruptInput.drive(high: level != activeLow)
    }

    // MARK: reset

    /// This channel's part of a soft reset (PG021 DMACR.Reset: "all pending transfers are flushed",
    /// registers return to their reset values). Whatever the device held of the stream is dropped
    /// (reason `reset`); the source is outside the core and keeps producing; pending "next
    /// transfer" faults other than a stall stay armed. `inProgressFor` > 0: DMACR.Reset reads 1 for
    /// that long (the core ignores writes meanwhile; `DMAChannel+Lag.swift`); 0: done at once.
    func reset(inProgressFor nanoseconds: Int64 = 0) {
        reactor._withUnsafeGuaranteedRef {
            $0.disarm(completionTimer)
            $0.disarm(settleTimer)
        }
        pendingSettle = .none
        dropHeldBytes(.reset)
        state = .idle
        dmacr = controlSemantics.resetValue
        dmasr = statusSemantics.resetValue
        addressLow = 0
        addressHigh = 0
        length = 0
        discardStall()
        holdingLostEdge = false
        if scatterGather { resetScatterGather() }
        if nanoseconds > 0 {
            dmacr |= DMACR.Reset
            pendingSettle = .resetDone
            let timer = settleTimer!
            reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
        }
        updateInterrupt()
        if direction == .s2mm { resumeStalledSource() }
    }

    /// Drops everything the device holds of the stream, waiting in the FIFO or in flight.
    func dropHeldBytes(_ reason: DropReason) {
        guard fifo.heldBytes > 0 else { return }
        let inFlight: UInt64
        switch state {
        case .moving, .stalled: inFlight = 1
        case .idle, .awaitingData: inFlight = scatterGather && sg.packetInProgress ? 1 : 0
        }
        accounting.dropped[reason] += UInt64(fifo.heldBytes)
        accounting.droppedPackets += UInt64(fifo.waitingPackets) + inFlight
        accounting.heldBytes = 0
        fifo.flush()
    }

    // MARK: timing and data movement

    /// Schedules the completion of a transfer of `bytes`: setup + bytes / (data width × clock), or
    /// slower if the MM2S sink consumes more slowly.
    @inline(__always)
    func beginMoving(_ bytes: Int) {
        if tracer != nil { traceStart(bytes) }
        if faults.stall {
            takeStall()
            state = .stalled(bytes: bytes)
            return
        }
        state = .moving(bytes: bytes)
        let moved = direction == .s2mm ? min(bytes, Int(length)) : bytes
        let timer = completionTimer!
        let nanoseconds = movingNanoseconds(moved)
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
    }

    /// How long `moved` bytes take: setup + bytes / (data width × clock), or slower if the MM2S
    /// sink consumes more slowly, plus a pending delay-completion fault (used up here).
    @inline(__always)
    func movingNanoseconds(_ moved: Int) -> Int64 {
        var nanoseconds = setupNanoseconds + transferNanoseconds(moved, bytesPerSecond: busBytesPerSecond)
        if sinkRateBytesPerSecond != 0 {
            nanoseconds = max(nanoseconds, setupNanoseconds + transferNanoseconds(moved, bytesPerSecond: sinkRateBytesPerSecond))
        }
        if faults.delayPending { nanoseconds += takeDelay() }
        return nanoseconds
    }

    public override func reactorEvent(_ tag: UInt64) {
        switch Tag(rawValue: tag) {
        case .completion: complete()
        case .source: sourceTick()
        case .descriptor: descriptorStep()
        case .delay: delayExpired()
        case .settle: settle()
        case nil: break
        }
    }

    @inline(__always)
    private func complete() {
        guard case .moving(let bytes) = state else { return }
        state = .idle
        let error = direction == .mm2s ? finishMM2S(bytes) : finishS2MM(bytes)
        if error != 0 {
            // An error halts at once (PG021: the channel halts and RS is cleared).
            dmasr |= error | DMASR.Err_Irq | DMASR.Halted
            dmacr &= ~DMACR.RS
            counters.errors += 1
            cancelSettle()
        } else {
            dmasr |= DMASR.IOC_Irq | DMASR.Idle
            counters.completions += 1
            // RS cleared while it moved: Halted follows now (after the lag). Not on the hot path:
            // a running channel has RS set.
            if dmacr & DMACR.RS == 0 { followRunStop() }
        }
        if tracer != nil { traceCompletion(bytes, failed: error != 0) }
        updateInterrupt()
        if direction == .s2mm { resumeStalledSource() }
    }

    /// Reads LENGTH bytes from memory and hands them to the sink (or, looped back, to the S2MM
    /// side as one packet). Returns the DMASR error bit, or 0.
    private func finishMM2S(_ bytes: Int) -> UInt32 {
        let error = readForSink(address, bytes)
        if error == 0 {
            sinkStatistics.packets += 1
            if loopbackTarget != nil { loopBack(bytes) }
        }
        return error
    }

    /// Writes the packet (at most LENGTH bytes of it) to memory and LENGTH back. Returns the DMASR
    /// error bit, or 0.
    @inline(__always)
    private func finishS2MM(_ packetBytes: Int) -> UInt32 {
        let programmed = Int(length)
        let received = min(packetBytes, programmed)
        defer {
            fifo.release(packetBytes)
            accounting.heldBytes -= UInt64(packetBytes)
        }
        let (error, lost) = writeFromStream(address, received, packetOffset: 0)
        if let loopback { loopback.release(upTo: inFlightStreamOffset + UInt64(packetBytes)) }
        if error != 0 {
            accounting.drop(packetBytes, .transferError)
            return error
        }
        accounting.deliveredBytes += UInt64(received - lost)
        accounting.dropped[.unalignedWithoutDRE] += UInt64(lost)
        accounting.deliveredPackets += 1
        lastCompletedStreamOffset = inFlightStreamOffset
        // PG021: at completion S2MM_LENGTH holds the number of bytes received.
        length = UInt32(received)
        guard packetBytes <= programmed else {
            // PG021 calls a packet longer than the buffer undefined behaviour. Real cores fill the
            // buffer, report DMAIntErr and halt; that is what we model. The rest of the packet is lost.
            accounting.drop(packetBytes - programmed, .packetTooLong)
            return DMASR.DMAIntErr
        }
        return 0
    }
}

/// What a channel counts besides its stream: plain counters for summaries and invariants.
public struct ChannelCounters: Hashable, Sendable {
    public internal(set) var completions: UInt64 = 0
    public internal(set) var errors: UInt64 = 0
    /// LENGTH writes while a transfer was in progress (PG021 forbids them; the model ignores them).
    public internal(set) var ignoredLengthWrites: UInt64 = 0
    public internal(set) var spuriousPulses: UInt64 = 0
    public internal(set) var lostInterrupts: UInt64 = 0
    public internal(set) var corruptedBytes: UInt64 = 0
    /// Transfers (or descriptors) whose buffer address was not aligned to the data width on a core
    /// without DRE: their data went where the byte lanes put it (DMAChannel+Data.swift). A protocol
    /// checker reads this.
    public internal(set) var unalignedTransfers: UInt64 = 0
    /// Scatter-gather: descriptors fetched, and the ones found stale (Cmplt already set: SGIntErr).
    public internal(set) var descriptorsFetched: UInt64 = 0
    public internal(set) var staleDescriptors: UInt64 = 0
    /// Scatter-gather: CURDESC writes while the channel was not halted (PG021: read-only then).
    public internal(set) var ignoredDescriptorPointerWrites: UInt64 = 0
    public init() {}
}
