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
/// reacts through its UIO mapping and file; a consumer verifies every byte.
public final class ReceiveWorkload {
    public struct Configuration: Sendable {
        public var ringSize = 8
        public var bufferBytes = 4096
        public var pattern: StreamPattern = .counter
        public var packetSize: PacketSize = .fixed(4096)
        /// Nil: unlimited (a packet is ready whenever a transfer is armed).
        public var rateBytesPerSecond: UInt64? = nil
        public var backPressure = false
        /// Slow consumer: each buffer is held this long, up to `consumerHold` at a time.
        public var consumerProcessing: TimeSpan = .zero
        public var consumerHold = 0
        public var watchdog: TimeSpan? = nil
        public var maxRetries = 3
        public var backoff: TimeSpan = .microseconds(10)
        /// The UIO node of the S2MM channel.
        public var uioNode = "axi-dma-s2mm"
        /// Makes the driver enable the interrupt before clearing its cause: a planted bug, to check
        /// that the emulation catches it (as a level-interrupt storm).
        public var enableBeforeClearForTesting = false

        public init() {}
    }

    public typealias Driver = EmulatedReceiveDriver

    public let configuration: Configuration
    let emulated: EmulatedBoard
    public var reactor: Reactor { emulated.reactor }
    public var board: Board { emulated.board }
    public var uio: UIOSystem { emulated.uio }
    public var devices: DeviceSet { emulated.devices }
    public let channel: DMAChannel
    public let uioDevice: UIODevice
    public let file: UIOFile
    public let consumer: VerifyingConsumer
    public let driver: Driver

    public init(profile: BoardProfile, clock: Reactor.Clock = .virtual, seed: UInt64 = 1,
                configuration: Configuration = Configuration()) throws(WorkloadError) {
        self.configuration = configuration
        emulated = EmulatedBoard(profile: profile, clock: clock, seed: seed)
        let mapped = try emulated.mappedChannel(node: configuration.uioNode, .s2mm)
        let (node, mapping, s2mm) = (mapped.node, mapped.mapping, mapped.channel)
        uioDevice = node
        channel = s2mm
        s2mm.attach(StreamSource(pattern: configuration.pattern, packetSize: configuration.packetSize,
                                 rateBytesPerSecond: configuration.rateBytesPerSecond, backPressure: configuration.backPressure))
        file = node.open(nonBlocking: true)
        consumer = VerifyingConsumer(channel: s2mm, pattern: configuration.pattern, bufferBytes: configuration.bufferBytes,
                                     ringSize: configuration.ringSize, reactor: emulated.reactor,
                                     processing: configuration.consumerProcessing, hold: configuration.consumerHold)
        var driverConfiguration = ReceiveDriverConfiguration(
            ringSize: configuration.ringSize, bufferBytes: configuration.bufferBytes, maxRetries: configuration.maxRetries,
            backoff: configuration.backoff, watchdog: configuration.watchdog)
        driverConfiguration.enableBeforeClearForTesting = configuration.enableBeforeClearForTesting
        driver = Driver(reactor: emulated.reactor, registers: mapping, interrupts: file, buffers: emulated.uio.heap, consumer: consumer,
                        configuration: driverConfiguration)
        consumer.release = { [unowned driver] slot in driver.release(slot: slot) }
    }

    /// The tracer attached with `attach(_:)`, if any.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var tracer: Tracer?

    /// Records this workload's events into `tracer`: the interrupt controller, every AXI DMA (and so
    /// every channel), the UIO file, the DMA heap and its buffers, and the driver. Attach before
    /// `start()` so the trace begins with the driver's first register access.
    public func attach(_ tracer: Tracer) {
        self.tracer = tracer
        tracer.declare(.driver(driver.traceName))
        emulated.attach(tracer, file: file)
        driver.tracer = tracer
    }

    /// Allocates the ring and starts the driver.
    public func start() throws(WorkloadError) {
        if case let .failure(error) = driver.start() { throw WorkloadError("driver did not start: \(error)") }
    }

    /// Runs for `duration` of board time (virtual or real).
    public func run(for duration: TimeSpan) {
        reactor.run(until: reactor.now + duration)
    }

    /// Runs until the driver has completed `completions` transfers (or nothing can happen any more).
    public func run(completions: Int) {
        let driver = self.driver
        reactor.run(until: { driver.completions >= completions })
    }

    public var report: WorkloadReport { WorkloadReport(self) }
}

public struct WorkloadError: Error, CustomStringConvertible {
    public let message: String
    /// Bad usage or input (exit 2: a command that does not exist), not a failed run.
    public let isInputError: Bool
    public init(_ message: String, isInputError: Bool = false) {
        self.message = message
        self.isInputError = isInputError
    }
    public var description: String { message }
}

/// The receive driver as the emulated board instantiates it: a concrete class, so the reactor's
/// call lands in code specialised for the UIO ports (see `ReceiveDriver`).
public final class EmulatedReceiveDriver: ReceiveDriver<UIOMapping, UIOFile, DMABufferHeap, VerifyingConsumer> {
    override public func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}
