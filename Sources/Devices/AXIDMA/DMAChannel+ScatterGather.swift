import Board
import Reactor

/// Where a scatter-gather channel is in its walk of the descriptor chain.
enum SGPhase: Equatable {
    /// Halted, or running with no TAILDESC written since RS was set.
    case stopped
    /// A descriptor fetch is under way (the descriptor timer is armed).
    case fetching
    /// A descriptor is in hand: its data moves or (S2MM) waits for a packet; `state` says which.
    case working
    /// After the descriptor TAILDESC names: DMASR.Idle, until the next TAILDESC write.
    case paused
}

/// The scatter-gather engine's state beside the channel's registers. A plain value.
struct ScatterGatherState {
    var phase = SGPhase.stopped
    /// The descriptor in hand (valid while `working`).
    var descriptor = SGDescriptor(address: PhysicalAddress(0), nextDescriptor: PhysicalAddress(0),
                                  bufferAddress: PhysicalAddress(0), control: 0, status: 0)
    /// S2MM: the packet being spread over descriptors (its length, and the bytes already taken).
    var packetBytes = 0
    var packetDone = 0
    /// Interrupt coalescing: packets left before the next IOC_Irq (DMASR.IRQThresholdSts).
    var thresholdCounter: UInt32 = 1
    /// When the IRQDelay timer started (board nanoseconds), or -1 while it is not running.
    var delayStartNanoseconds: Int64 = -1
    /// Paused: where a TAILDESC write resumes (the tail descriptor's NXTDESC).
    var resumeAt: UInt64 = 0

    var packetInProgress: Bool { packetDone < packetBytes }
}

/// The scatter-gather engine of a channel (PG021 "Scatter Gather Mode", the SG register tables,
/// "Scatter Gather Descriptor", "Interrupt Coalescing"), driven by register writes and by the
/// channel's descriptor and delay timers; it shares the stream endpoint, the data movement and the
/// interrupt derivation with direct register mode.
///
/// What it does, and where PG021 leaves a choice, what the model chose:
/// - CURDESC is written only while halted (PG021: "R/W (RO)"); a write at another time is ignored
///   and counted (`ignoredDescriptorPointerWrites`). The low 6 bits of both pointers read 0.
/// - A TAILDESC write while running starts fetching at CURDESC, or, paused at the tail, resumes at
///   the tail's NXTDESC; while the engine works it only moves the pause point. While halted it is
///   stored and starts nothing (PG021 DMASR.Halted note). Above 32 address bits the TAILDESC_MSB
///   write is the one that starts (as PG034 says of the AXI CDMA's SG engine; drivers write the low
///   half first).
/// - Per descriptor: a fetch (`descriptor-fetch-cycles`), the data (setup + bytes / bandwidth), the
///   STATUS write-back (`descriptor-update-cycles`), then the next fetch, or a pause with Idle
///   after the descriptor equal to TAILDESC. CURDESC names the descriptor being worked on from the
///   start of its fetch; paused, it still names the tail (choice: PG021 says only "the current
///   descriptor being worked on"; QEMU advances it to NXTDESC instead). On an error it names the
///   failing descriptor (PG021).
/// - A fetched descriptor with Cmplt set is stale: SGIntErr, halt, the descriptor is not written
///   (PG034's words for the same SG engine: "the AXI CDMA engine halts with no update to the
///   descriptor"). A bus fault on a fetch or a write-back is SGSlvErr or SGDecErr; a data fault is
///   DMASlvErr/DMADecErr in DMASR and in the descriptor's STATUS; a buffer length of 0 is DMAIntErr.
///   A descriptor that ends in a data error is written back with the error bit and Cmplt (choice:
///   so a driver scanning for Cmplt finds it; PG021 does not say whether Cmplt is set).
/// - S2MM: a packet fills as many descriptors as it needs; the first gets RXSOF, the last RXEOF,
///   each its own byte count. MM2S: SOF..EOF descriptors form one packet for the sink.
/// - Coalescing (PG021 DMACR.IRQThreshold/IRQDelay): every completed packet (the descriptor with
///   EOF: TXEOF, or RXEOF for S2MM) counts the threshold counter down; at 0 IOC_Irq is set and the
///   counter reloads from IRQThreshold. Choice: packets, not every descriptor, as QEMU's model counts
///   (stream_complete only at end of packet) and as Linux's xilinx_dma programs it (the threshold
///   is its number of queued transactions, each a packet). A non-zero threshold write reloads the
///   counter too (PG034, the AXI CDMA's same SG engine). With IRQDelay
///   non-zero a timer starts at the end of each packet, is cleared by the next packet's start, and
///   after 125 × IRQDelay SG clock periods sets Dly_Irq and reloads the threshold counter.
///   DMASR[23:16] shows the counter, DMASR[31:24] the delay timer's elapsed 125-clock periods.
/// - Cyclic BD mode (DMACR bit 4): Cmplt is ignored on fetch and TAILDESC only triggers: the engine
///   follows NXTDESC round the ring until RS is cleared or the core is reset.
/// - Clearing RS lets a descriptor whose data moves finish and write back, then halts; a fetch in
///   flight or a descriptor waiting for a packet is abandoned at once (PG021: "pending commands/
///   transfers are flushed or completed").
///
/// Every step is one timer event: the engine never walks the chain in a loop.
extension DMAChannel {
    // MARK: registers

    /// CURDESC/TAILDESC (and MSB) writes. Out of line: the register write path inlines into the
    /// driver (`AXIDMA.writeRegister`), and the scatter-gather registers are not on it.
    @inline(never)
    func writeDescriptorPointer(_ register: ChannelRegister, _ value: UInt32) {
        switch register {
        case .CURDESC, .CURDESC_MSB:
            guard dmacr & DMACR.RS == 0, dmasr & DMASR.Halted != 0 else {
                counters.ignoredDescriptorPointerWrites += 1
                return
            }
            currentDescriptor = register == .CURDESC
                ? currentDescriptor & ~0xFFFF_FFFF | UInt64(value & descriptorPointerMask)
                : currentDescriptor & 0xFFFF_FFFF | UInt64(value) << 32
        case .TAILDESC:
            tailDescriptor = tailDescriptor & ~0xFFFF_FFFF | UInt64(value & descriptorPointerMask)
            if addressWidthBits <= 32 { tailWritten() }
        case .TAILDESC_MSB:
            tailDescriptor = tailDescriptor & 0xFFFF_FFFF | UInt64(value) << 32
            tailWritten()
        case .DMACR, .DMASR, .address, .addressMSB, .LENGTH:
            preconditionFailure("\(register) is not a descriptor pointer")
        }
    }

    /// DMACR was written (the masks already applied): RS, a threshold reload, a stop.
    func controlWritten(wasRunning: Bool, thresholdWritten: Bool) {
        if thresholdWritten { reloadThreshold() }
        if dmacr & DMACR.RS != 0 {
            if dmasr & DMASR.Halted != 0 {
                dmasr &= ~DMASR.Halted
                sg.phase = .stopped
            }
        } else if wasRunning {
            stopRequested()
        }
    }

    /// RS cleared: halt now unless a descriptor's data is moving (it finishes first).
    private func stopRequested() {
        switch state {
        case .moving, .stalled: return  // Halted follows the write-back (never, for a stall)
        case .awaitingData: state = .idle
        case .idle: break
        }
        reactor._withUnsafeGuaranteedRef { $0.disarm(descriptorTimer) }
        halt()
    }

    private func halt() {
        sg.phase = .stopped
        dmasr |= DMASR.Halted
        stopDelayTimer()
    }

    /// TAILDESC (or, above 32 bits, TAILDESC_MSB) was written.
    private func tailWritten() {
        guard dmacr & DMACR.RS != 0, dmasr & DMASR.Halted == 0 else { return }
        switch sg.phase {
        case .stopped: startFetch(at: currentDescriptor)
        case .paused:
            dmasr &= ~DMASR.Idle
            startFetch(at: sg.resumeAt)
        case .fetching, .working: break  // the pause point moved; the engine reads TAILDESC as it goes
        }
    }

    /// The IRQDelay timer's elapsed periods, for DMASR[31:24] (0 while it is not running).
    func delayStatus() -> UInt32 {
        guard sg.delayStartNanoseconds >= 0 else { return 0 }
        let elapsed = (reactor._withUnsafeGuaranteedRef { $0.now }.nanosecondsSinceStart - sg.delayStartNanoseconds) / delayUnitNanoseconds
        return UInt32(min(elapsed, 0xFF)) << DMASR.IRQDelayStsShift
    }

    // MARK: the walk

    private func startFetch(at address: UInt64) {
        currentDescriptor = address
        sg.phase = .fetching
        let timer = descriptorTimer!
        let nanoseconds = descriptorFetchNanoseconds
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
    }

    /// The descriptor timer fired: a fetch arrived, or a descriptor's data moved.
    func descriptorStep() {
        switch sg.phase {
        case .fetching: fetched()
        case .working: dataMoved()
        case .stopped, .paused: break
        }
    }

    private func fetched() {
        let at = PhysicalAddress(currentDescriptor)
        counters.descriptorsFetched += 1
        let bytes = SGDescriptor.fetchBytes
        if let error = descriptorAccessError(at, bytes, .descriptorFetch) { return failDescriptor(error) }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: descriptorBytes[0..<bytes])
        _ = bus._withUnsafeGuaranteedRef { $0.read(into: buffer, from: at) }
        if tracer != nil { traceDescriptorFetch(at: at) }
        var descriptor = SGDescriptor(fetched: UnsafeRawBufferPointer(buffer), from: at, addressWidthBits: addressWidthBits)
        if faults.descriptorFault != 0 {
            let fault = takeDescriptorFault(cyclic: dmacr & DMACR.CyclicBDEnable != 0)
            if fault != SGStatus.Cmplt { return failDescriptor(fault) }
            descriptor.status |= SGStatus.Cmplt
        }
        if descriptor.isComplete && dmacr & DMACR.CyclicBDEnable == 0 {
            counters.staleDescriptors += 1
            return failDescriptor(DMASR.SGIntErr)
        }
        sg.descriptor = descriptor
        sg.phase = .working
        let length = descriptor.bufferLength(mask: lengthMask)
        guard length > 0 else { return finish(error: DMASR.DMAIntErr, transferred: 0, statusBits: 0, endsPacket: false) }
        switch direction {
        case .mm2s:
            if descriptor.control & SGControl.SOF != 0 { stopDelayTimer() }
            beginDescriptorData(length)
        case .s2mm:
            if sg.packetInProgress {
                beginDescriptorData(min(sg.packetBytes - sg.packetDone, length))
            } else {
                state = .awaitingData
                feedFromFIFO()
            }
        }
    }

    /// S2MM: a packet reached the descriptor waiting for one (from `feedFromFIFO`).
    func packetArrived(_ bytes: Int) {
        sg.packetBytes = bytes
        sg.packetDone = 0
        packetLog.record(buffer: sg.descriptor.bufferAddress.rawValue, streamOffset: inFlightStreamOffset)
        stopDelayTimer()  // PG021: the delay timer "resets with the receipt of a new packet"
        beginDescriptorData(min(bytes, sg.descriptor.bufferLength(mask: lengthMask)))
    }

    private func beginDescriptorData(_ bytes: Int) {
        if tracer != nil { traceStart(bytes, at: sg.descriptor.bufferAddress) }
        if faults.stall {
            takeStall()
            state = .stalled(bytes: bytes)
            return
        }
        state = .moving(bytes: bytes)
        let timer = descriptorTimer!
        let nanoseconds = movingNanoseconds(bytes) + descriptorUpdateNanoseconds
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
    }

    private func dataMoved() {
        guard case .moving(let bytes) = state else { return }
        state = .idle
        let descriptor = sg.descriptor
        switch direction {
        case .mm2s:
            let error = readForSink(descriptor.bufferAddress, bytes)
            let endsPacket = descriptor.control & SGControl.EOF != 0
            if error == 0 && endsPacket { sinkStatistics.packets += 1 }
            finish(error: error, transferred: error == 0 ? bytes : 0, statusBits: 0, endsPacket: endsPacket)
        case .s2mm:
            let (error, lost) = writeFromStream(descriptor.bufferAddress, bytes, packetOffset: sg.packetDone)
            guard error == 0 else {
                // The packet's remaining bytes (this descriptor's and the rest) are lost.
                let rest = sg.packetBytes - sg.packetDone
                fifo.release(rest)
                accounting.heldBytes -= UInt64(rest)
                accounting.drop(rest, .transferError)
                sg.packetDone = sg.packetBytes
                return finish(error: error, transferred: 0, statusBits: 0, endsPacket: false)
            }
            fifo.release(bytes)
            accounting.heldBytes -= UInt64(bytes)
            accounting.deliveredBytes += UInt64(bytes - lost)
            accounting.dropped[.unalignedWithoutDRE] += UInt64(lost)
            var statusBits = sg.packetDone == 0 ? SGStatus.RXSOF : 0
            sg.packetDone += bytes
            let endsPacket = !sg.packetInProgress
            if endsPacket {
                statusBits |= SGStatus.RXEOF
                accounting.deliveredPackets += 1
                lastCompletedStreamOffset = inFlightStreamOffset
            }
            finish(error: 0, transferred: bytes, statusBits: statusBits, endsPacket: endsPacket)
        }
    }

    /// Writes the descriptor's STATUS back and goes on: the next fetch, the pause at the tail, or
    /// the halt an error (or a cleared RS) asks for.
    private func finish(error: UInt32, transferred: Int, statusBits: UInt32, endsPacket: Bool) {
        // DMASR's DMAIntErr/DMASlvErr/DMADecErr (bits 4–6) sit at bits 28–30 of STATUS.
        let status = SGStatus.Cmplt | error << 24 | statusBits | UInt32(transferred) & lengthMask
        if let fault = writeBackStatus(status) { return failDescriptor(fault) }
        if error != 0 { return failDescriptor(error) }
        counters.completions += 1
        if endsPacket { packetEnded() }
        if tracer != nil { traceCompletion(transferred, failed: false) }
        if dmacr & DMACR.CyclicBDEnable == 0 && currentDescriptor == tailDescriptor {
            sg.phase = .paused
            sg.resumeAt = sg.descriptor.nextDescriptor.rawValue
            dmasr |= DMASR.Idle
            if dmacr & DMACR.RS == 0 { dmasr |= DMASR.Halted }
        } else if dmacr & DMACR.RS == 0 {
            halt()
        } else {
            startFetch(at: sg.descriptor.nextDescriptor.rawValue)
        }
        updateInterrupt()
        if direction == .s2mm { resumeStalledSource() }
    }

    /// An error halts the channel: DMASR's bit and Err_Irq, RS cleared, CURDESC left on the descriptor.
    private func failDescriptor(_ error: UInt32) {
        state = .idle
        dmasr |= error | DMASR.Err_Irq
        dmacr &= ~DMACR.RS
        counters.errors += 1
        halt()
        if tracer != nil { traceCompletion(0, failed: true) }
        updateInterrupt()
    }

    private func writeBackStatus(_ status: UInt32) -> UInt32? {
        let at = PhysicalAddress(currentDescriptor) + UInt64(DescriptorWord.STATUS.rawValue)
        if let error = descriptorAccessError(at, 4, .descriptorUpdate) { return error }
        // Little-endian on the AXI side, whatever the CPU's order.
        var word = status.littleEndian
        _ = withUnsafeBytes(of: &word) { bytes in bus._withUnsafeGuaranteedRef { $0.write(bytes, to: at) } }
        return nil
    }

    /// SGDecErr when the access policy refuses or nothing answers, SGSlvErr when a window that is
    /// not memory does.
    private func descriptorAccessError(_ at: PhysicalAddress, _ count: Int, _ kind: DMAAccess.Kind) -> UInt32? {
        let access = DMAAccess(deviceIndex: deviceIndex, direction: direction, address: at, byteCount: UInt64(count), kind: kind)
        guard policy.admit(access) else { return DMASR.SGDecErr }
        return busError(at, count, decode: DMASR.SGDecErr, slave: DMASR.SGSlvErr)
    }

    // MARK: interrupt coalescing

    func reloadThreshold() {
        sg.thresholdCounter = (dmacr & DMACR.IRQThreshold) >> DMACR.IRQThresholdShift
        publishThreshold()
    }

    private func publishThreshold() {
        dmasr = dmasr & ~DMASR.IRQThresholdSts | sg.thresholdCounter << DMASR.IRQThresholdStsShift
    }

    private func packetEnded() {
        sg.thresholdCounter -= 1
        if sg.thresholdCounter == 0 {
            dmasr |= DMASR.IOC_Irq
            reloadThreshold()
        } else {
            publishThreshold()
        }
        let delay = Int64((dmacr & DMACR.IRQDelay) >> DMACR.IRQDelayShift)
        guard delay != 0 else { return stopDelayTimer() }
        sg.delayStartNanoseconds = reactor._withUnsafeGuaranteedRef { $0.now }.nanosecondsSinceStart
        let timer = delayTimer!
        let nanoseconds = delay * delayUnitNanoseconds
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: TimeSpan(nanoseconds: nanoseconds)) }
    }

    private func stopDelayTimer() {
        guard sg.delayStartNanoseconds >= 0 else { return }
        sg.delayStartNanoseconds = -1
        reactor._withUnsafeGuaranteedRef { $0.disarm(delayTimer) }
    }

    /// The delay timer ran out: Dly_Irq, and (PG034, the same SG engine) a threshold reload.
    func delayExpired() {
        sg.delayStartNanoseconds = -1
        dmasr |= DMASR.Dly_Irq
        reloadThreshold()
        updateInterrupt()
    }

    // MARK: reset

    /// The scatter-gather part of a soft reset: both pointers 0, the walk and the timers stopped.
    func resetScatterGather() {
        reactor._withUnsafeGuaranteedRef { reactor in
            reactor.disarm(descriptorTimer)
            reactor.disarm(delayTimer)
        }
        sg = ScatterGatherState()
        currentDescriptor = 0
        tailDescriptor = 0
    }
}
