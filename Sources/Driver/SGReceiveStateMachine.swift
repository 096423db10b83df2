/// The scatter-gather receive (S2MM) driver's decisions, as a value: each input is a `mutating`
/// function returning the actions the shell performs, in order. No I/O, nothing allocated after
/// `init`, like `ReceiveStateMachine`; the bookkeeping both share lives in `DriverCore`.
///
/// The ring: `ringSize` descriptors, one per buffer (slot i is descriptor i and buffer i), linked in
/// a circle (the last NXTDESC names the first), all allocated once at start. Ownership, in ring order:
/// `head...tail` are the device's (in the chain: STATUS cleared, TAILDESC names `tail`), then the
/// slots the consumer holds. The engine walks from CURDESC and pauses after TAILDESC (PG021).
///
/// Per interrupt (IOC_Irq after `IRQThreshold` packets, or Dly_Irq after `IRQDelay` idle, or an
/// error): read the UIO count → read DMASR → W1C the cause → reap: from `head`, each descriptor whose
/// STATUS has Cmplt is handed to the consumer (sync-for-cpu) with its byte count and RXSOF/RXEOF,
/// until one without Cmplt (or, after an error, the one CURDESC names) → re-enable. A buffer coming
/// back is recycled (STATUS cleared, sync-for-device) and appended to the chain; TAILDESC is written
/// once per reap (or per release outside one), moving the engine's pause point or resuming it.
///
/// Errors (DMAIntErr/SlvErr/DecErr in a descriptor, SGIntErr from a stale descriptor, SGSlvErr/
/// SGDecErr from a descriptor fetch): the descriptors completed before the failing one are still
/// delivered; the failing one is abandoned (its completion carries the error); soft reset; after
/// the back-off the chain is rebuilt from `head` (every descriptor the driver owns rewritten with
/// STATUS 0), CURDESC written while halted, RS, TAILDESC. `maxRetries` errors in a row: `failed`.
///
/// Cyclic BD mode (DMACR bit 4, `cyclic`): the engine loops round the ring ignoring Cmplt and never
/// pauses; the driver still reaps by Cmplt and clears it when the consumer gives the buffer back, and
/// writes TAILDESC only to start. A consumer that holds a buffer for a whole lap loses it to the
/// engine (the DMA heap reports the DMA into a CPU-owned buffer): cyclic capture wants a fast one.
public struct SGReceiveStateMachine: Sendable {
    public typealias Actions = ActionList<Action>
    public typealias State = DriverState
    public typealias Owner = ReceiveStateMachine.Owner

    /// What the shell does, in the order given.
    public enum Action: Equatable, Sendable {
        /// Soft reset (DMACR.Reset) and wait for the bit to clear.
        case resetCore
        /// Write every descriptor of the ring (NXTDESC, BUFFER_ADDRESS, CONTROL = buffer size); those
        /// the device now owns (`owners`) also get STATUS 0 and their buffers a sync-for-device.
        case writeChain
        /// Write CURDESC (and its MSB) with slot's descriptor (the channel is halted).
        case writeCurrent(slot: Int)
        /// Write S2MM_DMACR.
        case writeControl(UInt32)
        /// Write TAILDESC (and its MSB) with slot's descriptor.
        case writeTail(slot: Int)
        /// Write 1s to the given DMASR cause bits (W1C).
        case clearStatus(UInt32)
        /// Read STATUS from `reapCandidate` on, feeding `descriptorCompleted` while Cmplt is set, then
        /// `reapDone()` (a loop bounded by the ring size).
        case reap
        /// sync-for-cpu slot's buffer and hand it to the consumer (`completions[slot]`, `statuses[slot]`).
        case deliver(slot: Int)
        /// `count` slots from `slot` on (ring order) go back to the device: each buffer synced for
        /// the device and its descriptor's STATUS cleared.
        case recycle(from: Int, count: Int)
        /// Write 1 to the UIO file.
        case enableInterrupt
        /// Run `retryTimerFired()` after `attempt` back-offs.
        case scheduleRetry(attempt: Int)
    }

    /// Interrupt coalescing as DMACR programs it (PG021 DMACR.IRQThreshold, IRQDelay).
    public struct Coalescing: Equatable, Sendable {
        /// Packets per IOC_Irq, 1–255 (PG021: a write of 0 has no effect; the driver never writes it).
        public var threshold: Int
        /// Dly_Irq after 125 × `delay` SG-clock periods with no new packet, 0–255 (0: no delay interrupt).
        public var delay: Int
        public init(threshold: Int = 1, delay: Int = 0) {
            self.threshold = threshold
            self.delay = delay
        }
    }

    public let ringSize: Int
    public let bufferBytes: Int
    public let coalescing: Coalescing
    public let cyclic: Bool
    /// DMACR while running: RS, the three interrupt enables, the coalescing fields, cyclic.
    public let runControl: UInt32

    public var state: State { core.state }
    public private(set) var owners: [Owner]
    public private(set) var completions: [Completion]
    /// Each slot's STATUS as last reaped (byte count, RXSOF, RXEOF).
    public private(set) var statuses: [UInt32]
    public private(set) var reaped: CompletionQueue
    /// The next descriptor to complete (ring order), and the last one in the chain (TAILDESC).
    public private(set) var head = 0
    public private(set) var tail: Int
    /// Descriptors the device owns: `head...tail` in ring order.
    public private(set) var inChain = 0
    private var core: DriverCore
    private var heldByConsumer = 0
    /// Inside a reap: releases append to the chain and leave the TAILDESC write to `reapDone()`.
    private var reaping = false
    private var tailMoved = false
    /// An error the interrupt reported, handled once the descriptors before it are reaped; the
    /// slot CURDESC named (nil: not one of the ring's).
    private var pendingError: DriverError? = nil
    private var failingSlot: Int? = nil

    public init(ringSize: Int, bufferBytes: Int, coalescing: Coalescing = Coalescing(), cyclic: Bool = false, maxRetries: Int = 3) {
        precondition(ringSize > 1 && bufferBytes > 0 && maxRetries >= 0)
        precondition((1...255).contains(coalescing.threshold) && (0...255).contains(coalescing.delay))
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        self.coalescing = coalescing
        self.cyclic = cyclic
        runControl = Driver.runControl | AXIDMAHeader.Dly_IrqEn | UInt32(coalescing.threshold) << AXIDMAHeader.IRQThresholdShift
            | UInt32(coalescing.delay) << AXIDMAHeader.IRQDelayShift | (cyclic ? AXIDMAHeader.CyclicBDEnable : 0)
        owners = Array(repeating: .driver, count: ringSize)
        completions = (0..<ringSize).map { Completion(transfer: 0, slot: $0) }
        statuses = Array(repeating: 0, count: ringSize)
        reaped = CompletionQueue(capacity: 4 * ringSize)
        tail = ringSize - 1
        core = DriverCore(maxRetries: maxRetries)
    }

    public var metrics: DriverMetrics { core.metrics }

    // MARK: inputs

    /// Start (or restart after `stop` or `failed`): reset, write the ring, CURDESC, RS, TAILDESC,
    /// enable the interrupt.
    public mutating func start(eventCount: Int32?) -> Actions {
        var actions = Actions()
        core.beginStart(eventCount: eventCount, &actions)
        program(&actions)
        actions.append(.enableInterrupt)
        return actions
    }

    /// An interrupt: the UIO count just read, DMASR, and (read only when DMASR has an error bit)
    /// the ring slot CURDESC names, nil when it names none of the ring's descriptors.
    public mutating func interrupt(eventCount: Int32, status: UInt32, currentSlot: Int?) -> Actions {
        var actions = Actions()
        switch core.interrupt(eventCount: eventCount, status: status, reapOnDelay: true, &actions) {
        case .handled: break
        case let .error(error, _):
            pendingError = error
            failingSlot = currentSlot
            reaping = true
            actions.append(.reap)
        case .completed:
            reaping = true
            actions.append(.reap)
        }
        return actions
    }

    /// The slot whose STATUS the reap reads next, or nil when the reap is over (nothing in the
    /// chain, or the failing descriptor reached).
    public var reapCandidate: Int? {
        guard reaping, inChain > 0, owners[head] == .device, failingSlot != head || pendingError == nil else { return nil }
        return head
    }

    /// The descriptor at `head` has Cmplt set in `status`: hand it over (or, with an error bit,
    /// abandon it: the engine halted on it).
    @inline(__always)
    public mutating func descriptorCompleted(slot: Int, status: UInt32) -> Actions {
        precondition(slot == head && owners[slot] == .device, "reap out of ring order")
        var actions = Actions()
        statuses[slot] = status
        let length = Int(status & AXIDMAHeader.Descriptor.lengthMask)
        if status & AXIDMAHeader.Descriptor.errors != 0 {
            // The engine halts on a descriptor with an error (PG021); DMASR says so too.
            if pendingError == nil { pendingError = DriverError.from(status: status >> 24) ?? .internalError }
            failingSlot = slot
            return actions
        }
        guard length > 0 && length <= bufferBytes else {
            core.metrics.errors[.badLength, default: 0] += 1
            advanceHead()
            abandon(slot, with: .badLength)
            rejoin(&actions, cyclicSlot: slot)
            return actions
        }
        signal(slot, byteCount: length)
        core.succeeded(bytes: length)
        advanceHead()
        owners[slot] = .consumer
        heldByConsumer += 1
        if heldByConsumer > core.metrics.maxHeldByConsumer { core.metrics.maxHeldByConsumer = heldByConsumer }
        actions.append(.deliver(slot: slot))
        return actions
    }

    /// The reap is over: TAILDESC if the chain grew, then the re-enable; or, after an error, the
    /// failing descriptor abandoned, a soft reset and the retry.
    public mutating func reapDone() -> Actions {
        var actions = Actions()
        reaping = false
        if let error = pendingError {
            pendingError = nil
            failingSlot = nil
            tailMoved = false
            let abandoned = inChain > 0 && owners[head] == .device ? head : nil
            if let abandoned { abandon(abandoned, with: error) }
            halted()
            core.fail(error, retrying: head, &actions)
            return actions
        }
        if tailMoved {
            tailMoved = false
            if !cyclic { actions.append(.writeTail(slot: tail)) }
        }
        if inChain == 0 { core.metrics.ringFullStalls += 1 }
        setRunning()
        actions.append(.enableInterrupt)
        return actions
    }

    /// The back-off after an error is over: rebuild the chain and start the engine again.
    public mutating func retryTimerFired() -> Actions {
        var actions = Actions()
        _ = core.beginRetry()
        program(&actions)
        return actions
    }

    /// Stop: halt the engine; the ring stays allocated (reused if started again). Every descriptor
    /// still in the chain is abandoned, in ring order, each signalled with no bytes: the engine may
    /// have completed some of them unreaped (coalescing holds the interrupt back for up to
    /// `threshold` packets, and an interrupt may be lost or masked) and `start` rewrites their STATUS
    /// to 0, so their bytes never reach the consumer; the shell counts them
    /// (`SGReceiveDriver.abandonedAtStop`) as the reason for that gap in the stream. Found by
    /// `uioemu explore` (`restart-driver`), as in the direct-mode driver.
    public mutating func stop() -> Actions {
        var actions = Actions()
        core.stop(&actions)
        reaping = false
        pendingError = nil
        failingSlot = nil
        var slot = head
        for _ in 0..<ringSize {  // bounded: the ring
            if owners[slot] == .device { signal(slot, byteCount: 0) }
            slot = successor(slot)
        }
        halted()
        return actions
    }

    /// The consumer returns a buffer. Returning one it does not hold is counted and refused.
    public mutating func release(slot: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .consumer else {
            core.metrics.badReleases += 1
            return actions
        }
        owners[slot] = .driver
        heldByConsumer -= 1
        switch core.state {
        case .running: rejoin(&actions, cyclicSlot: slot)
        case .recovering, .stopped, .failed: break  // the driver's again; in the chain when it is rebuilt
        }
        return actions
    }

    public mutating func reapCompletion() -> Completion? { reaped.reap() }

    public mutating func noteFaults(register: Int, interruptSource: Int) {
        core.noteFaults(register: register, interruptSource: interruptSource)
    }

    // MARK: internals

    /// Every slot the driver owns from `head` on joins the chain; the core is programmed: the ring
    /// written, CURDESC (halted: after the reset), RS and the coalescing fields, TAILDESC. With the
    /// consumer holding every buffer the chain is empty: CURDESC still names `head`, and the first
    /// buffer back starts the engine with its TAILDESC write.
    private mutating func program(_ actions: inout Actions) {
        halted()
        inChain = 0
        var candidate = head
        while inChain < ringSize && owners[candidate] == .driver {  // bounded: the ring
            owners[candidate] = .device
            prepare(candidate)
            inChain += 1
            candidate = successor(candidate)
        }
        // The slot before the first one left out (the whole ring: the one before `head`).
        tail = predecessor(candidate)
        actions.append(.writeChain)
        actions.append(.writeCurrent(slot: head))
        actions.append(.writeControl(runControl))
        if inChain > 0 { actions.append(.writeTail(slot: tail)) }
        setRunning()
    }

    private mutating func setRunning() {
        core.state = .running(active: inChain > 0 ? head : nil)
    }

    private mutating func advanceHead() {
        head = successor(head)
        inChain -= 1
    }

    /// A new transfer number for a slot joining the chain.
    private mutating func prepare(_ slot: Int) {
        completions[slot] = Completion(transfer: core.nextTransfer(), slot: slot)
        statuses[slot] = 0
    }

    /// Buffers the driver got back join the chain: in cyclic mode the one at `slot` at once (the
    /// engine loops anyway); otherwise every one the driver owns right after the tail, in ring order
    /// (a buffer still with the consumer stops the walk: TAILDESC cannot skip it), and TAILDESC moves
    /// to the last of them (at the end of a reap: once, by `reapDone()`).
    private mutating func rejoin(_ actions: inout Actions, cyclicSlot slot: Int? = nil) {
        if cyclic {
            guard let slot else { return }
            owners[slot] = .device
            inChain += 1
            prepare(slot)
            actions.append(.recycle(from: slot, count: 1))
            return
        }
        let first = successor(tail)
        var count = 0
        var candidate = first
        while count < ringSize - inChain && owners[candidate] == .driver {  // bounded: the ring
            owners[candidate] = .device
            prepare(candidate)
            count += 1
            tail = candidate
            candidate = successor(candidate)
        }
        guard count > 0 else { return }
        inChain += count
        actions.append(.recycle(from: first, count: count))
        if reaping {
            tailMoved = true
        } else {
            actions.append(.writeTail(slot: tail))
            setRunning()
        }
    }

    /// The transfer in `slot` ends with `error`: attach it, then signal; the buffer is the driver's.
    private mutating func abandon(_ slot: Int, with error: DriverError) {
        if completions[slot].attach(error) != nil { core.metrics.completionMisuses += 1 }
        signal(slot, byteCount: 0)
        owners[slot] = .driver
    }

    /// The engine is halted (stop, error): the chain is the driver's again.
    private mutating func halted() {
        for slot in 0..<ringSize where owners[slot] == .device { owners[slot] = .driver }
        inChain = 0
    }

    private mutating func signal(_ slot: Int, byteCount: Int) {
        if completions[slot].signal(byteCount: byteCount) != nil {
            core.metrics.completionMisuses += 1
            return
        }
        reaped.append(completions[slot])
    }

    @inline(__always)
    private func successor(_ slot: Int) -> Int { slot + 1 == ringSize ? 0 : slot + 1 }
    @inline(__always)
    private func predecessor(_ slot: Int) -> Int { slot == 0 ? ringSize - 1 : slot - 1 }
}
