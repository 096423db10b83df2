import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// The receive driver on an emulated board, everything wired as on the real thing: a stream source
/// feeds the AXI DMA's S2MM channel; the channel writes through the board bus into u-dma-buf style
/// buffers and raises its level interrupt into the controller; the UIO device turns that into an
/// event count and a readable file; the driver (the same code that runs against `/dev/uioN`)
/// reacts through its UIO mapping and file; a consumer verifies every byte. `mode: receive` in a
/// scenario, `uioemu run`, and the benchmark's end-to-end rows.
public final class ReceiveWorkload: EmulatedDriverWorkload {
    public typealias Driver = EmulatedReceiveDriver

    public let configuration: WorkloadConfiguration
    public let emulated: EmulatedBoard
    public let mapped: EmulatedBoard.MappedChannel
    public let file: UIOFile
    public let consumer: VerifyingConsumer
    public let driver: Driver
    /// A second open file of the UIO device: another process's view, for mask-irq / unmask-irq.
    /// Opened at the first such step: every open file is woken on every interrupt, and a run
    /// without those steps (`uioemu run`, the benchmark) should not pay for one.
    private lazy var sideFile = uioDevice.open(nonBlocking: true)
    /// cpu-read-buffer steps that read something other than memory holds (no sync-for-cpu).
    private var staleReads = 0

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration()) throws(WorkloadError) {
        emulated = EmulatedBoard(profile: profile, clock: configuration.clock, seed: seed)
        mapped = try emulated.mappedChannel(node: configuration.uioNode, .s2mm)
        try EmulatedBoard.requireDirectMode(mapped)
        mapped.channel.attach(configuration.source)
        file = mapped.node.open(nonBlocking: true)
        consumer = VerifyingConsumer(channel: mapped.channel, pattern: configuration.source.pattern,
                                     bufferBytes: configuration.driver.bufferBytes, ringSize: configuration.driver.ringSize,
                                     reactor: emulated.reactor, pace: configuration.consumer)
        driver = Driver(reactor: emulated.reactor, registers: mapped.mapping, interrupts: file, buffers: emulated.uio.heap,
                        consumer: consumer, configuration: emulated.driverConfiguration(configuration.driver, for: mapped))
        consumer.release = { [unowned driver] slot in driver.release(slot: slot) }
        // What explains a completed transfer that never reached the consumer: an error, or a stop.
        consumer.driverErrors = { [unowned driver] in driver.metrics.totalErrors + driver.abandonedAtStop }
        self.configuration = configuration
    }

    /// Runs for `duration` of board time (virtual or real).
    public func run(for duration: TimeSpan) {
        reactor.run(until: reactor.now + duration)
    }

    /// Runs until the driver has completed `completions` transfers in all; throws when nothing can
    /// happen any more before that (a stalled or failed driver). A stop signal ends it quietly:
    /// `reactor.interruptedBy` says so.
    public func run(completions: Int) throws(WorkloadStall) {
        let driver = self.driver
        reactor.run(until: { driver.completions >= completions })
        try reactor.checkGoal(completions, reached: driver.completions, state: "\(driver.state)")
    }

    public var report: WorkloadReport { WorkloadReport(self) }

    // MARK: Workload

    public var accountedChannel: DMAChannel? { channel }

    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        switch action {
        case let .setRate(rate): channel.setSourceRate(rate)
        case .pauseSource: channel.pauseSource()
        case .resumeSource: channel.resumeSource()
        case .restartDriver: return restartDriver()
        case let .consumerStall(duration): consumer.stall(for: duration)
        case let .cpuReadBuffer(requested):
            guard let slot = requested ?? driver.machine.armedSlot else { return "cpu-read-buffer: no buffer is armed" }
            guard slot < driver.buffers.count else { return "cpu-read-buffer: slot \(slot) is beyond the ring of \(driver.buffers.count)" }
            let buffer = driver.buffers[slot]
            let seen = buffer.withCPUBytes(count: 64) { Array($0) }
            var memory = [UInt8](repeating: 0, count: 64)
            _ = memory.withUnsafeMutableBytes { board.bus.read(into: $0, from: buffer.physicalAddress) }
            if seen != memory { staleReads += 1 }
        case let .freeBuffer(slot):
            guard slot < driver.buffers.count else { return "free-buffer: slot \(slot) is beyond the ring of \(driver.buffers.count)" }
            if let error = uio.heap.free(driver.buffers[slot]) { return "free-buffer: \(error)" }
        case .maskInterrupt: _ = sideFile.setInterruptEnabled(false)
        case .unmaskInterrupt: _ = sideFile.setInterruptEnabled(true)
        case .uioRead, .uioWrite: return ScriptWorkload.scriptOnly
        }
        return nil
    }

    /// Breaks the consumer's links back to the driver (closures that would keep both alive), and
    /// shuts the board down (`EmulatedBoard.shutdown()`): the figures stay readable, and the whole
    /// run is freed with the workload. Nothing runs after it.
    public func finish() {
        consumer.release = nil
        consumer.driverErrors = nil
        emulated.shutdown()
    }

    /// Every byte the stream produced is accounted for, whatever the scenario expects: the driver
    /// handed over what the consumer received and verified, and every gap in stream offsets is
    /// bytes dropped with a reason or abandoned after a driver error.
    public var problems: [String] {
        let v = consumer.statistics
        var problems: [String] = []
        if let gap = v.firstUnexplainedGap { problems.append("\(v.unexplainedGaps) gap(s) in the stream with no counted reason; the first: \(gap)") }
        if UInt64(driver.metrics.bytes) != v.receivedBytes {
            problems.append("the driver delivered \(driver.metrics.bytes) bytes, the consumer received \(v.receivedBytes)")
        }
        if consumer.checksData && v.verifiedBytes != v.receivedBytes {
            problems.append("the consumer received \(v.receivedBytes) bytes and verified \(v.verifiedBytes)")
        }
        // The rest of the invariants (`WorkloadReport`) no expectation names: a correct run never breaks them.
        let a = channel.accounting
        if a.producedBytes != a.deliveredBytes + a.heldBytes + a.dropped.total {
            problems.append("bytes accounted: produced \(a.producedBytes) ≠ delivered \(a.deliveredBytes) + held \(a.heldBytes) + dropped \(a.dropped.total)")
        }
        if v.addressChanges > 0 || uio.heap.allocationsAfterStart > 0 {
            problems.append("ring reused: \(v.addressChanges) ring slot(s) delivered at another DMA address, \(uio.heap.allocationsAfterStart) allocations after start")
        }
        let m = driver.metrics
        if m.completionMisuses > 0 { problems.append("completions signalled once: \(m.completionMisuses) misuse(s)") }
        if m.badReleases > 0 {
            problems.append("each buffer has one owner: the consumer gave back \(m.badReleases) buffer(s) the driver no longer counted as the consumer's (armed while the consumer held it?)")
        }
        return problems
    }

    public func measure(into m: inout Measures) {
        measureDriver(into: &m)
        m.mismatchedBytes = consumer.statistics.mismatchedBytes
        m.verifiedBytes = consumer.statistics.verifiedBytes
        if driver.latency.totalCount > 0 { m.latencyP99 = Int64(driver.latency.valueAtPercentile(99)) }
        m.staleReads = staleReads
        m.violations += staleReads
    }
}

/// The receive driver as the emulated board instantiates it: a concrete class, so the reactor's
/// call lands in code specialised for the UIO ports (see `ReceiveDriver`).
public final class EmulatedReceiveDriver: ReceiveDriver<EmulatedRegisterMapping, UIOFile, DMABufferHeap, VerifyingConsumer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}
