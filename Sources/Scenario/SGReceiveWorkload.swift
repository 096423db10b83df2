import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// The scatter-gather receive driver on an emulated board (`mode: sg-receive`): the same wiring as
/// `ReceiveWorkload` (a stream source into the S2MM channel, the board's UIO node, the DMA heap, a
/// consumer that verifies every byte), with the AXI DMA behind the driver's node built with
/// scatter-gather (`sgProfile(_:node:)`) and `SGReceiveDriver` walking a descriptor ring.
public final class SGReceiveWorkload: EmulatedDriverWorkload {
    public typealias Driver = EmulatedSGReceiveDriver

    public let configuration: WorkloadConfiguration
    public let emulated: EmulatedBoard
    public let mapped: EmulatedBoard.MappedChannel
    public let file: UIOFile
    public let consumer: VerifyingConsumer
    public let driver: Driver
    private lazy var sideFile = uioDevice.open(nonBlocking: true)
    private var staleReads = 0

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration()) throws(WorkloadError) {
        emulated = EmulatedBoard(profile: try Self.sgProfile(profile, node: configuration.uioNode), clock: configuration.clock, seed: seed)
        mapped = try emulated.mappedChannel(node: configuration.uioNode, .s2mm)
        mapped.channel.attach(configuration.source)
        file = mapped.node.open(nonBlocking: true)
        consumer = VerifyingConsumer(channel: mapped.channel, pattern: configuration.source.pattern,
                                     bufferBytes: configuration.driver.bufferBytes, ringSize: configuration.driver.ringSize,
                                     reactor: emulated.reactor, pace: configuration.consumer)
        driver = Driver(reactor: emulated.reactor, registers: mapped.mapping, interrupts: file, buffers: emulated.uio.heap,
                        consumer: consumer, configuration: emulated.driverConfiguration(configuration.driver, for: mapped))
        consumer.release = { [unowned driver] slot in driver.release(slot: slot) }
        consumer.driverErrors = { [unowned driver] in driver.metrics.totalErrors + driver.abandonedAtStop }
        self.configuration = configuration
    }

    /// `profile` with the AXI DMA behind the driver's UIO node (`node`, or the first node on an
    /// S2MM interrupt) built with scatter-gather, as if its profile said `scatter-gather: true`.
    /// A profile that says so already is returned as it is.
    static func sgProfile(_ profile: BoardProfile, node: String?) throws(WorkloadError) -> BoardProfile {
        let candidates = profile.uioNodes.filter { node == nil ? $0.interrupt?.output == DMADirection.s2mm.rawValue : $0.name == node }
        for candidate in candidates {  // bounded: the profile's UIO nodes
            guard let index = profile.devices.firstIndex(where: { $0.name == candidate.device }),
                  var parameters = profile.devices[index].parameters(as: AXIDMAParameters.self), parameters.s2mm != nil else { continue }
            var adjusted = profile
            parameters.scatterGather = true
            adjusted.devices[index].parameters = parameters
            return adjusted
        }
        throw WorkloadError("board \(profile.name) has no UIO node \(node.map { "named \($0) " } ?? "")on an AXI DMA with an S2MM channel "
                            + "for the scatter-gather receive driver", isInputError: true)
    }

    public func run(for duration: TimeSpan) {
        reactor.run(until: reactor.now + duration)
    }

    /// Runs until the driver has completed `completions` descriptors in all (see `ReceiveWorkload`).
    public func run(completions: Int) throws(WorkloadStall) {
        let driver = self.driver
        reactor.run(until: { driver.completions >= completions })
        try reactor.checkGoal(completions, reached: driver.completions, state: "\(driver.state)")
    }

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
            // Nil: the buffer of the descriptor the engine fills next.
            let slot = requested ?? driver.machine.head
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

    public func finish() {
        consumer.release = nil
        consumer.driverErrors = nil
        emulated.shutdown()
    }

    /// As `ReceiveWorkload.problems`: every byte accounted for, delivered = received = verified.
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
        if v.outOfOrder > 0 { problems.append("\(v.outOfOrder) buffer(s) arrived behind ones already seen") }
        if v.packetsNotLogged > 0 { problems.append("\(v.packetsNotLogged) packet(s) could not be lined up with the stream (packet log)") }
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

/// The scatter-gather receive driver as the emulated board instantiates it (see `EmulatedReceiveDriver`).
public final class EmulatedSGReceiveDriver: SGReceiveDriver<EmulatedRegisterMapping, UIOFile, DMABufferHeap, VerifyingConsumer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}

extension EmulatedSGReceiveDriver: EmulatedDriver {}
