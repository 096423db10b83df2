import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// Writes the stream pattern into transmit buffers, packet after packet, until `packetLimit`.
public final class PatternProducer: TransmitProducer {
    public typealias Buffer = DMABuffer

    private var generator: PatternGenerator
    let packetBytes: Int
    let packetLimit: Int?
    public private(set) var packets = 0
    public private(set) var bytes: UInt64 = 0
    /// A slot filled at a different DMA address than the first time (the ring must be reused).
    public private(set) var addressBySlot: [UInt64]
    public private(set) var addressChanges = 0

    init(pattern: StreamPattern, packetBytes: Int, packetLimit: Int?, ringSize: Int) {
        generator = PatternGenerator(pattern)
        self.packetBytes = packetBytes
        self.packetLimit = packetLimit
        addressBySlot = Array(repeating: 0, count: ringSize)
    }

    public func fill(slot: Int, buffer: DMABuffer) -> Int? {
        if let packetLimit, packets >= packetLimit { return nil }
        if addressBySlot[slot] == 0 { addressBySlot[slot] = buffer.dmaAddress } else if addressBySlot[slot] != buffer.dmaAddress { addressChanges += 1 }
        let length = min(packetBytes, buffer.byteCount)
        buffer.withMutableCPUBytes(count: length) { generator.fill($0) }
        packets += 1
        bytes += UInt64(length)
        return length
    }
}

/// The transmit driver on an emulated board: a producer writes the pattern into the ring, the driver
/// sends each buffer through the MM2S channel, and the stream sink checks every byte it receives
/// against the same pattern (a loopback of the data path). `mode: transmit` in a scenario.
public final class TransmitWorkload: EmulatedDriverWorkload {
    public typealias Driver = EmulatedTransmitDriver

    public let configuration: WorkloadConfiguration
    public let emulated: EmulatedBoard
    public let mapped: EmulatedBoard.MappedChannel
    public let producer: PatternProducer
    public let driver: Driver
    /// The driver's UIO file.
    public let file: UIOFile

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration()) throws(WorkloadError) {
        producer = PatternProducer(pattern: configuration.sink.pattern, packetBytes: configuration.driver.bufferBytes,
                                   packetLimit: configuration.packetLimit, ringSize: configuration.driver.ringSize)
        emulated = EmulatedBoard(profile: profile, clock: configuration.clock, seed: seed)
        mapped = try emulated.mappedChannel(node: configuration.uioNode, .mm2s)
        try EmulatedBoard.requireDirectMode(mapped)
        mapped.channel.attach(configuration.sink)
        file = mapped.node.open(nonBlocking: true)
        driver = Driver(reactor: emulated.reactor, registers: mapped.mapping, interrupts: file, buffers: emulated.uio.heap,
                        producer: producer, configuration: emulated.driverConfiguration(configuration.driver, for: mapped))
        self.configuration = configuration
    }

    /// Runs until the driver has completed `completions` transfers in all; throws when nothing can
    /// happen any more before that (the producer ran out, the driver failed).
    public func run(completions: Int) throws(WorkloadStall) {
        let driver = self.driver
        reactor.run(until: { driver.completions >= completions })
        try reactor.checkGoal(completions, reached: driver.completions, state: "\(driver.state)")
    }

    // MARK: Workload

    /// None: bytes delivered are what the sink took (`measure(into:)`).
    public var accountedChannel: DMAChannel? { nil }

    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        switch action {
        case .restartDriver: return restartDriver()
        case .setRate, .pauseSource, .resumeSource, .consumerStall, .cpuReadBuffer, .freeBuffer, .maskInterrupt, .unmaskInterrupt:
            return "this step needs mode: receive (a stream source and a consumer)"
        case .uioRead, .uioWrite: return ScriptWorkload.scriptOnly
        }
    }

    /// Shuts the board down (`EmulatedBoard.shutdown()`): the figures stay readable, and the whole
    /// run is freed with the workload. Nothing runs after it.
    public func finish() { emulated.shutdown() }

    public func measure(into m: inout Measures) {
        measureDriver(into: &m)
        let sink = channel.sinkStatistics
        m.bytesDelivered = sink.bytes
        m.mismatchedBytes = sink.mismatchedBytes
        m.verifiedBytes = sink.verifiedBytes
        m.unmeasured["latency-p99"] = "the transmit driver records no interrupt latency"
    }
}

/// The transmit driver as the emulated board instantiates it: a concrete class, so the reactor's
/// call lands in code specialised for the UIO ports (see `ReceiveDriver`).
public final class EmulatedTransmitDriver: TransmitDriver<EmulatedRegisterMapping, UIOFile, DMABufferHeap, PatternProducer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}
