import DriverPorts
import Histogram
import Reactor
import SystemPackage
import Trace

/// Receives a filled buffer. Read `length` bytes through `buffer.withCPUBytes`; return `.release` to
/// give the buffer back at once, or `.keep` and call `ReceiveDriver.release(slot:)` later (a slow
/// consumer). While the consumer holds every buffer the driver cannot arm, the device's FIFO fills
/// and the device counts what it drops.
public protocol ReceiveConsumer: AnyObject {
    associatedtype Buffer: DMABufferHandle
    func receive(slot: Int, buffer: Buffer, length: Int, transfer: UInt64) -> ConsumerDecision
}

public enum ConsumerDecision: Sendable {
    case release
    case keep
}

/// Configuration of the receive and transmit drivers.
public struct DriverConfiguration: Sendable {
    public var ringSize: Int
    public var bufferBytes: Int
    /// Errors in a row before the driver gives up (`failed`).
    public var maxRetries: Int
    /// Back-off before re-arming after error number n: `backoff × 2^(n-1)`.
    public var backoff: TimeSpan
    /// Re-arm nothing came back for this long: treat it as a stalled engine. Nil: no watchdog (a
    /// receive channel may legitimately wait for data for ever).
    public var watchdog: TimeSpan?
    /// Register byte order: AXI IP is little-endian.
    public var registerByteOrder: RegisterByteOrder
    /// Reads of DMACR after a soft reset before giving up on the Reset bit clearing (and of DMASR
    /// after RS=1 before giving up on Halted clearing).
    public var resetPollLimit: Int
    /// Time between those reads: about one register access on the board's bus (the emulated
    /// workloads take the profile's `access-time`).
    public var registerPollInterval: TimeSpan = .nanoseconds(200)
    /// A deliberate mistake, so tests and the protocol checker's scenarios can show the emulation
    /// catches it (`driver: { bug: ... }`). Never set it in a real driver.
    public var plantedBug: PlantedBug? = nil
    /// Scatter-gather receive: interrupt coalescing (DMACR.IRQThreshold, IRQDelay).
    public var coalescing = SGReceiveStateMachine.Coalescing()
    /// Scatter-gather receive: cyclic BD mode (DMACR bit 4).
    public var cyclic = false

    /// The planted bug `enableBeforeClear`.
    public var enableBeforeClearForTesting: Bool {
        get { plantedBug == .enableBeforeClear }
        set { plantedBug = newValue ? .enableBeforeClear : nil }
    }

    /// The wait before re-arming after error number `attempt` (1, 2, ...): exponential back-off.
    public func backoff(attempt: Int) -> TimeSpan {
        backoff * (Int64(1) << Int64(min(max(attempt - 1, 0), 20)))
    }

    public init(ringSize: Int = 8, bufferBytes: Int = 4096, maxRetries: Int = 3, backoff: TimeSpan = .microseconds(10),
                watchdog: TimeSpan? = nil, registerByteOrder: RegisterByteOrder = .little, resetPollLimit: Int = 1000) {
        self.ringSize = ringSize
        self.bufferBytes = bufferBytes
        self.maxRetries = maxRetries
        self.backoff = backoff
        self.watchdog = watchdog
        self.registerByteOrder = registerByteOrder
        self.resetPollLimit = resetPollLimit
    }
}

/// The mistakes a driver can be told to make (`DriverConfiguration.plantedBug`), each one a rule of
/// the protocol checker breaks.
public enum PlantedBug: String, Sendable, CaseIterable {
    /// Re-enable the UIO interrupt before clearing its cause in DMASR (UIO-ENABLE-CAUSE).
    case enableBeforeClear = "enable-before-clear"
    /// Never re-enable the UIO interrupt after the first completion (UIO-NEVER-REENABLED).
    case neverReenable = "never-reenable"
    /// Hand a received buffer to the consumer without sync_for_cpu (CPU-READ-NO-SYNC).
    case noSyncForCPU = "no-sync-for-cpu"
    /// Send a transmit buffer without sync_for_device (MM2S-NO-SYNC).
    case noSyncForDevice = "no-sync-for-device"
    /// Program the buffer's CPU virtual address instead of its DMA address (DMA-OUTSIDE-BUFFERS).
    case virtualAddress = "virtual-address"
    /// Scatter-gather: store descriptor words in the big-endian CPU's order instead of
    /// little-endian (SG-DESC-BYTE-ORDER).
    case descriptorByteOrder = "descriptor-byte-order"
    // The classic bugs `uioemu explore` must find (its planted-bug tests), test-only: a scenario file
    // names one only when UIOEMU_TEST_ONLY_BUGS=1 is set (`isTestOnly`).
    /// With the ring full, arm the next buffer in ring order anyway, though the consumer still holds it.
    case rearmHeldBuffer = "rearm-held-buffer"
    /// Treat an interrupt by IOC_Irq alone: the error bits (DMASR[6:4], Err_Irq) are never looked at.
    case ignoreErrorBits = "ignore-error-bits"
    /// Program each buffer's DMA address one page (4 KiB) too high.
    case dmaAddressPageOff = "dma-address-page-off"
    /// After an error's soft reset, leave the UIO interrupt disabled (no `write(fd, 1)`).
    case noReenableAfterError = "no-reenable-after-error"

    /// Test-only (explore's planted bugs): refused in scenario files unless UIOEMU_TEST_ONLY_BUGS=1.
    public var isTestOnly: Bool {
        switch self {
        case .enableBeforeClear, .neverReenable, .noSyncForCPU, .noSyncForDevice, .virtualAddress, .descriptorByteOrder: false
        case .rearmHeldBuffer, .ignoreErrorBits, .dmaAddressPageOff, .noReenableAfterError: true
        }
    }

    /// The environment variable that lets a scenario file name a test-only bug.
    public static let testOnlyVariable = "UIOEMU_TEST_ONLY_BUGS"

    /// What `virtualAddress` programs for a buffer at `dmaAddress`: where a 64-bit process's mmap of
    /// it could be.
    public static func virtualAddress(of dmaAddress: UInt64) -> UInt64 { 0x0000_7F3A_5C00_0000 | (dmaAddress & 0xFFFF_FFFF) }

    /// What `dmaAddressPageOff` programs for a buffer at `dmaAddress`.
    public static func pageOff(_ dmaAddress: UInt64) -> UInt64 { dmaAddress &+ 4096 }
}

/// `DriverConfiguration.plantedBug` as the shells test it on every completion: one stored `Bool` per
/// mistake (comparing the optional enum each time cost instructions on the hot path).
struct PlantedMistakes: Sendable {
    let enableFirst: Bool
    let neverReenable: Bool
    let noSyncForCPU: Bool
    let noSyncForDevice: Bool
    /// `virtualAddress` or `dmaAddressPageOff`: the address programmed is not the buffer's (one
    /// branch per arm for both).
    let rewritesAddress: Bool
    let bug: PlantedBug?

    init(_ bug: PlantedBug?) {
        self.bug = bug
        enableFirst = bug == .enableBeforeClear
        neverReenable = bug == .neverReenable
        noSyncForCPU = bug == .noSyncForCPU
        noSyncForDevice = bug == .noSyncForDevice
        rewritesAddress = bug == .virtualAddress || bug == .dmaAddressPageOff
    }

    /// The address the planted bug programs instead of `dmaAddress` (out of line: only with a bug).
    @inline(never)
    func rewrite(_ dmaAddress: UInt64) -> UInt64 {
        bug == .dmaAddressPageOff ? PlantedBug.pageOff(dmaAddress) : PlantedBug.virtualAddress(of: dmaAddress)
    }
}

/// The thin shell around `ReceiveStateMachine`: it reads the registers and the UIO file, feeds the
/// machine, and performs the actions it returns. Generic over the platform's ports and the
/// consumer, so each use is specialised and the per-completion path has no existential calls, no
/// closures and no allocation.
///
/// One catch makes this class `open`: the reactor calls `reactorEvent(_:)` through the vtable, and a
/// generic class's vtable holds the unspecialised body, where every port call goes through a
/// witness table (measured: no specialisation at all on the hot path). A platform instantiates the
/// driver as a one-line concrete subclass whose override calls `handleEvent(_:)`; that call is
/// specialised for the concrete ports (the Driver target is built with cross-module optimisation, so
/// the body is available to the subclass's module):
///
///     final class BoardDriver: ReceiveDriver<MyRegisters, MyInterrupts, MyBuffers, MyConsumer> {
///         override func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
///     }
open class ReceiveDriver<Registers: RegisterPort, Interrupts: InterruptSource, Buffers: DMABufferProvider,
    Consumer: ReceiveConsumer>: ReactorTarget where Consumer.Buffer == Buffers.Buffer
{
    let consumer: Consumer
    let io: DriverIO<Registers, Interrupts, Buffers>
    let mistakes: PlantedMistakes
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) private var wakeups = DriverWakeups()
    /// Resets that did not finish within `resetPollLimit` reads of DMACR.
    @exclusivity(unchecked) public private(set) var resetsTimedOut = 0
    /// Starts (RS=1) after which DMASR.Halted had not cleared within `resetPollLimit` reads.
    @exclusivity(unchecked) public private(set) var startsTimedOut = 0
    /// Waiting for the core after a reset or RS=1, with the actions that wait behind it.
    @exclusivity(unchecked) private var wait = CoreWait<ReceiveStateMachine.Action>()
    @exclusivity(unchecked) public private(set) var machine: ReceiveStateMachine
    @exclusivity(unchecked) public private(set) var buffers: [Buffers.Buffer] = [] {
        didSet { ring = buffers.map { Unmanaged.passUnretained($0) } }
    }
    /// `buffers` again, unretained (`buffers` keeps them alive): reading a class reference out of
    /// an array retains it, twice per completion; a call through `Unmanaged` does not.
    @exclusivity(unchecked) private var ring: [Unmanaged<Buffers.Buffer>] = []
    /// Interrupt-to-handler latency in nanoseconds (when the platform knows when it was raised).
    @exclusivity(unchecked) public private(set) var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    @exclusivity(unchecked) private var recorder = TransitionRecorder<ReceiveStateMachine.Owner>(traceName: "receive-driver")

    /// Records the machine's state transitions and ring-slot moves when set (nil: tracing off).
    public var tracer: Tracer? {
        get { recorder.tracer }
        set { recorder.attach(newValue, state: machine.state, owners: machine.owners, lostInterrupts: machine.metrics.lostInterrupts) }
    }
    /// The driver's name in traces.
    public var traceName: String { recorder.traceName }

    public init(reactor: Reactor, registers: Registers, interrupts: Interrupts, buffers: Buffers, consumer: Consumer,
                configuration: DriverConfiguration) {
        io = DriverIO(reactor: reactor, registers: registers, channelBase: AXIDMAHeader.s2mmBase, interrupts: interrupts,
                      buffers: buffers, configuration: configuration)
        self.consumer = consumer
        mistakes = PlantedMistakes(configuration.plantedBug)
        machine = ReceiveStateMachine(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                                      maxRetries: configuration.maxRetries, plantedBug: configuration.plantedBug)
    }

    public var configuration: DriverConfiguration { io.configuration }

    /// Allocates the ring (once: a restart reuses it), resets and programs the core, arms the first
    /// buffer and starts watching the interrupt.
    public func start() -> Result<Void, DriverSetupError> {
        switch io.open(ring: &buffers, wakeups: &wakeups, target: self) {
        case let .success(eventCount): perform(machine.start(eventCount: eventCount))
        case let .failure(error): return .failure(error)
        }
        return .success(())
    }

    /// Halts the engine and stops watching; buffers stay allocated.
    public func stop() {
        if machine.armedSlot != nil { abandonedAtStop += 1 }
        perform(machine.stop())
        wakeups.close(io.reactor)
    }

    /// The consumer gives a kept buffer back.
    public func release(slot: Int) {
        perform(machine.release(slot: slot))
    }

    public var state: DriverState { machine.state }

    /// Completions so far (cheap: for run-until conditions).
    public var completions: Int { machine.metrics.completions }

    public var metrics: DriverMetrics { io.metrics(machine.metrics) }

    /// Transfers armed when the driver stopped (a restart), abandoned, completed or not. Kept here,
    /// not in the machine: one more stored property in `ReceiveStateMachine` cost 23 instructions
    /// per completion (callgrind, `e2e`).
    @exclusivity(unchecked) public private(set) var abandonedAtStop = 0

    public func reapCompletion() -> Completion? { machine.reapCompletion() }

    // MARK: reactor events

    override open func reactorEvent(_ tag: UInt64) { handleEvent(tag) }

    /// What `reactorEvent(_:)` does; a concrete subclass's override calls it (see the type's comment).
    public final func handleEvent(_ tag: UInt64) {
        switch DriverWakeups.Tag(rawValue: tag) {
        case .interrupt: handleInterrupt()
        case .retry: perform(machine.retryTimerFired())
        case .watchdog: perform(machine.watchdogExpired())
        case .poll: pollCore()
        case nil: break
        }
    }

    @inline(__always)
    private func handleInterrupt() {
        let count: Int32
        switch io.interrupts.readEventCount() {
        case let .success(n): count = n
        case .failure(.resourceTemporarilyUnavailable): return
        case .failure:
            machine.noteFaults(register: io.registers.faults, interruptSource: 1)
            return
        }
        if let raised = io.interrupts.lastInterruptTime {
            let ns = (io.reactor.now - raised).nanoseconds
            latency.record(UInt64(max(ns, 0)))
        }
        guard !wait.isWaiting else {
            wait.deferredInterrupt = count
            return
        }
        interrupt(eventCount: count)
    }

    /// The rest of an interrupt, once the UIO count is read: DMASR, LENGTH, the machine.
    @inline(__always)
    private func interrupt(eventCount count: Int32) {
        let status = io.channel.read(.DMASR)
        let length = io.channel.read(.LENGTH)
        perform(machine.interrupt(eventCount: count, status: status, receivedLength: length))
    }

    // MARK: actions

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

    /// Performs `actions` in order; one that leaves the core to catch up (`CoreWait`) parks the
    /// rest until it has. While the driver waits, new actions queue behind the parked ones.
    @inline(__always)
    private func perform(_ actions: ReceiveStateMachine.Actions) {
        if recorder.isTracing { recordTransitions() }
        guard !wait.isWaiting && !mistakes.enableFirst else {
            performAside(actions)
            return
        }
        performInOrder(actions)
    }

    @inline(__always)
    private func performInOrder(_ actions: ReceiveStateMachine.Actions) {
        for i in 0..<actions.count where !perform(actions[i]) {
            wait.park(actions, from: i + 1)
            return
        }
    }

    /// Out of the per-completion path: while the driver waits for the core the actions queue behind
    /// the parked ones; the planted bug moves `.enableInterrupt` in front of everything else.
    @inline(never)
    private func performAside(_ actions: ReceiveStateMachine.Actions) {
        var ordered = actions
        if mistakes.enableFirst {
            ordered = ReceiveStateMachine.Actions()
            for action in actions where action == .enableInterrupt { ordered.append(action) }
            for action in actions where action != .enableInterrupt { ordered.append(action) }
        }
        if wait.isWaiting { wait.enqueue(ordered) } else { performInOrder(ordered) }
    }

    /// The poll timer: the core caught up (or the polls ran out, counted): the parked actions go on,
    /// then an interrupt that came meanwhile.
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
        interrupt(eventCount: count)
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

    /// The consumer's answer to a delivery is its next input, fed here in place: `.release` frees the
    /// buffer (and arms it if the ring was full) before the rest of the interrupt's actions, as a C
    /// driver returning from its callback would. Completions themselves only ever come from the
    /// interrupt watch, a reactor event: never from `start`, `release` or another call into the driver.
    /// One action; false when it left the core to catch up (the shell now waits).
    @inline(__always)
    private func perform(_ action: ReceiveStateMachine.Action) -> Bool {
        switch action {
        case .resetCore: if !io.resetCore(wakeups) { return waitFor(.resetDone) }
        case let .writeControl(value): if !io.writeControl(value) { return waitFor(.running) }
        case let .clearStatus(bits): io.clearStatus(bits, wakeups)
        case let .deliver(slot):
            let completion = machine.completions[slot]
            let syncs = !mistakes.noSyncForCPU
            let decision = ring[slot]._withUnsafeGuaranteedRef { buffer in
                if syncs { buffer.syncForCPU(length: completion.byteCount) }
                return consumer.receive(slot: slot, buffer: buffer, length: completion.byteCount, transfer: completion.transfer)
            }
            if decision == .release { perform(machine.release(slot: slot)) }
        case let .arm(slot):
            var address = ring[slot]._withUnsafeGuaranteedRef { buffer in
                buffer.syncForDevice(length: buffer.byteCount)
                return buffer.dmaAddress
            }
            if mistakes.rewritesAddress { address = mistakes.rewrite(address) }
            io.start(address: address, length: io.configuration.bufferBytes, wakeups)
        case .enableInterrupt:
            if mistakes.neverReenable && machine.metrics.completions > 0 { break }
            if !io.enableInterrupt() { machine.noteFaults(register: io.registers.faults, interruptSource: 1) }
        case let .scheduleRetry(attempt): io.scheduleRetry(attempt: attempt, wakeups)
        }
        return true
    }
}
