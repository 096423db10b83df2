import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// A workload whose driver object runs in this process on one UIO node of an emulated board (the
/// receive, transmit and scatter-gather receive workloads). What they share is
/// written once here: the board they read through, how the driver starts, restarts and is traced,
/// and the driver's counters in the measures.
public protocol EmulatedDriverWorkload: Workload {
    associatedtype Driver: EmulatedDriver
    var emulated: EmulatedBoard { get }
    /// The UIO node the driver opened, mapped, and the AXI DMA channel behind it.
    var mapped: EmulatedBoard.MappedChannel { get }
    /// The driver's open file of `uioDevice`.
    var file: UIOFile { get }
    var driver: Driver { get }
}

/// What a workload needs of its driver: both drivers' shells have it.
public protocol EmulatedDriver: AnyObject {
    associatedtype State
    func start() -> Result<Void, DriverSetupError>
    func stop()
    var state: State { get }
    var completions: Int { get }
    var metrics: DriverMetrics { get }
    var tracer: Tracer? { get set }
    var traceName: String { get }
}

extension EmulatedReceiveDriver: EmulatedDriver {}
extension EmulatedTransmitDriver: EmulatedDriver {}

extension EmulatedDriverWorkload {
    public var reactor: Reactor { emulated.reactor }
    public var board: Board { emulated.board }
    public var uio: UIOSystem { emulated.uio }
    public var devices: DeviceSet { emulated.devices }
    public var kernel: UIOSystem? { emulated.uio }
    /// The UIO node the driver opened.
    public var uioDevice: EmulatedUIODevice { mapped.node }
    /// The AXI DMA channel behind it (S2MM for receive, MM2S for transmit).
    public var channel: DMAChannel { mapped.channel }
    /// The AXI DMA behind the driver's node.
    public var scriptedDMA: AXIDMA? { devices.axiDMA(named: uioDevice.maps[0].region) }
    public var completions: Int { driver.completions }
    /// The tracer attached with `attach(_:)`, if any.
    public var tracer: Tracer? { driver.tracer }

    /// Records this workload's events into `tracer`: the interrupt controller, every AXI DMA (and so
    /// every channel), the driver's UIO file, the DMA heap and its buffers, and the driver. Attach
    /// before `start()` so the trace begins with the driver's first register access.
    public func attach(_ tracer: Tracer) {
        tracer.declare(.driver(driver.traceName))
        emulated.attach(tracer, file: file)
        driver.tracer = tracer
    }

    /// Allocates the ring and starts the driver.
    public func start() throws(WorkloadError) {
        if case let .failure(error) = driver.start() { throw WorkloadError("driver did not start: \(error)") }
    }

    /// The `restart-driver` step: stop, then start again on the same ring.
    func restartDriver() -> String? {
        driver.stop()
        if case let .failure(error) = driver.start() { return "driver did not restart: \(error)" }
        return nil
    }

    /// The driver's counters and final state.
    func measureDriver(into m: inout Measures) {
        let metrics = driver.metrics
        m.completions = metrics.completions
        m.lostInterrupts = metrics.lostInterrupts
        m.spuriousInterrupts = metrics.spuriousInterrupts
        m.delayInterrupts = metrics.delayInterrupts
        m.recoveries = metrics.recoveries
        m.errors = Dictionary(uniqueKeysWithValues: metrics.errors.map { ($0.key.rawValue, $0.value) })
        m.driverState = "\(driver.state)"
    }
}
