import Board
import Reactor
import Trace

/// One channel of the AXI DMA in direct register mode (PG021): MM2S (memory to stream) or S2MM
/// (stream to memory), its five registers, its transfer, its interrupt output and its stream endpoint.
///
/// Where PG021 is silent, the model decides (and the tests pin down):
/// - DMASR.Idle is set at completion and cleared when the next transfer starts or by a reset;
///   clearing RS leaves it alone.
/// - LENGTH written while halted, or with 0, is stored (the register is R/W) but starts nothing.
/// - Clearing RS while a transfer moves lets it finish; Halted follows at its completion. An armed
///   S2MM transfer still waiting for data is flushed at once.
/// - Data moves at completion, all at once: the access policy and the bus are consulted then, for
///   the range actually moved, and a failure moves no byte.
/// - The soft reset is immediate: DMACR.Reset reads 0 on the next access.
///
/// Order as in Renode/QEMU models: state, register access, `updateInterrupt()`, `reset()`, timing
/// and data movement. Stream endpoints are in `DMAChannel+Stream.swift`, faults in `AXIDMAFault.swift`.
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

    /// What a reactor event of this channel is: its two timers.
    enum Tag: UInt64 {
        /// The transfer in flight is done (`complete()`).
        case completion
        /// The attached stream source produces its next packet (`sourceTick()`).
        case source
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
    let lengthMask: UInt32
    public let setupNanoseconds: Int64
    /// Data width × clock: the memory-map side's throughput.
    public let busBytesPerSecond: UInt64
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
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) var completionTimer: TimerID!
    @exclusivity(unchecked) var sourceTimer: TimerID!

    // MARK: registers (PG021 names)

    @exclusivity(unchecked) public internal(set) var dmacr: UInt32
    @exclusivity(unchecked) public internal(set) var dmasr: UInt32
    /// SA or DA, and SA_MSB or DA_MSB.
    @exclusivity(unchecked) var addressLow: UInt32 = 0
    @exclusivity(unchecked) var addressHigh: UInt32 = 0
    @exclusivity(unchecked) public internal(set) var length: UInt32 = 0

    // MARK: state

    @exclusivity(unchecked) var state = TransferState.idle
    @exclusivity(unchecked) var faults = PendingFaults()
    /// What became of every fault injected (AXIDMAFault.swift).
    let faultLog = FaultLog()
    /// The derived output before fault handling, and whether a lost edge is being held down.
    @exclusivity(unchecked) var outputDerived = false
    @exclusivity(unchecked) var holdingLostEdge = false
    @exclusivity(unchecked) public internal(set) var counters = ChannelCounters()
    /// Tracing (DMAChannel+Trace.swift): nil is off; set through `AXIDMA.tracer`.
    @exclusivity(unchecked) var tracer: Tracer?
    @exclusivity(unchecked) var traceName = ""
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

    init(
        direction: DMADirection, route: InterruptRoute, deviceIndex: Int, parameters: AXIDMAParameters,
        registerMap: AXIDMARegisterMap, board: Board, reactor: Reactor, random: SplitMix64, policy: DMAAccessPolicy
    ) {
        self.direction = direction
        self.route = route
        self.deviceIndex = deviceIndex
        controlSemantics = registerMap.register(.DMACR, of: direction).semantics
        statusSemantics = registerMap.register(.DMASR, of: direction).semantics
        lengthMask = registerMap.register(.LENGTH, of: direction).semantics.writable
        busBytesPerSecond = UInt64(parameters.dataWidthBytes) * parameters.clockHz
        setupNanoseconds = Int64((parameters.setupCycles * 1_000_000_000 + parameters.clockHz - 1) / parameters.clockHz)
        activeLow = route.sense == .levelLow || route.sense == .fallingEdge
        bus = .passUnretained(board.bus)
        self.reactor = .passUnretained(reactor)
        interrupts = board.interrupts
        interruptInput = board.interrupts.input(line: route.line)
        self.policy = policy
        fifo = StreamFIFO(depthBytes: Int(parameters.fifoDepthBytes))
        scratch = .allocate(byteCount: Self.chunkBytes, alignment: 16)
        expected = .allocate(byteCount: direction == .mm2s ? Self.chunkBytes : 0, alignment: 16)
        dmacr = controlSemantics.resetValue
        dmasr = statusSemantics.resetValue
        self.random = random
        super.init()
        completionTimer = reactor.makeTimer(target: self, tag: Tag.completion.rawValue)
        sourceTimer = reactor.makeTimer(target: self, tag: Tag.source.rawValue)
        updateInterrupt()
    }

    deinit {
        scratch.deallocate()
        expected.deallocate()
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
        case .DMASR: dmasr
        case .address: addressLow
        case .addressMSB: addressHigh
        case .LENGTH: length
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
        }
        updateInterrupt()
    }

    private func writeControl(_ value: UInt32) {
        let wasRunning = dmacr & DMACR.RS != 0
        var control = controlSemantics.applyWrite(value & ~DMACR.Reset, to: dmacr)
        // PG021: an error clears RS and halts the channel; only a reset lets it run again.
        if dmasr & DMASR.errors != 0 { control &= ~DMACR.RS }
        dmacr = control
        if control & DMACR.RS != 0 {
            dmasr &= ~DMASR.Halted
        } else if wasRunning {
            // PG021: "DMA stops when current (if any) DMA operations are complete"; an armed S2MM
            // transfer with no data yet is flushed.
            switch state {
            case .idle: dmasr |= DMASR.Halted
            case .awaitingData:
                state = .idle
                dmasr |= DMASR.Halted
            case .moving, .stalled: break  // Halted follows at completion (never, for a stall)
            }
        }
    }

    private func writeLength(_ value: UInt32) {
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
    /// transfer" faults other than a stall stay armed.
    func reset() {
        reactor._withUnsafeGuaranteedRef { $0.disarm(completionTimer) }
        dropHeldBytes(.reset)
        state = .idle
        dmacr = controlSemantics.resetValue
        dmasr = statusSemantics.resetValue
        addressLow = 0
        addressHigh = 0
        length = 0
        discardStall()
        holdingLostEdge = false
        updateInterrupt()
        if direction == .s2mm { resumeStalledSource() }
    }

    /// Drops everything the device holds of the stream, waiting in the FIFO or in flight.
    func dropHeldBytes(_ reason: DropReason) {
        guard fifo.heldBytes > 0 else { return }
        let inFlight: UInt64
        switch state {
        case .moving, .stalled: inFlight = 1
        case .idle, .awaitingData: inFlight = 0
        }
        accounting.dropped[reason] += UInt64(fifo.heldBytes)
        accounting.droppedPackets += UInt64(fifo.waitingPackets) + inFlight
        accounting.heldBytes = 0
        fifo.flush()
    }

    // MARK: timing and data movement

    /// Schedules the completion of a transfer of `bytes`: setup + bytes / (data width × clock), or
    /// slower if the MM2S sink consumes more slowly.
    func beginMoving(_ bytes: Int) {
        if tracer != nil { traceStart(bytes) }
        if faults.stall {
            takeStall()
            state = .stalled(bytes: bytes)
            return
        }
        state = .moving(bytes: bytes)
        let moved = direction == .s2mm ? min(bytes, Int(length)) : bytes
        var nanoseconds = setupNanoseconds + transferNanoseconds(moved, bytesPerSecond: busBytesPerSecond)
        if sinkRateBytesPerSecond != 0 {
            nanoseconds = max(nanoseconds, setupNanoseconds + transferNanoseconds(moved, bytesPerSecond: sinkRateBytesPerSecond))
        }
        if faults.delayPending { nanoseconds += takeDelay() }
        let timer = completionTimer!
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
    }

    public override func reactorEvent(_ tag: UInt64) {
        switch Tag(rawValue: tag) {
        case .completion: complete()
        case .source: sourceTick()
        case nil: break
        }
    }

    private func complete() {
        guard case .moving(let bytes) = state else { return }
        state = .idle
        let error = direction == .mm2s ? finishMM2S(bytes) : finishS2MM(bytes)
        if error != 0 {
            dmasr |= error | DMASR.Err_Irq | DMASR.Halted
            dmacr &= ~DMACR.RS
            counters.errors += 1
        } else {
            dmasr |= DMASR.IOC_Irq | DMASR.Idle
            counters.completions += 1
        }
        if dmacr & DMACR.RS == 0 { dmasr |= DMASR.Halted }
        if tracer != nil { traceCompletion(bytes, failed: error != 0) }
        updateInterrupt()
        if direction == .s2mm { resumeStalledSource() }
    }

    /// Reads LENGTH bytes from memory and hands them to the sink. Returns the DMASR error bit, or 0.
    private func finishMM2S(_ bytes: Int) -> UInt32 {
        let start = address
        if let error = movementError(start, bytes) { return error }
        var corruptAt = faults.takeCorruption()
        if sinkChecksData {
            var done = 0
            while done < bytes {  // bounded: LENGTH < 2^26
                let count = min(Self.chunkBytes, bytes - done)
                let data = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
                _ = bus._withUnsafeGuaranteedRef { $0.read(into: data, from: start + UInt64(done)) }
                if let corruption = corruptAt, corruption.offset >= done && corruption.offset < done + count {
                    data[corruption.offset - done] ^= corruption.mask
                    counters.corruptedBytes += 1
                    settleCorruption(corruption, applied: true, moved: bytes, carriesData: true)
                    corruptAt = nil
                }
                // Checked in one pass where the pattern allows (counter, PRBS), else against
                // the generated bytes in `expected`.
                sinkStatistics.mismatchedBytes += UInt64(generator.countMismatches(in: UnsafeRawBufferPointer(data), scratch: expected))
                done += count
            }
            sinkStatistics.verifiedBytes += UInt64(bytes)
        }
        if let corruption = corruptAt { settleCorruption(corruption, applied: false, moved: bytes, carriesData: sinkChecksData) }
        sinkStatistics.packets += 1
        sinkStatistics.bytes += UInt64(bytes)
        return 0
    }

    /// Writes the packet (at most LENGTH bytes of it) to memory and LENGTH back. Returns the DMASR
    /// error bit, or 0.
    private func finishS2MM(_ packetBytes: Int) -> UInt32 {
        let programmed = Int(length)
        let received = min(packetBytes, programmed)
        let start = address
        defer {
            fifo.release(packetBytes)
            accounting.heldBytes -= UInt64(packetBytes)
        }
        if let error = movementError(start, received) {
            accounting.drop(packetBytes, .transferError)
            return error
        }
        if fifo.carriesData { writeStream(received, to: start) }
        if let corruption = faults.takeCorruption() {
            let applies = corruption.offset < received && fifo.carriesData
            if applies {
                let target = start + UInt64(corruption.offset)
                bus._withUnsafeGuaranteedRef { bus in
                    if case .success(let byte) = bus.read8(at: target) { _ = bus.write8(byte ^ corruption.mask, at: target) }
                }
                counters.corruptedBytes += 1
            }
            settleCorruption(corruption, applied: applies, moved: received, carriesData: fifo.carriesData)
        }
        accounting.deliveredBytes += UInt64(received)
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

    /// Writes the first `count` bytes of the packet in flight to memory at `start`, generated from its
    /// stream offset (`StreamFIFO` holds no bytes): in place when the RAM there is one contiguous
    /// resident span (the DMA pool; one write pass, no copy), else a chunk at a time through
    /// `scratch` and the bus. The range was checked by `movementError`.
    private func writeStream(_ count: Int, to start: PhysicalAddress) {
        guard count > 0 else { return }
        generator.seek(to: inFlightStreamOffset)
        if let target = bus._withUnsafeGuaranteedRef({ $0.contiguousRAM(at: start, count: count) }) {
            generator.fill(target, count)
            return
        }
        var done = 0
        while done < count {  // bounded: LENGTH < 2^26
            let n = min(Self.chunkBytes, count - done)
            generator.fill(scratch.baseAddress!, n)
            _ = bus._withUnsafeGuaranteedRef { $0.write(UnsafeRawBufferPointer(start: scratch.baseAddress!, count: n), to: start + UInt64(done)) }
            done += n
        }
    }

    /// The error that stops `count` bytes at `start` from moving: an injected fault, a refusal by
    /// the access policy (DMADecErr), or a bus fault (no slave: DMADecErr; a slave that cannot take
    /// a burst, such as a register window or an unmodelled window: DMASlvErr).
    private func movementError(_ start: PhysicalAddress, _ count: Int) -> UInt32? {
        if faults.transferError != 0 { return takeTransferError() }
        let access = DMAAccess(deviceIndex: deviceIndex, direction: direction, address: start, byteCount: UInt64(count))
        guard policy.admit(access) else { return DMASR.DMADecErr }
        guard count > 0 else { return nil }
        if bus._withUnsafeGuaranteedRef({ $0.ramHolds(start, count: UInt64(count)) }) { return nil }
        let region = bus._withUnsafeGuaranteedRef { $0.region(at: start) }
        guard let region else { return DMASR.DMADecErr }
        switch region.target {
        case .ram: return region.range.contains(start, count: UInt64(count)) ? nil : DMASR.DMADecErr
        case .device, .reserved: return DMASR.DMASlvErr
        }
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
    public init() {}
}
