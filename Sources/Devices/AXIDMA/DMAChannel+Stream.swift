import Reactor

/// The stream endpoint of a channel: the source feeding S2MM through the device FIFO, the sink
/// taking MM2S packets.
///
/// S2MM flow: a rate-limited source produces one packet per tick, each arriving once it is complete
/// (n bytes take n / rate). An armed transfer with nothing waiting takes it at once; otherwise it
/// waits in the FIFO if it fits, else it is dropped (`fifoOverflow`), or, with back-pressure, held
/// at the source, which stops producing until there is room. An unlimited source has its next
/// packet ready whenever an armed transfer finds the FIFO empty.
extension DMAChannel {
    /// Attaches `source` to this S2MM channel and starts it (its first packet arrives after one
    /// packet time). Configuration time: sizes the FIFO's ring (the only allocation) and drops
    /// whatever the previous source left in the device.
    public func attach(_ source: StreamSource) {
        precondition(direction == .s2mm, "a stream source feeds an S2MM channel")
        precondition(!isBusy, "attach a source while the channel is idle")
        detachSource()
        dropHeldBytes(.reset)
        loopback = nil
        fifo.configure(carriesData: source.pattern.carriesData)
        self.source = source
        generator = PatternGenerator(source.pattern)
        sourceAttached = true
        sourceUnlimited = source.rateBytesPerSecond == nil
        sourceRateBytesPerSecond = source.rateBytesPerSecond ?? 1
        sourceRateCarry = 0
        sourcePacketSize = source.packetSize
        sourceBackPressure = source.backPressure
        sourceRemainingPackets = source.packetLimit ?? .max
        stalledPacketBytes = 0
        scheduleNextPacket()
    }

    /// Stops the source; what it already produced stays in the device.
    public func detachSource() {
        reactor._withUnsafeGuaranteedRef { $0.disarm(sourceTimer) }
        sourceAttached = false
        stalledPacketBytes = 0
    }

    /// Attaches `sink` to this MM2S channel: from the next transfer on, packets are checked
    /// against its pattern and a slow sink stretches transfers.
    public func attach(_ sink: StreamSink) {
        precondition(direction == .mm2s, "a stream sink takes MM2S packets")
        self.sink = sink
        generator = PatternGenerator(sink.pattern)
        sinkChecksData = sink.pattern.carriesData
        sinkRateBytesPerSecond = sink.rateBytesPerSecond ?? 0
    }

    /// Arms the source timer for the next packet of a rate-limited source. The interval carries
    /// its remainder forward, so n packets take exactly n × bytes / rate however it divides.
    func scheduleNextPacket() {
        guard sourceAttached, !sourceUnlimited, sourceRemainingPackets > 0, stalledPacketBytes == 0 else { return }
        nextPacketBytes = sourcePacketSize.draw(&random)
        let scaled = UInt64(nextPacketBytes) * 1_000_000_000 + sourceRateCarry
        sourceRateCarry = scaled % sourceRateBytesPerSecond
        let delay = TimeSpan(nanoseconds: Int64(scaled / sourceRateBytesPerSecond))
        let timer = sourceTimer!
        reactor._withUnsafeGuaranteedRef { $0.arm(timer, after: delay) }
    }

    /// A packet of a rate-limited source is complete.
    func sourceTick() {
        guard sourceAttached else { return }
        offer(packetBytes(drawn: nextPacketBytes))
        if stalledPacketBytes == 0 { scheduleNextPacket() }
        feedFromFIFO()
    }

    /// A packet arrives at the device: taken, queued, dropped or (back-pressure) held at the source.
    func offer(_ bytes: Int) {
        let streamsThrough = state == .awaitingData && fifo.waitingPackets == 0
        if streamsThrough || fifo.hasRoom(for: bytes) {
            admit(bytes)
        } else if sourceBackPressure {
            stalledPacketBytes = bytes
            accounting.stalls += 1
        } else {
            // The dropped bytes keep their place in the stream (the next packet starts after
            // them); nothing is generated for them.
            sourceRemainingPackets -= 1
            accounting.producedBytes += UInt64(bytes)
            accounting.producedPackets += 1
            accounting.drop(bytes, .fifoOverflow)
        }
    }

    private func admit(_ bytes: Int) {
        sourceRemainingPackets -= 1
        fifo.push(bytes, streamOffset: accounting.producedBytes)
        accounting.producedBytes += UInt64(bytes)
        accounting.producedPackets += 1
        accounting.heldBytes += UInt64(bytes)
    }

    /// An armed S2MM transfer (or, in scatter-gather mode, a fetched descriptor) takes the oldest
    /// waiting packet (an unlimited source makes one).
    func feedFromFIFO() {
        guard state == .awaitingData else { return }
        if fifo.waitingPackets == 0 {
            guard sourceAttached && sourceUnlimited && sourceRemainingPackets > 0 else { return }
            admit(packetBytes(drawn: sourcePacketSize.draw(&random)))
        }
        let packet = fifo.take()
        inFlightStreamOffset = packet.streamOffset
        if scatterGather { packetArrived(packet.bytes) } else { beginMoving(packet.bytes) }
        resumeStalledSource()
    }

    /// Lets a back-pressured source deliver its held packet once the FIFO has room, and go on.
    func resumeStalledSource() {
        guard stalledPacketBytes > 0, fifo.hasRoom(for: stalledPacketBytes) else { return }
        let bytes = stalledPacketBytes
        stalledPacketBytes = 0
        admit(bytes)
        scheduleNextPacket()
        feedFromFIFO()
    }
}

extension DMAChannel {
    /// Pauses the S2MM source: no new packet until `resumeSource()`. The pattern carries on where it
    /// stopped, so a checker sees no gap.
    public func pauseSource() {
        guard sourceAttached else { return }
        reactor._withUnsafeGuaranteedRef { $0.disarm(sourceTimer) }
        sourceAttached = false
        sourcePaused = true
    }

    public func resumeSource() {
        guard sourcePaused else { return }
        sourcePaused = false
        sourceAttached = true
        scheduleNextPacket()
        feedFromFIFO()
    }

    /// Changes the source's rate from its next packet on; nil makes it unlimited.
    public func setSourceRate(_ bytesPerSecond: UInt64?) {
        precondition(bytesPerSecond.map { (1...1_000_000_000_000).contains($0) } ?? true, "rate out of range")
        sourceUnlimited = bytesPerSecond == nil
        sourceRateBytesPerSecond = bytesPerSecond ?? 1
        sourceRateCarry = 0
        guard sourceAttached, stalledPacketBytes == 0 else { return }
        reactor._withUnsafeGuaranteedRef { $0.disarm(sourceTimer) }
        scheduleNextPacket()
        feedFromFIFO()
    }

    public var isSourcePaused: Bool { sourcePaused }

    /// `lastCompletedStreamOffset`, for a checker in another module that reads it per completion.
    /// Read through this accessor it costs no dynamic exclusivity check: the stored property's
    /// `@exclusivity(unchecked)` only covers accesses compiled in this module, and a direct read
    /// from another module calls `swift_beginAccess` (measured: ~75 instructions per completion).
    public var completedPacketStreamOffset: UInt64 { lastCompletedStreamOffset }
}

extension DMAChannel {
    /// Wires this MM2S channel's stream back into `s2mm` through `wire` (DESIGN.md: a board or
    /// scenario may loop MM2S to S2MM): each MM2S transfer becomes one S2MM packet, with the same
    /// length, after the wire's transform. Replaces any source of `s2mm` and the sink of this
    /// channel. Configuration time.
    public func connectLoopback(to s2mm: DMAChannel, _ wire: StreamLoopback) {
        precondition(direction == .mm2s && s2mm.direction == .s2mm, "a loopback goes from MM2S to S2MM")
        precondition(!s2mm.isBusy, "connect a loopback while the S2MM channel is idle")
        s2mm.detachSource()
        s2mm.dropHeldBytes(.reset)
        s2mm.fifo.configure(carriesData: true)
        s2mm.loopback = wire
        s2mm.source = nil
        s2mm.sourceUnlimited = false
        s2mm.sourceBackPressure = false
        sink = nil
        sinkChecksData = false
        loopbackTarget = s2mm
    }

    /// MM2S completed a packet: it arrives at the S2MM side now (taken by an armed transfer, queued
    /// in the FIFO, or dropped when the FIFO is full: `fifoOverflow`).
    func loopBack(_ bytes: Int) {
        guard let s2mm = loopbackTarget, let wire = s2mm.loopback else { return }
        _ = s2mm.pendingLoopbackBytes.withUnsafeBytes { wire.append($0) }
        s2mm.pendingLoopbackBytes.removeAll(keepingCapacity: true)
        s2mm.sourceRemainingPackets = .max
        s2mm.offer(bytes)
        s2mm.feedFromFIFO()
    }
}
