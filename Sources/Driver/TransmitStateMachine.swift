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
    private var ledger = ChannelLedger()
    private var lengths: [Int]
    /// Filled buffers waiting to be sent, in submission order.
    private var queue: [Int]
    private var queueHead = 0
    private var queueCount = 0

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

    public var metrics: DriverMetrics { ledger.metrics }
    public var queuedCount: Int { queueCount }

    /// Reset and program the core, enable the interrupt, and offer every free buffer to the producer.
    public mutating func start(eventCount: Int32) -> Actions {
        switch state {
        case .stopped, .failed:
            ledger.begin(eventCount: eventCount)
            state = .running(inFlight: nil)
            var actions = Actions()
            actions.append(.resetCore)
            actions.append(.writeControl(Self.runControl))
            actions.append(.enableInterrupt)
            return actions
        case .running, .recovering:
            preconditionFailure("start while \(state): stop the driver first")
        }
    }

    /// Slots the producer may fill now (free ones), for the shell to offer after `start`.
    public var freeSlots: [Int] { (0..<ringSize).filter { owners[$0] == .producer } }

    /// The producer filled `slot` with `length` bytes. A slot it does not own, or a bad length, is
    /// counted and refused.
    public mutating func submit(slot: Int, length: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .producer && length > 0 && length <= bufferBytes else {
            ledger.metrics.badReleases += 1
            return actions
        }
        lengths[slot] = length
        switch state {
        case .running(inFlight: nil): send(slot, &actions)
        case .running(inFlight: .some), .recovering, .stopped, .failed: enqueue(slot)
        }
        return actions
    }

    public mutating func interrupt(eventCount: Int32, status: UInt32) -> Actions {
        var actions = Actions()
        switch state {
        case let .running(inFlight):
            switch ledger.triage(eventCount: eventCount, status: status, hasActive: inFlight != nil, &actions) {
            case .handled: break
            case let .error(error): fail(error, inFlight: inFlight, &actions)
            case .completed: sent(inFlight!, &actions)
            }
        case .recovering:
            ledger.lateInterrupt(eventCount: eventCount, status: status, reenable: true, &actions)
        case .failed:
            ledger.lateInterrupt(eventCount: eventCount, status: status, reenable: false, &actions)
        case .stopped:
            preconditionFailure("interrupt while stopped: the driver stopped watching its UIO file")
        }
        return actions
    }

    public mutating func retryTimerFired() -> Actions {
        switch state {
        case let .recovering(_, slot):
            var actions = Actions()
            ledger.metrics.recoveries += 1
            actions.append(.writeControl(Self.runControl))
            send(slot, &actions)
            return actions
        case .stopped, .running, .failed:
            preconditionFailure("retry timer while \(state): it is armed only on entering recovering, and stop disarms it")
        }
    }

    public mutating func watchdogExpired() -> Actions {
        switch state {
        case let .running(inFlight?):
            var actions = Actions()
            fail(.timeout, inFlight: inFlight, &actions)
            return actions
        case .running(nil), .stopped, .recovering, .failed:
            preconditionFailure("watchdog while \(state): it runs only while a buffer is in flight")
        }
    }

    public mutating func stop() -> Actions {
        switch state {
        case .running, .recovering, .failed, .stopped:
            // Stopping a stopped driver halts the engine again: DMACR = 0 is idempotent.
            var actions = Actions()
            actions.append(.writeControl(0))
            state = .stopped
            return actions
        }
    }

    /// Adds the register port's and interrupt source's fault counts (the shell calls this).
    public mutating func noteFaults(register: Int, interruptSource: Int) {
        ledger.noteFaults(register: register, interruptSource: interruptSource)
    }

    // MARK: internals

    /// IOC for the buffer in flight in `slot`: signal, start the next queued one at once (keep the
    /// engine busy), give the sent buffer back to the producer.
    @inline(__always)
    private mutating func sent(_ slot: Int, _ actions: inout Actions) {
        if completions[slot].signal(byteCount: lengths[slot]) != nil { ledger.metrics.completionMisuses += 1 }
        ledger.succeeded(bytes: lengths[slot])
        owners[slot] = .producer
        state = .running(inFlight: nil)
        if queueCount > 0 { send(dequeue(), &actions) }
        actions.append(.recycle(slot: slot))
        actions.append(.enableInterrupt)
    }

    private mutating func fail(_ error: DriverError, inFlight: Int?, _ actions: inout Actions) {
        if let inFlight {
            if completions[inFlight].attach(error) != nil { ledger.metrics.completionMisuses += 1 }
            if completions[inFlight].signal() != nil { ledger.metrics.completionMisuses += 1 }
        }
        let retry = ledger.failed(error, maxRetries: maxRetries)
        actions.append(.resetCore)
        guard let slot = inFlight, retry else {
            state = .failed(error, attempts: ledger.errorsInARow)
            return
        }
        // The same bytes go again: the buffer stays with the device side until resent.
        state = .recovering(attempt: ledger.errorsInARow, slot: slot)
        actions.append(.scheduleRetry(attempt: ledger.errorsInARow))
        actions.append(.enableInterrupt)
    }

    private mutating func send(_ slot: Int, _ actions: inout Actions) {
        owners[slot] = .device
        completions[slot] = Completion(transfer: ledger.nextTransfer(), slot: slot)
        state = .running(inFlight: slot)
        actions.append(.send(slot: slot, length: lengths[slot]))
    }

    private mutating func enqueue(_ slot: Int) {
        owners[slot] = .queued
        queue[(queueHead + queueCount) % ringSize] = slot
        queueCount += 1
    }

    private mutating func dequeue() -> Int {
        let slot = queue[queueHead]
        queueHead = (queueHead + 1) % ringSize
        queueCount -= 1
        return slot
    }
}
