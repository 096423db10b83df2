import Driver
import LinuxUIO
import Reactor
import SystemPackage

/// The receive driver on a real board (`uioemu driver`): the UIO node found by name under the sysfs
/// root, its register map mapped, the node's fd as the interrupt source, named u-dma-buf buffers as
/// the ring (one buffer per name), and a consumer that counts each buffer's bytes and gives it
/// straight back. The same `ReceiveDriver` the emulated workloads run, on LinuxUIO's ports.
///
/// A target of its own above `Driver` and `LinuxUIO`, not inside `LinuxUIO`: the backend provides
/// ports and needs only their protocols, while this puts a whole driver (state machines,
/// histogram) on them; kept apart, `LinuxUIO` stays a backend any driver can use.
public final class RealBoardWorkload {
    public struct Configuration: Sendable {
        /// The UIO device's name (`/sys/class/uio/uioX/name`).
        public var uioName: String
        /// The ring's u-dma-buf buffers, in ring order.
        public var bufferNames: [String]
        /// Bytes programmed per transfer; every buffer must be at least this big.
        public var bufferBytes = 4096
        /// The UIO map holding the AXI DMA registers.
        public var map = 0
        public var sysfsRoot: FilePath = "/sys"
        public var devRoot: FilePath = "/dev"

        public init(uioName: String, bufferNames: [String]) {
            self.uioName = uioName
            self.bufferNames = bufferNames
        }
    }

    public let configuration: Configuration
    public let reactor: Reactor
    public let node: LinuxUIODevice
    public let registers: LinuxRegisterMapping
    public let buffers: UDMABufferProvider
    let consumer: CountingConsumer
    let driver: BoardReceiveDriver

    /// Finds and opens the node, maps its registers and starts the driver on the named buffers, in
    /// real time; the error says which file or step failed.
    public init(_ configuration: Configuration) throws(RealBoardError) {
        self.configuration = configuration
        let interrupts: UIOInterruptSource
        do throws(LinuxUIOError) {
            node = try UIODeviceLocator(sysfsRoot: configuration.sysfsRoot, devRoot: configuration.devRoot).locate(name: configuration.uioName)
            registers = try node.mapRegisters(map: configuration.map)
            interrupts = try node.openInterrupts()
        } catch {
            throw RealBoardError("\(error)")
        }
        buffers = UDMABufferProvider(names: configuration.bufferNames, sysfsRoot: configuration.sysfsRoot,
                                     devRoot: configuration.devRoot, direction: .fromDevice)
        reactor = Reactor(clock: .realTime)
        consumer = CountingConsumer()
        driver = BoardReceiveDriver(reactor: reactor, registers: registers, interrupts: interrupts, buffers: buffers, consumer: consumer,
                                    configuration: DriverConfiguration(ringSize: configuration.bufferNames.count,
                                                                       bufferBytes: configuration.bufferBytes))
        if case let .failure(error) = driver.start() { throw RealBoardError("driver start: \(error)") }
    }

    /// Runs until `completions` transfers completed, the driver failed, or SIGINT/SIGTERM; then
    /// halts the engine.
    public func run(completions: Int) {
        reactor.handleStopSignals()
        let driver = self.driver
        reactor.run(until: {
            if case .failed = driver.state { return true }
            return driver.completions >= completions
        })
        endState = driver.state
        driver.stop()
    }

    /// The driver's state when the run ended (before the engine was halted: a driver that failed
    /// says so, not `stopped`).
    private var endState: ReceiveStateMachine.State? = nil
    public var state: ReceiveStateMachine.State { endState ?? driver.state }
    public var hasFailed: Bool {
        if case .failed = state { return true }
        return false
    }
    public var metrics: DriverMetrics { driver.metrics }
    public var stoppedBySignal: Bool { reactor.stoppedBySignal != nil }
    /// The stop signal (SIGINT, SIGTERM) that ended the run, if one did.
    public var interruptedBy: Int32? { reactor.interruptedBy }
    /// Bytes the consumer read out of the buffers.
    public var bytesSeen: Int { consumer.bytes }
    /// sync_for_cpu / sync_for_device writes that failed, over the ring.
    public var syncFailures: Int { buffers.buffers.reduce(0) { $0 + $1.syncFailures } }
}

/// A device or buffer that cannot be set up; the message names the file or the step.
public struct RealBoardError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The receive driver on a real board: a concrete class, so the reactor's call lands in code
/// specialised for the LinuxUIO ports (see `ReceiveDriver`).
final class BoardReceiveDriver: ReceiveDriver<LinuxRegisterMapping, UIOInterruptSource, UDMABufferProvider, CountingConsumer> {
    override func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}

/// Takes each buffer, counts its bytes and gives it straight back.
final class CountingConsumer: ReceiveConsumer {
    var bytes = 0

    func receive(slot: Int, buffer: UDMABuffer, length: Int, transfer: UInt64) -> ConsumerDecision {
        bytes += buffer.withCPUBytes(count: length) { $0.count }
        return .release
    }
}
