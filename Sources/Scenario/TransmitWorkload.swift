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
/// against the same pattern (a loopback of the data path).
public final class TransmitWorkload {
    public struct Configuration: Sendable {
        public var ringSize = 8
        public var bufferBytes = 4096
        public var pattern: StreamPattern = .counter
        /// Nil: the sink takes data as fast as the bus delivers it.
        public var sinkRateBytesPerSecond: UInt64? = nil
        public var packetLimit: Int? = nil
        public var watchdog: TimeSpan? = nil
        public var maxRetries = 3
        public var uioNode = "axi-dma-mm2s"
        public init() {}
    }

    public typealias Driver = EmulatedTransmitDriver

    let emulated: EmulatedBoard
    public var reactor: Reactor { emulated.reactor }
    public var board: Board { emulated.board }
    public var uio: UIOSystem { emulated.uio }
    public var devices: DeviceSet { emulated.devices }
    public let channel: DMAChannel
    public let producer: PatternProducer
    public let driver: Driver
    /// The driver's UIO file.
    public let file: UIOFile

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: Configuration = Configuration()) throws(WorkloadError) {
        emulated = EmulatedBoard(profile: profile, clock: .virtual, seed: seed)
        let mapped = try emulated.mappedChannel(node: configuration.uioNode, .mm2s)
        let (node, mapping, mm2s) = (mapped.node, mapped.mapping, mapped.channel)
        channel = mm2s
        mm2s.attach(StreamSink(pattern: configuration.pattern, rateBytesPerSecond: configuration.sinkRateBytesPerSecond))
        producer = PatternProducer(pattern: configuration.pattern, packetBytes: configuration.bufferBytes,
                                   packetLimit: configuration.packetLimit, ringSize: configuration.ringSize)
        file = node.open(nonBlocking: true)
        driver = Driver(reactor: emulated.reactor, registers: mapping, interrupts: file, buffers: emulated.uio.heap,
                        producer: producer,
                        configuration: DriverConfiguration(ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes,
                                                           maxRetries: configuration.maxRetries, watchdog: configuration.watchdog))
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
}

/// The transmit driver as the emulated board instantiates it: a concrete class, so the reactor's
/// call lands in code specialised for the UIO ports (see `ReceiveDriver`).
public final class EmulatedTransmitDriver: TransmitDriver<UIOMapping, UIOFile, DMABufferHeap, PatternProducer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}
