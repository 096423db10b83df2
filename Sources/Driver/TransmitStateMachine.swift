/// The transmit (MM2S) driver's decisions, with the receive driver's ring discipline: `ringSize`
/// buffers allocated once; each is owned by the producer (free, being filled), the queue (filled,
/// waiting its turn) or the device (in flight; one at a time in direct register mode).
///
/// Per completion interrupt: read the UIO count → read DMASR (no cause: spurious) → W1C → on an
/// error bit reset the core and, after a back-off, send the same buffer again (bounded retries) →
/// on IOC signal the completion, start the next queued buffer at once (keep the engine busy), give
/// the sent buffer back to the producer → re-enable the interrupt.
public struct TransmitStateMachine: Sendable {
    public typealias Actions = ActionList<Action>

    public enum State: Equatable, Sendable {
        case stopped
        case running(inFlight: Int?)
        case recovering(attempt: Int, slot: Int)
        case failed(DriverError, attempts: Int)
    }

    public enum Owner: UInt8, Sendable {
        case producer
        case queued
        case device
    }

    public enum Action: Equatable, Sendable {
        case resetCore
        case writeControl(UInt32)
        case clearStatus(UInt32)
        /// sync-for-device `length` bytes of `slot`, write its address, then LENGTH (starts it).
        case send(slot: Int, length: Int)
        /// `slot` is free again: the producer may fill it.
        case recycle(slot: Int)
        case enableInterrupt
        case scheduleRetry(attempt: Int)
    }

    public let ringSize: Int
    public let bufferBytes: Int
    public let maxRetries: Int
    public static let runControl = ReceiveStateMachine.runControl

    public private(set) var state = State.stopped
    public private(set) var owners: [Owner]
    public private(set) var completions: [Completion]
    public private(set) var metrics = DriverMetrics()
    private var lengths: [Int]
    /// Filled buffers waiting to be sent, in submission order.
    private var queue: [Int]
    private var queueHead = 0
    private var queueCount = 0
    private var eventCounts = EventCountTracker()
    private var transfers: UInt64 = 0
    private var consecutiveErrors = 0

    public init(ringSize: Int, bufferBytes: Int, maxRetries: Int = 3) {
        precondition(ringSize > 0 && bufferBytes > 0 && maxRetries >= 0)
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        self.maxRetries = maxRetries
        owners = Array(repeating: .producer, count: ringSize)
        completions = (0..<ringSize).map { Completion(transfer: 0, slot: $0) }
        lengths = Array(repeating: 0, count: ringSize)
        queue = Array(repeating: 0, count: ringSize)
    }

    public var queuedCount: Int { queueCount }

    /// Reset and program the core, enable the interrupt, and offer every free buffer to the producer.
    public mutating func start(eventCount: Int32) -> Actions {
        eventCounts.reset(to: eventCount)
        consecutiveErrors = 0
        state = .running(inFlight: nil)
        var actions = Actions()
        actions.append(.resetCore)
        actions.append(.writeControl(Self.runControl))
        actions.append(.enableInterrupt)
        return actions
    }

    /// Slots the producer may fill now (free ones), for the shell to offer after `start`.
    public var freeSlots: [Int] { (0..<ringSize).filter { owners[$0] == .producer } }

    /// The producer filled `slot` with `length` bytes.
    public mutating func submit(slot: Int, length: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .producer && length > 0 && length <= bufferBytes else {
            metrics.badReleases += 1
            return actions
        }
        lengths[slot] = length
        if case .running(inFlight: nil) = state {
            send(slot, &actions)
        } else {
            owners[slot] = .queued
            queue[(queueHead + queueCount) % ringSize] = slot
            queueCount += 1
        }
        return actions
    }

    public mutating func interrupt(eventCount: Int32, status: UInt32) -> Actions {
        var actions = Actions()
        var running = false, recovering = false, inFlight: Int? = nil
        switch state {
        case let .running(slot): running = true; inFlight = slot
        case .recovering: recovering = true
        case .stopped, .failed: break
        }
        let slot: Int
        switch InterruptTriage.sort(eventCount: eventCount, status: status, running: running, recovering: recovering, active: inFlight,
                                    eventCounts: &eventCounts, metrics: &metrics, actions: &actions) {
        case .done: return actions
        case let .error(error):
            fail(error, inFlight: inFlight, &actions)
            return actions
        case let .completed(completed): slot = completed
        }
        consecutiveErrors = 0
        if completions[slot].signal(byteCount: lengths[slot]) != nil { metrics.completionMisuses += 1 }
        metrics.completions += 1
        metrics.bytes += lengths[slot]
        owners[slot] = .producer
        state = .running(inFlight: nil)
        if queueCount > 0 { send(dequeue(), &actions) }
        actions.append(.recycle(slot: slot))
        actions.append(.enableInterrupt)
        return actions
    }

    public mutating func retryTimerFired() -> Actions {
        var actions = Actions()
        guard case let .recovering(_, slot) = state else { return actions }
        metrics.recoveries += 1
        actions.append(.writeControl(Self.runControl))
        state = .running(inFlight: nil)
        send(slot, &actions)
        return actions
    }

    public mutating func watchdogExpired() -> Actions {
        var actions = Actions()
        guard case let .running(inFlight?) = state else { return actions }
        fail(.timeout, inFlight: inFlight, &actions)
        return actions
    }

    public mutating func stop() -> Actions {
        var actions = Actions()
        actions.append(.writeControl(0))
        state = .stopped
        return actions
    }

    /// Adds the register port's and interrupt source's fault counts (the shell calls this).
    public mutating func noteFaults(register: Int, interruptSource: Int) {
        metrics.registerFaults = register
        metrics.interruptSourceErrors += interruptSource
    }

    private mutating func fail(_ error: DriverError, inFlight: Int?, _ actions: inout Actions) {
        metrics.errors[error, default: 0] += 1
        if let inFlight {
            if completions[inFlight].attach(error) != nil { metrics.completionMisuses += 1 }
            if completions[inFlight].signal() != nil { metrics.completionMisuses += 1 }
        }
        consecutiveErrors += 1
        actions.append(.resetCore)
        guard let slot = inFlight, consecutiveErrors <= maxRetries else {
            state = .failed(error, attempts: consecutiveErrors)
            return
        }
        // The same bytes go again: the buffer stays with the device side until resent.
        state = .recovering(attempt: consecutiveErrors, slot: slot)
        actions.append(.scheduleRetry(attempt: consecutiveErrors))
        actions.append(.enableInterrupt)
    }

    private mutating func send(_ slot: Int, _ actions: inout Actions) {
        transfers += 1
        owners[slot] = .device
        completions[slot] = Completion(transfer: transfers, slot: slot)
        state = .running(inFlight: slot)
        actions.append(.send(slot: slot, length: lengths[slot]))
    }

    private mutating func dequeue() -> Int {
        let slot = queue[queueHead]
        queueHead = (queueHead + 1) % ringSize
        queueCount -= 1
        return slot
    }
}
