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
public final class TransmitWorkload: Workload {
    public typealias Driver = EmulatedTransmitDriver

    public let configuration: WorkloadConfiguration
    let emulated: EmulatedBoard
    public var reactor: Reactor { emulated.reactor }
    public var board: Board { emulated.board }
    public var uio: UIOSystem { emulated.uio }
    public var devices: DeviceSet { emulated.devices }
    public let channel: DMAChannel
    public let uioDevice: UIODevice
    public let producer: PatternProducer
    public let driver: Driver
    /// The driver's UIO file.
    public let file: UIOFile

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration())
        throws(WorkloadError)
    {
        self.configuration = configuration
        emulated = EmulatedBoard(profile: profile, clock: configuration.clock, seed: seed)
        let mapped = try emulated.mappedChannel(node: configuration.uioNode ?? "axi-dma-mm2s", .mm2s)
        let (node, mapping, mm2s) = (mapped.node, mapped.mapping, mapped.channel)
        uioDevice = node
        channel = mm2s
        mm2s.attach(configuration.sink)
        producer = PatternProducer(pattern: configuration.sink.pattern, packetBytes: configuration.driver.bufferBytes,
                                   packetLimit: configuration.packetLimit, ringSize: configuration.driver.ringSize)
        file = node.open(nonBlocking: true)
        driver = Driver(reactor: emulated.reactor, registers: mapping, interrupts: file, buffers: emulated.uio.heap,
                        producer: producer, configuration: configuration.driver)
    }

    /// The tracer attached with `attach(_:)`, if any.
    public private(set) var tracer: Tracer?

    /// Records this workload's events into `tracer` (as `ReceiveWorkload.attach(_:)`); attach
    /// before `start()`.
    public func attach(_ tracer: Tracer) {
        self.tracer = tracer
        tracer.declare(.driver(driver.traceName))
        emulated.attach(tracer, file: file)
        driver.tracer = tracer
    }

    public func start() throws(WorkloadError) {
        if case let .failure(error) = driver.start() { throw WorkloadError("driver did not start: \(error)") }
    }

    public func run(completions: Int) {
        let driver = self.driver
        reactor.run(until: { driver.completions >= completions })
    }

    // MARK: Workload

    public var kernel: UIOSystem? { uio }
    public var scriptedDMA: AXIDMA? { devices.axiDMA(named: uioDevice.maps[0].region) }
    /// None: bytes delivered are what the sink took (`measure(into:)`).
    public var accountedChannel: DMAChannel? { nil }
    public var completions: Int { driver.completions }

    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        switch action {
        case .restartDriver:
            driver.stop()
            if case let .failure(error) = driver.start() { return "driver did not restart: \(error)" }
            return nil
        case .setRate, .pauseSource, .resumeSource, .consumerStall, .cpuReadBuffer, .freeBuffer, .maskInterrupt, .unmaskInterrupt:
            return "this step needs mode: receive (a stream source and a consumer)"
        }
    }

    public func finish() {}

    public func measure(into m: inout Measures) {
        let metrics = driver.metrics
        let sink = channel.sinkStatistics
        m.completions = metrics.completions
        m.bytesDelivered = sink.bytes
        m.lostInterrupts = metrics.lostInterrupts
        m.spuriousInterrupts = metrics.spuriousInterrupts
        m.recoveries = metrics.recoveries
        m.errors = Dictionary(uniqueKeysWithValues: metrics.errors.map { ($0.key.rawValue, $0.value) })
        m.mismatchedBytes = sink.mismatchedBytes
        m.verifiedBytes = sink.verifiedBytes
        m.driverState = "\(driver.state)"
    }
}

/// The transmit driver as the emulated board instantiates it: a concrete class, so the reactor's
/// call lands in code specialised for the UIO ports (see `ReceiveDriver`).
public final class EmulatedTransmitDriver: TransmitDriver<UIOMapping, UIOFile, DMABufferHeap, PatternProducer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}
