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
    let mistakes: PlantedMistakes
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var wakeups = DriverWakeups()
    /// Resets that did not finish within `resetPollLimit` reads of DMACR.
    @exclusivity(unchecked) public private(set) var resetsTimedOut = 0
    /// Starts (RS=1) after which DMASR.Halted had not cleared within `resetPollLimit` reads.
    @exclusivity(unchecked) public private(set) var startsTimedOut = 0
    /// Waiting for the core after a reset or RS=1, with the actions that wait behind it (`CoreWait`).
    @exclusivity(unchecked) private var wait = CoreWait<TransmitStateMachine.Action>()
    @exclusivity(unchecked) public private(set) var machine: TransmitStateMachine
    @exclusivity(unchecked) public private(set) var buffers: [Buffers.Buffer] = []
    @exclusivity(unchecked) private var recorder = TransitionRecorder<TransmitStateMachine.Owner>(traceName: "transmit-driver")

    /// Records the machine's state transitions and ring-slot moves when set (nil: tracing off).
    public var tracer: Tracer? {
        get { recorder.tracer }
        set { recorder.attach(newValue, state: machine.state, owners: machine.owners, lostInterrupts: machine.metrics.lostInterrupts) }
    }
    /// The driver's name in traces.
    public var traceName: String { recorder.traceName }

    public init(reactor: Reactor, registers: Registers, interrupts: Interrupts, buffers: Buffers, producer: Producer,
                configuration: DriverConfiguration) {
        io = DriverIO(reactor: reactor, registers: registers, channelBase: AXIDMAHeader.mm2sBase, interrupts: interrupts,
                      buffers: buffers, configuration: configuration)
        self.producer = producer
        mistakes = PlantedMistakes(configuration.plantedBug)
        machine = TransmitStateMachine(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                                       maxRetries: configuration.maxRetries)
    }

    public var configuration: DriverConfiguration { io.configuration }

    /// Allocates the ring (once), resets and programs the core, and offers every free buffer to the
    /// producer.
    public func start() -> Result<Void, DriverSetupError> {
        switch io.open(ring: &buffers, wakeups: &wakeups, target: self) {
        case let .success(eventCount):
            // On a restart with a buffer still with the device, DMASR before the reset: whether its
            // transfer completed unheard. Not read otherwise (a first start reads nothing more).
            let status = machine.hasBufferWithDevice ? io.channel.read(.DMASR) : 0
            perform(machine.start(eventCount: eventCount, status: status))
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
            case let .success(count) where wait.isWaiting: wait.deferredInterrupt = count
            case let .success(count): perform(machine.interrupt(eventCount: count, status: io.channel.read(.DMASR)))
            case .failure(.resourceTemporarilyUnavailable): break
            // Counted, as the receive driver does: a failing UIO read is never dropped silently.
            case .failure: machine.noteFaults(register: io.registers.faults, interruptSource: 1)
            }
        case .retry: perform(machine.retryTimerFired())
        case .watchdog: perform(machine.watchdogExpired())
        case .poll: pollCore()
        case nil: break
        }
    }

    /// The poll timer: the core caught up (or the polls ran out, counted): the parked actions go on,
    /// then an interrupt that came meanwhile (as `ReceiveDriver` does).
    private func pollCore() {
        guard let condition = wait.condition else { return }
        if !io.shows(condition) {
            if wait.poll(limit: io.configuration.resetPollLimit) {
                io.schedulePoll(wakeups)
                return
            }
            countTimeout(condition)
        }
        wait.end()
        // Bounded: each parked action is taken once; a new wait stops it.
        while !wait.isWaiting, let action = wait.next() {
            _ = perform(action)
        }
        guard !wait.isWaiting, let count = wait.deferredInterrupt else { return }
        wait.deferredInterrupt = nil
        perform(machine.interrupt(eventCount: count, status: io.channel.read(.DMASR)))
    }

    /// Starts waiting for the core (the read right after the write was the first of
    /// `resetPollLimit`); false, so the caller parks what follows. With a limit of one read there is
    /// no wait: the timeout is counted and the actions go on.
    private func waitFor(_ condition: CoreWaitCondition) -> Bool {
        guard io.configuration.resetPollLimit > 1 else {
            countTimeout(condition)
            return true
        }
        wait.begin(condition)
        io.schedulePoll(wakeups)
        return false
    }

    private func countTimeout(_ condition: CoreWaitCondition) {
        if condition == .resetDone { resetsTimedOut += 1 } else { startsTimedOut += 1 }
    }

    /// The producer fills a free buffer; what it fills is its next input, fed in place (as the
    /// receive driver feeds a consumer's release). Completions only come from the interrupt watch.
    @inline(__always)
    private func offer(_ slot: Int) {
        if let length = producer.fill(slot: slot, buffer: buffers[slot]) {
            perform(machine.submit(slot: slot, length: length))
        }
    }

    /// The machine as it is now, to the recorder: each owner read at its call, so that no array is
    /// held (and retained) across the tracer's calls.
    @inline(never)
    private func recordTransitions() {
        recorder.record(state: machine.state, lostInterrupts: machine.metrics.lostInterrupts)
        var slot = 0
        while slot < machine.owners.count {  // bounded: the ring
            recorder.record(slot: slot, owner: machine.owners[slot])
            slot += 1
        }
    }

    /// Performs `actions` in order; one that leaves the core to catch up parks the rest (`CoreWait`).
    @inline(__always)
    private func perform(_ actions: TransmitStateMachine.Actions) {
        if recorder.isTracing { recordTransitions() }
        guard !wait.isWaiting else {
            wait.enqueue(actions)
            return
        }
        for i in 0..<actions.count where !perform(actions[i]) {
            wait.park(actions, from: i + 1)
            return
        }
    }

    /// One action; false when it left the core to catch up (the shell now waits).
    @inline(__always)
    private func perform(_ action: TransmitStateMachine.Action) -> Bool {
        switch action {
        case .resetCore: if !io.resetCore(wakeups) { return waitFor(.resetDone) }
        case let .writeControl(value): if !io.writeControl(value) { return waitFor(.running) }
        case let .clearStatus(bits): io.clearStatus(bits, wakeups)
        case let .send(slot, length):
            let buffer = buffers[slot]
            if !mistakes.noSyncForDevice { buffer.syncForDevice(length: length) }
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
        return true
    }
}
