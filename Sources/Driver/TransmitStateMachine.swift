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
    public typealias State = DriverState

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
    /// The most a producer may put in one buffer.
    public let bufferBytes: Int
    public static let runControl = Driver.runControl

    public var state: State { core.state }
    public private(set) var owners: [Owner]
    public private(set) var completions: [Completion]
    private var core: DriverCore
    private var lengths: [Int]
    /// Filled buffers waiting to be sent, in submission order.
    private var queue: [Int]
    private var queueHead = 0
    private var queueCount = 0
    /// The buffer in flight when the driver stopped (its completion not yet signalled), for `start`.
    private var stoppedInFlight: Int?

    public init(ringSize: Int, bufferBytes: Int, maxRetries: Int = 3) {
        precondition(ringSize > 0 && bufferBytes > 0 && maxRetries >= 0)
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        owners = Array(repeating: .producer, count: ringSize)
        completions = (0..<ringSize).map { Completion(transfer: 0, slot: $0) }
        lengths = Array(repeating: 0, count: ringSize)
        queue = Array(repeating: 0, count: ringSize)
        core = DriverCore(maxRetries: maxRetries)
    }

    public var metrics: DriverMetrics { core.metrics }
    public var queuedCount: Int { queueCount }

    // MARK: inputs (each switches on the state in `DriverCore` first)

    /// Reset and program the core, enable the interrupt; the shell then offers every free buffer
    /// to the producer.
    /// On a restart, the buffer that was with the device when the driver stopped is settled first,
    /// by `status` (DMASR read before the reset): IOC_Irq still set means its transfer completed
    /// unheard (the driver had stopped watching): a completion, the buffer back to the producer.
    /// Otherwise the reset ends the transfer and MM2S delivered none of it: the same bytes go
    /// again, first, as after an error (an error's buffer waiting for its resend, or the one the
    /// driver gave up on, goes again the same way). Then the buffers queued before the stop, in
    /// their order. Found by `uioemu explore`: after `restart-driver` the driver waited for that
    /// buffer for ever and never sent again.
    public mutating func start(eventCount: Int32?, status: UInt32 = 0) -> Actions {
        var actions = Actions()
        let withDevice = owners.firstIndex(of: .device)  // one at most: direct register mode
        core.start(eventCount: eventCount, &actions)
        core.state = .running(active: nil)
        if let slot = withDevice {
            if slot == stoppedInFlight && status & AXIDMAHeader.IOC_Irq != 0 {
                if completions[slot].signal(byteCount: lengths[slot]) != nil { core.metrics.completionMisuses += 1 }
                core.succeeded(bytes: lengths[slot])
                owners[slot] = .producer
                actions.append(.recycle(slot: slot))
            } else {
                if slot == stoppedInFlight, completions[slot].signal(byteCount: 0) != nil { core.metrics.completionMisuses += 1 }
                send(slot, &actions)
            }
        }
        stoppedInFlight = nil
        if case .running(active: nil) = core.state, queueCount > 0 { send(dequeue(), &actions) }
        actions.append(.enableInterrupt)
        return actions
    }

    /// A buffer is the device's (in flight, or waiting for its resend): `start` needs DMASR.
    public var hasBufferWithDevice: Bool { owners.contains(.device) }

    /// Slots the producer may fill now (free ones), for the shell to offer after `start`.
    public var freeSlots: [Int] { (0..<ringSize).filter { owners[$0] == .producer } }

    /// The producer filled `slot` with `length` bytes. A slot it does not own, or a bad length, is
    /// counted and refused.
    public mutating func submit(slot: Int, length: Int) -> Actions {
        var actions = Actions()
        guard slot >= 0 && slot < ringSize && owners[slot] == .producer && length > 0 && length <= bufferBytes else {
            core.metrics.badReleases += 1
            return actions
        }
        lengths[slot] = length
        switch core.state {
        case .running(active: nil): send(slot, &actions)
        case .running(active: .some), .recovering, .stopped, .failed: enqueue(slot)
        }
        return actions
    }

    /// An interrupt: the UIO count just read, then DMASR as read from the device.
    public mutating func interrupt(eventCount: Int32, status: UInt32) -> Actions {
        var actions = Actions()
        switch core.interrupt(eventCount: eventCount, status: status, &actions) {
        case .handled: return actions
        case let .error(error, inFlight): fail(error, inFlight: inFlight, &actions)
        case let .completed(slot): sent(slot, &actions)
        }
        return actions
    }

    /// The back-off after an error is over: re-program the core and send the same buffer again.
    public mutating func retryTimerFired() -> Actions {
        var actions = Actions()
        send(core.retryTimerFired(&actions), &actions)
        return actions
    }

    /// The watchdog expired: a buffer was in flight and nothing came back (a stalled engine).
    public mutating func watchdogExpired() -> Actions {
        var actions = Actions()
        fail(.timeout, inFlight: core.watchdogExpired(), &actions)
        return actions
    }

    /// Stop: halt the engine; buffers stay allocated. A buffer with the device stays the device's
    /// (clearing RS lets a transfer in flight complete, PG021): `start` settles it.
    public mutating func stop() -> Actions {
        var actions = Actions()
        if case let .running(active: slot?) = core.state { stoppedInFlight = slot }
        core.stop(&actions)
        return actions
    }

    /// Adds the register port's and interrupt source's fault counts (the shell calls this).
    public mutating func noteFaults(register: Int, interruptSource: Int) {
        core.noteFaults(register: register, interruptSource: interruptSource)
    }

    // MARK: internals

    /// IOC for the buffer in flight in `slot`: signal, start the next queued one at once (keep the
    /// engine busy), give the sent buffer back to the producer.
    @inline(__always)
    private mutating func sent(_ slot: Int, _ actions: inout Actions) {
        if completions[slot].signal(byteCount: lengths[slot]) != nil { core.metrics.completionMisuses += 1 }
        core.succeeded(bytes: lengths[slot])
        owners[slot] = .producer
        core.state = .running(active: nil)
        if queueCount > 0 { send(dequeue(), &actions) }
        actions.append(.recycle(slot: slot))
        actions.append(.enableInterrupt)
    }

    /// An error ended the transfer in flight in `inFlight` (if any): the error is attached, then
    /// signalled; the same bytes go again after the back-off, so the buffer stays with the device
    /// side until resent. With nothing in flight there is nothing to resend: the driver gives up.
    private mutating func fail(_ error: DriverError, inFlight: Int?, _ actions: inout Actions) {
        if let inFlight {
            if completions[inFlight].attach(error) != nil { core.metrics.completionMisuses += 1 }
            if completions[inFlight].signal() != nil { core.metrics.completionMisuses += 1 }
        }
        core.fail(error, retrying: inFlight, &actions)
    }

    private mutating func send(_ slot: Int, _ actions: inout Actions) {
        owners[slot] = .device
        completions[slot] = Completion(transfer: core.nextTransfer(), slot: slot)
        core.state = .running(active: slot)
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
