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

    public enum State: Equatable, Sendable, CustomStringConvertible {
        case stopped
        /// Running; the slot armed with the device, or nil when the consumer holds every buffer.
        case running(armed: Int?)
        /// After an error: the core was reset; re-arming waits for the back-off timer.
        case recovering(attempt: Int, slot: Int)
        case failed(DriverError, attempts: Int)

        public var description: String {
            switch self {
            case .stopped: "stopped"
            case let .running(armed?): "running (buffer \(armed) armed)"
            case .running(nil): "running (every buffer with the consumer)"
            case let .recovering(attempt, slot): "recovering (attempt \(attempt), buffer \(slot))"
            case let .failed(error, attempts): "failed: \(error.rawValue) \(attempts) times in a row"
            }
        }
    }

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

    public let ringSize: Int
    public let bufferBytes: Int
    public let maxRetries: Int
    /// DMACR value while running: RS, IOC and error interrupts enabled.
    public static let runControl = AXIDMAHeader.RS | AXIDMAHeader.IOC_IrqEn | AXIDMAHeader.Err_IrqEn

    public private(set) var state = State.stopped
    public private(set) var owners: [Owner]
    /// The completion of the transfer currently (or last) in each slot.
    public private(set) var completions: [Completion]
    public private(set) var reaped: CompletionQueue
    public private(set) var metrics = DriverMetrics()
    private var eventCounts = EventCountTracker()
    private var transfers: UInt64 = 0
    private var consecutiveErrors = 0
    private var heldByConsumer = 0

    public init(ringSize: Int, bufferBytes: Int, maxRetries: Int = 3) {
        precondition(ringSize > 0 && bufferBytes > 0 && maxRetries >= 0)
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        self.maxRetries = maxRetries
        owners = Array(repeating: .driver, count: ringSize)
        completions = (0..<ringSize).map { Completion(transfer: 0, slot: $0) }
        reaped = CompletionQueue(capacity: 4 * ringSize)
    }

    public var armedSlot: Int? {
        if case let .running(armed) = state { return armed }
        return nil
    }

    // MARK: inputs

    /// Start (or restart): reset the core, program it, arm the first free buffer, enable the
    /// interrupt. `eventCount` is the UIO count now (the baseline for lost-interrupt detection).
    public mutating func start(eventCount: Int32) -> Actions {
        eventCounts.reset(to: eventCount)
        consecutiveErrors = 0
        for slot in 0..<ringSize where owners[slot] == .device { owners[slot] = .driver }
        var actions = Actions()
        actions.append(.resetCore)
        actions.append(.writeControl(Self.runControl))
        let slot = nextFree(after: ringSize - 1)
        if let slot { arm(slot, &actions) }
        state = .running(armed: slot)
        actions.append(.enableInterrupt)
        return actions
    }

    /// An interrupt: the UIO count just read, then DMASR and S2MM_LENGTH as read from the device.
    public mutating func interrupt(eventCount: Int32, status: UInt32, receivedLength: UInt32) -> Actions {
        var actions = Actions()
        var running = false, recovering = false, armed: Int? = nil
        switch state {
        case let .running(slot): running = true; armed = slot
        case .recovering: recovering = true
        case .stopped, .failed: break
        }
        let slot: Int
        switch InterruptTriage.sort(eventCount: eventCount, status: status, running: running, recovering: recovering, active: armed,
                                    eventCounts: &eventCounts, metrics: &metrics, actions: &actions) {
        case .done: return actions
        case let .error(error):
            fail(error, armed: armed, &actions)
            return actions
        case let .completed(completed): slot = completed
        }
        let length = Int(receivedLength)
        guard length > 0 && length <= bufferBytes else {
            // The transfer ended with nonsense; the engine itself is fine: count and re-arm the slot.
            record(.badLength, slot: slot)
            owners[slot] = .driver
            arm(slot, &actions)
            actions.append(.enableInterrupt)
            return actions
        }
        consecutiveErrors = 0
        signal(slot, byteCount: length)
        metrics.completions += 1
        metrics.bytes += length
        owners[slot] = .consumer
        heldByConsumer += 1
        if heldByConsumer > metrics.maxHeldByConsumer { metrics.maxHeldByConsumer = heldByConsumer }
        actions.append(.deliver(slot: slot))
        let next = nextFree(after: slot)
        if let next { arm(next, &actions) } else { metrics.ringFullStalls += 1 }
        state = .running(armed: next)
        actions.append(.enableInterrupt)
        return actions
    }

    /// The consumer returns a buffer. Returning one it does not hold is counted and refused.
    public mutating func release(slot: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .consumer else {
            metrics.badReleases += 1
            return actions
        }
        owners[slot] = .driver
        heldByConsumer -= 1
        if case .running(armed: nil) = state {
            arm(slot, &actions)
            state = .running(armed: slot)
        }
        return actions
    }

    /// The back-off after an error is over: re-program the core and re-arm.
    public mutating func retryTimerFired() -> Actions {
        var actions = Actions()
        guard case let .recovering(_, slot) = state else { return actions }
        metrics.recoveries += 1
        actions.append(.writeControl(Self.runControl))
        // `fail` gave the slot back to the driver; the same buffer is armed again.
        arm(slot, &actions)
        state = .running(armed: slot)
        return actions
    }

    /// The watchdog expired: a transfer was armed and nothing came back (a stalled engine).
    public mutating func watchdogExpired() -> Actions {
        var actions = Actions()
        guard case let .running(armed?) = state else { return actions }
        fail(.timeout, armed: armed, &actions)
        return actions
    }

    /// Stop: halt the engine; buffers stay allocated (they are reused if started again).
    public mutating func stop() -> Actions {
        var actions = Actions()
        actions.append(.writeControl(0))
        for slot in 0..<ringSize where owners[slot] == .device { owners[slot] = .driver }
        state = .stopped
        return actions
    }

    /// The oldest signalled completion not reaped yet.
    public mutating func reapCompletion() -> Completion? { reaped.reap() }

    /// Adds the register port's and interrupt source's fault counts (the shell calls this).
    public mutating func noteFaults(register: Int, interruptSource: Int) {
        metrics.registerFaults = register
        metrics.interruptSourceErrors += interruptSource
    }

    // MARK: internals

    private mutating func fail(_ error: DriverError, armed: Int?, _ actions: inout Actions) {
        if let armed {
            record(error, slot: armed)
            owners[armed] = .driver
        } else {
            metrics.errors[error, default: 0] += 1
        }
        consecutiveErrors += 1
        actions.append(.resetCore)
        if consecutiveErrors > maxRetries {
            state = .failed(error, attempts: consecutiveErrors)
            return
        }
        let slot = armed ?? nextFree(after: ringSize - 1) ?? 0
        state = .recovering(attempt: consecutiveErrors, slot: slot)
        actions.append(.scheduleRetry(attempt: consecutiveErrors))
        actions.append(.enableInterrupt)
    }

    /// The transfer in `slot` ends with `error`: attach it, then signal (in that order, always).
    private mutating func record(_ error: DriverError, slot: Int) {
        metrics.errors[error, default: 0] += 1
        if completions[slot].attach(error) != nil { metrics.completionMisuses += 1 }
        signal(slot, byteCount: 0)
    }

    private mutating func signal(_ slot: Int, byteCount: Int) {
        if completions[slot].signal(byteCount: byteCount) != nil {
            metrics.completionMisuses += 1
            return
        }
        reaped.append(completions[slot])
    }

    private mutating func arm(_ slot: Int, _ actions: inout Actions) {
        transfers += 1
        owners[slot] = .device
        completions[slot] = Completion(transfer: transfers, slot: slot)
        actions.append(.arm(slot: slot))
    }

    /// The first buffer the driver owns after `slot`, in ring order.
    private func nextFree(after slot: Int) -> Int? {
        var candidate = slot
        for _ in 0..<ringSize {
            candidate = candidate + 1 == ringSize ? 0 : candidate + 1
            if owners[candidate] == .driver { return candidate }
        }
        return nil
    }
}
