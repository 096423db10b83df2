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
    public let configuration: DriverConfiguration
    let reactor: Reactor
    let registers: Registers
    let channel: ChannelRegisters<Registers>
    let interrupts: Interrupts
    let provider: Buffers
    let producer: Producer
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var machine: TransmitStateMachine
    @exclusivity(unchecked) public private(set) var buffers: [Buffers.Buffer] = []
    @exclusivity(unchecked) private var events = DriverEvents()
    @exclusivity(unchecked) public private(set) var resetsTimedOut = 0

    /// Records the machine's state transitions and ring-slot moves when set (nil: tracing off),
    /// found by comparing the machine with what was last recorded before performing each input's
    /// actions, so they come before the register writes they cause.
    @exclusivity(unchecked) public var tracer: Tracer? {
        didSet {
            tracing = tracer != nil
            tracedState = machine.state
            tracedOwners = machine.owners
            tracer?.declare(.driver(traceName))
        }
    }
    /// `tracer != nil` as a plain flag (testing the optional reference costs a retain and a release).
    @exclusivity(unchecked) private var tracing = false
    /// The driver's name in traces.
    @exclusivity(unchecked) public var traceName = "transmit-driver"
    @exclusivity(unchecked) private var tracedState = TransmitStateMachine.State.stopped
    @exclusivity(unchecked) private var tracedOwners: [TransmitStateMachine.Owner] = []

    public init(reactor: Reactor, registers: Registers, interrupts: Interrupts, buffers: Buffers, producer: Producer,
                configuration: DriverConfiguration) {
        self.configuration = configuration
        self.reactor = reactor
        self.registers = registers
        channel = ChannelRegisters(registers: registers, base: AXIDMAHeader.mm2sBase, order: configuration.registerByteOrder)
        self.interrupts = interrupts
        provider = buffers
        self.producer = producer
        machine = TransmitStateMachine(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                                       maxRetries: configuration.maxRetries)
    }

    public func start() -> Result<Void, DriverSetupError> {
        if buffers.isEmpty {
            switch DriverEvents.allocateRing(provider, configuration) {
            case let .success(allocated): buffers = allocated
            case let .failure(error): return .failure(error)
            }
        }
        if let error = events.open(reactor, target: self, readiness: interrupts.readiness) { return .failure(error) }
        perform(machine.start(eventCount: DriverEvents.baseline(interrupts)))
        for slot in machine.freeSlots { offer(slot) }
        return .success(())
    }

    public func stop() {
        perform(machine.stop())
        events.close(reactor)
    }

    /// Hands in a buffer the producer filled outside `fill`.
    public func submit(slot: Int, length: Int) {
        perform(machine.submit(slot: slot, length: length))
    }

    public var state: TransmitStateMachine.State { machine.state }
    public var completions: Int { machine.metrics.completions }

    public var metrics: DriverMetrics {
        var m = machine.metrics
        m.registerFaults = registers.faults
        return m
    }

    override open func reactorEvent(_ tag: UInt64) { handleEvent(tag) }

    /// What `reactorEvent(_:)` does; a concrete subclass's override calls it.
    public final func handleEvent(_ tag: UInt64) {
        switch DriverEvents.Tag(rawValue: tag) {
        case .interrupt:
            switch interrupts.readEventCount() {
            case let .success(count): perform(machine.interrupt(eventCount: count, status: channel.read(.DMASR)))
            case .failure(.resourceTemporarilyUnavailable): break
            // Counted, as the receive driver does: a failing UIO read is never dropped silently.
            case .failure: machine.noteFaults(register: registers.faults, interruptSource: 1)
            }
        case .retry: perform(machine.retryTimerFired())
        case .watchdog: perform(machine.watchdogExpired())
        case nil: break
        }
    }

    @inline(__always)
    private func offer(_ slot: Int) {
        if let length = producer.fill(slot: slot, buffer: buffers[slot]) {
            perform(machine.submit(slot: slot, length: length))
        }
    }

    @inline(__always)
    private func perform(_ actions: TransmitStateMachine.Actions) {
        if tracing { traceTransitions() }
        for i in 0..<actions.count { perform(actions[i]) }
    }

    @inline(__always)
    private func perform(_ action: TransmitStateMachine.Action) {
        switch action {
        case .resetCore:
            events.disarmWatchdog(reactor)
            if !channel.resetCore(pollLimit: configuration.resetPollLimit) { resetsTimedOut += 1 }
        case let .writeControl(value):
            channel.write(.DMACR, value)
        case let .clearStatus(bits):
            events.disarmWatchdog(reactor)
            channel.write(.DMASR, bits)
        case let .send(slot, length):
            let buffer = buffers[slot]
            buffer.syncForDevice(length: length)
            channel.start(address: buffer.dmaAddress, length: length)
            events.armWatchdog(reactor, after: configuration.watchdog)
        case let .recycle(slot):
            // The device is done reading: the CPU owns the buffer again before the producer writes it.
            buffers[slot].syncForCPU(length: 0)
            offer(slot)
        case .enableInterrupt:
            _ = interrupts.setInterruptEnabled(true)
        case let .scheduleRetry(attempt):
            events.armRetry(reactor, after: configuration.backoff(attempt: attempt))
        }
    }

    @inline(never)
    private func traceTransitions() {
        guard let tracer else { return }
        let state = machine.state
        if state != tracedState {
            tracer.record(.driverState(driver: traceName, from: tracedState.traceLabel, to: state.traceLabel, code: state.traceCode))
            tracedState = state
        }
        let owners = machine.owners
        for slot in 0..<min(owners.count, tracedOwners.count) where owners[slot] != tracedOwners[slot] {
            tracer.record(.slotOwner(driver: traceName, slot: slot, from: tracedOwners[slot].traceLabel, to: owners[slot].traceLabel))
            tracedOwners[slot] = owners[slot]
        }
    }
}

extension TransmitStateMachine.State {
    /// Compact and stable, for traces: `running(3)`, `recovering(1,3)`.
    var traceLabel: String {
        switch self {
        case .stopped: "stopped"
        case let .running(inFlight?): "running(\(inFlight))"
        case .running(nil): "running(none)"
        case let .recovering(attempt, slot): "recovering(\(attempt),\(slot))"
        case let .failed(error, attempts): "failed(\(error.rawValue),\(attempts))"
        }
    }

    /// 0 stopped, 1 running, 2 recovering, 3 failed (a waveform's small integer).
    var traceCode: Int {
        switch self {
        case .stopped: 0
        case .running: 1
        case .recovering: 2
        case .failed: 3
        }
    }
}

extension TransmitStateMachine.Owner {
    var traceLabel: String {
        switch self {
        case .producer: "producer"
        case .queued: "queued"
        case .device: "device"
        }
    }
}
