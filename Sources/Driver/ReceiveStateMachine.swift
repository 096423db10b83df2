/// The receive (S2MM) driver's decisions, as a value: each input is a `mutating` function that
/// returns the actions the shell must perform, in order. It performs no I/O and allocates nothing
/// after `init`, so it is tested without a reactor and its per-completion path is a few branches.
///
/// Ring discipline: `ringSize` buffers, allocated once at start; each is owned by exactly one of the
/// driver (free), the device (armed; at most one in direct register mode) and the consumer. Per
/// completion interrupt, in this order (the order the kernel's UIO rules require):
/// read the UIO count (a jump of more than one is a lost interrupt) → read DMASR (no cause: spurious,
/// re-enable) → W1C the cause → check errors and the received length → sync-for-cpu and hand the
/// buffer to the consumer → arm the next free buffer (sync-for-device, address, LENGTH last) →
/// re-enable the interrupt. Any error bit: record it, soft-reset the core, wait a back-off, re-program
/// and re-arm the buffer the driver still owns; after `maxRetries` errors in a row, `failed`.
public struct ReceiveStateMachine: Sendable {
    public typealias Actions = ActionList<Action>
    public typealias State = DriverState

    public enum Owner: UInt8, Sendable {
        case driver
        case device
        case consumer
    }

    /// What the shell does, in the order given.
    public enum Action: Equatable, Sendable {
        /// Soft reset (DMACR.Reset) and wait for the bit to clear.
        case resetCore
        /// Write S2MM_DMACR.
        case writeControl(UInt32)
        /// Write 1s to the given DMASR cause bits (W1C).
        case clearStatus(UInt32)
        /// sync-for-cpu the bytes received into `slot` and hand it to the consumer; its completion
        /// (`completions[slot]`) holds the byte count and the transfer number. (Only the slot rides
        /// in the action: a smaller `Action` keeps the inline action list small to pass around.)
        case deliver(slot: Int)
        /// sync-for-device `slot`, write its address, then LENGTH (last: that starts the transfer).
        case arm(slot: Int)
        /// Write 1 to the UIO file.
        case enableInterrupt
        /// Run `retryTimerFired()` after `attempt` back-offs.
        case scheduleRetry(attempt: Int)
    }

    /// Buffers in the ring, allocated once at start.
    public let ringSize: Int
    /// Bytes programmed per transfer (receive: the most a packet may have).
    public let bufferBytes: Int
    /// DMACR value while running: RS, IOC and error interrupts enabled.
    public static let runControl = Driver.runControl

    public var state: State { core.state }
    public private(set) var owners: [Owner]
    /// The completion of the transfer currently (or last) in each slot.
    public private(set) var completions: [Completion]
    public private(set) var reaped: CompletionQueue
    private var core: DriverCore
    private var heldByConsumer = 0
    /// The planted bug `rearmHeldBuffer` (tested only where the ring is full, off the per-completion path).
    private let rearmsHeldBuffers: Bool

    /// `plantedBug`: the decisions of `rearmHeldBuffer`, `ignoreErrorBits` and `noReenableAfterError`
    /// are the machine's (the other planted bugs are the shell's).
    public init(ringSize: Int, bufferBytes: Int, maxRetries: Int = 3, plantedBug: PlantedBug? = nil) {
        precondition(ringSize > 0 && bufferBytes > 0 && maxRetries >= 0)
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        owners = Array(repeating: .driver, count: ringSize)
        completions = (0..<ringSize).map { Completion(transfer: 0, slot: $0) }
        reaped = CompletionQueue(capacity: 4 * ringSize)
        core = DriverCore(maxRetries: maxRetries, plantedBug: plantedBug)
        rearmsHeldBuffers = plantedBug == .rearmHeldBuffer
    }

    public var metrics: DriverMetrics { core.metrics }

    public var armedSlot: Int? {
        if case let .running(armed) = state { return armed }
        return nil
    }

    // MARK: inputs (each switches on the state in `DriverCore` first)

    /// Start (or restart after `stop` or `failed`): reset the core, program it, arm the first free
    /// buffer, enable the interrupt. `eventCount` is the UIO count now (the baseline for
    /// lost-interrupt detection).
    public mutating func start(eventCount: Int32?) -> Actions {
        var actions = Actions()
        core.start(eventCount: eventCount, &actions)
        halted()
        let slot = nextFree(after: ringSize - 1)
        if let slot { arm(slot, &actions) }
        core.state = .running(active: slot)
        actions.append(.enableInterrupt)
        return actions
    }

    /// An interrupt: the UIO count just read, then DMASR and S2MM_LENGTH as read from the device.
    /// Inlined into the shell's interrupt handler: the action list is then built in the handler's
    /// frame instead of returned through memory (once per completion).
    @inline(__always)
    public mutating func interrupt(eventCount: Int32, status: UInt32, receivedLength: UInt32) -> Actions {
        var actions = Actions()
        switch core.interrupt(eventCount: eventCount, status: status, &actions) {
        case .handled: break
        case let .error(error, armed): fail(error, armed: armed, &actions)
        case let .completed(slot): complete(slot, Int(receivedLength), &actions)
        }
        return actions
    }

    /// The back-off after an error is over: re-program the core and re-arm the same buffer (`fail`
    /// gave it back to the driver).
    public mutating func retryTimerFired() -> Actions {
        var actions = Actions()
        let slot = core.retryTimerFired(&actions)
        arm(slot, &actions)
        core.state = .running(active: slot)
        return actions
    }

    /// The watchdog expired: a buffer was armed and nothing came back (a stalled engine).
    public mutating func watchdogExpired() -> Actions {
        var actions = Actions()
        fail(.timeout, armed: core.watchdogExpired(), &actions)
        return actions
    }

    /// Stop: halt the engine; buffers stay allocated (they are reused if started again).
    /// A transfer armed when it stops is abandoned, signalled with no bytes (the device may have
    /// completed it unheard, its interrupt masked or lost: its bytes then never reach the consumer,
    /// and the shell counts it, `ReceiveDriver.abandonedAtStop`; found by `uioemu explore`).
    public mutating func stop() -> Actions {
        var actions = Actions()
        if case let .running(armed?) = core.state { signal(armed, byteCount: 0) }
        core.stop(&actions)
        halted()
        return actions
    }

    /// The consumer returns a buffer. Returning one it does not hold is counted and refused.
    /// Inlined into the shell (its consumer's answer, once per completion).
    @inline(__always)
    public mutating func release(slot: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .consumer else {
            core.metrics.badReleases += 1
            return actions
        }
        owners[slot] = .driver
        heldByConsumer -= 1
        switch core.state {
        case .running(active: nil):
            // The ring was full: the returned buffer is armed at once.
            arm(slot, &actions)
            core.state = .running(active: slot)
        case .running(active: .some), .recovering, .stopped, .failed:
            break  // free again; armed when its turn comes
        }
        return actions
    }

    /// The oldest signalled completion not reaped yet.
    public mutating func reapCompletion() -> Completion? { reaped.reap() }

    /// Adds the register port's and interrupt source's fault counts (the shell calls this).
    public mutating func noteFaults(register: Int, interruptSource: Int) {
        core.noteFaults(register: register, interruptSource: interruptSource)
    }

    // MARK: internals

    /// IOC for the armed buffer in `slot`: check the length, signal, hand it over, arm the next.
    @inline(__always)
    private mutating func complete(_ slot: Int, _ length: Int, _ actions: inout Actions) {
        guard length > 0 && length <= bufferBytes else {
            // The transfer ended with nonsense; the engine itself is fine: count and re-arm the slot.
            core.metrics.errors[.badLength, default: 0] += 1
            abandon(slot, with: .badLength)
            arm(slot, &actions)
            actions.append(.enableInterrupt)
            return
        }
        signal(slot, byteCount: length)
        core.succeeded(bytes: length)
        owners[slot] = .consumer
        heldByConsumer += 1
        if heldByConsumer > core.metrics.maxHeldByConsumer { core.metrics.maxHeldByConsumer = heldByConsumer }
        actions.append(.deliver(slot: slot))
        var next = nextFree(after: slot)
        if let next { arm(next, &actions) } else { next = ringFull(after: slot, &actions) }
        core.state = .running(active: next)
        actions.append(.enableInterrupt)
    }

    /// No buffer is free: wait for the consumer to give one back (counted). The planted bug
    /// `rearmHeldBuffer` arms the next one in ring order anyway, though the consumer holds it.
    @inline(never)
    private mutating func ringFull(after slot: Int, _ actions: inout Actions) -> Int? {
        core.metrics.ringFullStalls += 1
        guard rearmsHeldBuffers else { return nil }
        let next = slot + 1 == ringSize ? 0 : slot + 1
        arm(next, &actions)
        return next
    }

    /// An error ended the transfer in `armed` (if any): abandon it; the same buffer (or, none
    /// armed, the first free one) is armed again after the back-off.
    private mutating func fail(_ error: DriverError, armed: Int?, _ actions: inout Actions) {
        if let armed { abandon(armed, with: error) }
        core.fail(error, retrying: armed ?? nextFree(after: ringSize - 1) ?? 0, &actions)
    }

    /// The transfer in `slot` ends with `error`: attach it, then signal (in that order, always); the
    /// buffer is the driver's again.
    private mutating func abandon(_ slot: Int, with error: DriverError) {
        if completions[slot].attach(error) != nil { core.metrics.completionMisuses += 1 }
        signal(slot, byteCount: 0)
        owners[slot] = .driver
    }

    /// The engine is halted: a buffer the device had is the driver's again.
    private mutating func halted() {
        for slot in 0..<ringSize where owners[slot] == .device { owners[slot] = .driver }
    }

    @inline(__always)
    private mutating func signal(_ slot: Int, byteCount: Int) {
        if completions[slot].signal(byteCount: byteCount) != nil {
            core.metrics.completionMisuses += 1
            return
        }
        reaped.append(completions[slot])
    }

    @inline(__always)
    private mutating func arm(_ slot: Int, _ actions: inout Actions) {
        owners[slot] = .device
        completions[slot] = Completion(transfer: core.nextTransfer(), slot: slot)
        actions.append(.arm(slot: slot))
    }

    /// The first buffer the driver owns after `slot`, in ring order.
    @inline(__always)
    private func nextFree(after slot: Int) -> Int? {
        var candidate = slot
        for _ in 0..<ringSize {
            candidate = candidate + 1 == ringSize ? 0 : candidate + 1
            if owners[candidate] == .driver { return candidate }
        }
        return nil
    }
}
