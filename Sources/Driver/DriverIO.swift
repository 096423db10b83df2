import Reactor
import Trace

/// What a driver shell does to the world outside its state machine, whatever its direction: its
/// channel's registers, the UIO file, the DMA buffer provider, and the reactor's watch and timers
/// (`DriverWakeups`, which the shell keeps and passes in). Shared by the receive and transmit shells,
/// which hold it in a `let`: a value of `let`s, so a call through it is as direct as through the
/// shell's own `let`s (no reference counting per completion; DESIGN.md, the per-completion hot path).
struct DriverIO<Registers: RegisterPort, Interrupts: InterruptSource, Buffers: DMABufferProvider> {
    let configuration: DriverConfiguration
    let reactor: Reactor
    let registers: Registers
    let channel: ChannelAccess<Registers>
    let interrupts: Interrupts
    let provider: Buffers

    init(reactor: Reactor, registers: Registers, channelBase: UInt32, interrupts: Interrupts, buffers: Buffers,
         configuration: DriverConfiguration) {
        self.configuration = configuration
        self.reactor = reactor
        self.registers = registers
        channel = ChannelAccess(registers: registers, base: channelBase, order: configuration.registerByteOrder)
        self.interrupts = interrupts
        provider = buffers
    }

    /// Allocates the ring into `ring` (once: a restart reuses it) and watches the interrupt source
    /// for `target`. Returns the UIO count now, the machine's baseline.
    func open(ring: inout [Buffers.Buffer], wakeups: inout DriverWakeups, target: ReactorTarget) -> Result<Int32, DriverSetupError> {
        if ring.isEmpty {
            switch DriverWakeups.allocateRing(provider, configuration) {
            case let .success(allocated): ring = allocated
            case let .failure(error): return .failure(error)
            }
        }
        if let error = wakeups.open(reactor, target: target, readiness: interrupts.readiness) { return .failure(error) }
        return .success(DriverWakeups.baseline(interrupts))
    }

    /// The register port's fault count over the machine's counters.
    func metrics(_ machine: DriverMetrics) -> DriverMetrics {
        var m = machine
        m.registerFaults = registers.faults
        return m
    }

    // MARK: the actions both directions have

    /// Soft reset; false if DMACR.Reset had not cleared after `resetPollLimit` reads.
    func resetCore(_ wakeups: DriverWakeups) -> Bool {
        wakeups.disarmWatchdog(reactor)
        return channel.resetCore(pollLimit: configuration.resetPollLimit)
    }

    @inline(__always)
    func writeControl(_ value: UInt32) { channel.write(.DMACR, value) }

    @inline(__always)
    func clearStatus(_ bits: UInt32, _ wakeups: DriverWakeups) {
        wakeups.disarmWatchdog(reactor)
        channel.write(.DMASR, bits)
    }

    /// Address, then LENGTH (which starts the transfer); the watchdog runs until the completion.
    @inline(__always)
    func start(address: UInt64, length: Int, _ wakeups: DriverWakeups) {
        channel.start(address: address, length: length)
        wakeups.armWatchdog(reactor, after: configuration.watchdog)
    }

    /// Writes 1 to the UIO file; false if that failed (the machine counts it).
    @inline(__always)
    func enableInterrupt() -> Bool {
        if case .failure = interrupts.setInterruptEnabled(true) { return false }
        return true
    }

    func scheduleRetry(attempt: Int, _ wakeups: DriverWakeups) {
        wakeups.armRetry(reactor, after: configuration.backoff(attempt: attempt))
    }
}

/// Records a driver's state transitions and ring-slot moves into a tracer, found by comparing the
/// machine with what was last recorded; the shell calls it before performing each input's
/// actions, so they come before the register writes they cause.
struct TransitionRecorder<Owner: TracedOwner> {
    /// `tracer != nil`, kept as a plain flag: testing the optional class reference costs a retain
    /// and a release per input.
    private(set) var isTracing = false
    private(set) var tracer: Tracer?
    /// The driver's name in traces.
    let traceName: String
    private var tracedState = DriverState.stopped
    private var tracedOwners: [Owner] = []

    init(traceName: String) { self.traceName = traceName }

    /// Starts (or, with nil, stops) recording from the machine as it is now.
    mutating func attach(_ tracer: Tracer?, state: DriverState, owners: [Owner]) {
        self.tracer = tracer
        isTracing = tracer != nil
        tracedState = state
        tracedOwners = owners
        tracer?.declare(.driver(traceName))
    }

    @inline(never)
    mutating func record(state: DriverState, owners: [Owner]) {
        guard let tracer else { return }
        if state != tracedState {
            tracer.record(.driverState(driver: traceName, from: tracedState.traceLabel, to: state.traceLabel, code: state.traceCode))
            tracedState = state
        }
        for slot in 0..<min(owners.count, tracedOwners.count) where owners[slot] != tracedOwners[slot] {
            tracer.record(.slotOwner(driver: traceName, slot: slot, from: tracedOwners[slot].traceLabel, to: owners[slot].traceLabel))
            tracedOwners[slot] = owners[slot]
        }
    }
}

/// A ring slot's owner as traces name it.
protocol TracedOwner: Equatable {
    var traceLabel: String { get }
}

extension ReceiveStateMachine.Owner: TracedOwner {
    var traceLabel: String {
        switch self {
        case .driver: "driver"
        case .device: "device"
        case .consumer: "consumer"
        }
    }
}

extension TransmitStateMachine.Owner: TracedOwner {
    var traceLabel: String {
        switch self {
        case .producer: "producer"
        case .queued: "queued"
        case .device: "device"
        }
    }
}
