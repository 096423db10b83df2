import DriverPorts
import Reactor
import SystemPackage
import Trace

/// Fills transmit buffers. `fill` is offered every free buffer (at start and after each buffer is
/// sent); it writes up to `buffer.byteCount` bytes through `withMutableCPUBytes` and returns how
/// many to send, or nil to leave the buffer free (it can hand it in later with
/// `TransmitDriver.submit(slot:length:)`).
public protocol TransmitProducer: AnyObject {
    associatedtype Buffer: DMABufferHandle
    func fill(slot: Int, buffer: Buffer) -> Int?
}

/// The shell around `TransmitStateMachine`, like `ReceiveDriver` for the MM2S channel: the same
/// ports, the same ring discipline, the same recovery, and the same concrete-subclass pattern for a
/// specialised event path (see `ReceiveDriver`).
open class TransmitDriver<Registers: RegisterPort, Interrupts: InterruptSource, Buffers: DMABufferProvider,
    Producer: TransmitProducer>: ReactorTarget where Producer.Buffer == Buffers.Buffer
{
    let producer: Producer
    let io: DriverIO<Registers, Interrupts, Buffers>
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var wakeups = DriverWakeups()
    /// Resets that did not finish within `resetPollLimit` reads of DMACR.
    @exclusivity(unchecked) public private(set) var resetsTimedOut = 0
    @exclusivity(unchecked) public private(set) var machine: TransmitStateMachine
    @exclusivity(unchecked) public private(set) var buffers: [Buffers.Buffer] = []
    @exclusivity(unchecked) private var recorder = TransitionRecorder<TransmitStateMachine.Owner>(traceName: "transmit-driver")

    /// Records the machine's state transitions and ring-slot moves when set (nil: tracing off).
    public var tracer: Tracer? {
        get { recorder.tracer }
        set { recorder.attach(newValue, state: machine.state, owners: machine.owners) }
    }
    /// The driver's name in traces.
    public var traceName: String { recorder.traceName }

    public init(reactor: Reactor, registers: Registers, interrupts: Interrupts, buffers: Buffers, producer: Producer,
                configuration: DriverConfiguration) {
        io = DriverIO(reactor: reactor, registers: registers, channelBase: AXIDMAHeader.mm2sBase, interrupts: interrupts,
                      buffers: buffers, configuration: configuration)
        self.producer = producer
        machine = TransmitStateMachine(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                                       maxRetries: configuration.maxRetries)
    }

    public var configuration: DriverConfiguration { io.configuration }

    /// Allocates the ring (once), resets and programs the core, and offers every free buffer to the
    /// producer.
    public func start() -> Result<Void, DriverSetupError> {
        switch io.open(ring: &buffers, wakeups: &wakeups, target: self) {
        case let .success(eventCount): perform(machine.start(eventCount: eventCount))
        case let .failure(error): return .failure(error)
        }
        for slot in machine.freeSlots { offer(slot) }
        return .success(())
    }

    /// Halts the engine and stops watching; buffers stay allocated.
    public func stop() {
        perform(machine.stop())
        wakeups.close(io.reactor)
    }

    /// Hands in a buffer the producer filled outside `fill`.
    public func submit(slot: Int, length: Int) {
        perform(machine.submit(slot: slot, length: length))
    }

    public var state: DriverState { machine.state }
    public var completions: Int { machine.metrics.completions }
    public var metrics: DriverMetrics { io.metrics(machine.metrics) }
    override open func reactorEvent(_ tag: UInt64) { handleEvent(tag) }

    /// What `reactorEvent(_:)` does; a concrete subclass's override calls it.
    public final func handleEvent(_ tag: UInt64) {
        switch DriverWakeups.Tag(rawValue: tag) {
        case .interrupt:
            switch io.interrupts.readEventCount() {
            case let .success(count): perform(machine.interrupt(eventCount: count, status: io.channel.read(.DMASR)))
            case .failure(.resourceTemporarilyUnavailable): break
            // Counted, as the receive driver does: a failing UIO read is never dropped silently.
            case .failure: machine.noteFaults(register: io.registers.faults, interruptSource: 1)
            }
        case .retry: perform(machine.retryTimerFired())
        case .watchdog: perform(machine.watchdogExpired())
        case nil: break
        }
    }

    /// The producer fills a free buffer; what it fills is its next input, fed in place (as the
    /// receive driver feeds a consumer's release). Completions only come from the interrupt watch.
    @inline(__always)
    private func offer(_ slot: Int) {
        if let length = producer.fill(slot: slot, buffer: buffers[slot]) {
            perform(machine.submit(slot: slot, length: length))
        }
    }

    @inline(__always)
    private func perform(_ actions: TransmitStateMachine.Actions) {
        if recorder.isTracing { recorder.record(state: machine.state, owners: machine.owners) }
        for i in 0..<actions.count { perform(actions[i]) }
    }

    @inline(__always)
    private func perform(_ action: TransmitStateMachine.Action) {
        switch action {
        case .resetCore: if !io.resetCore(wakeups) { resetsTimedOut += 1 }
        case let .writeControl(value): io.writeControl(value)
        case let .clearStatus(bits): io.clearStatus(bits, wakeups)
        case let .send(slot, length):
            let buffer = buffers[slot]
            buffer.syncForDevice(length: length)
            io.start(address: buffer.dmaAddress, length: length, wakeups)
        case let .recycle(slot):
            // The device is done reading: the CPU owns the buffer again before the producer writes it.
            buffers[slot].syncForCPU(length: 0)
            offer(slot)
        case .enableInterrupt:
            // Counted, as the receive driver does: a failing UIO write is never dropped silently.
            if !io.enableInterrupt() { machine.noteFaults(register: io.registers.faults, interruptSource: 1) }
        case let .scheduleRetry(attempt): io.scheduleRetry(attempt: attempt, wakeups)
        }
    }
}
