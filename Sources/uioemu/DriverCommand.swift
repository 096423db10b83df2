import ArgumentParser
import Driver
import LinuxUIO
import Reactor
import SystemPackage

/// `uioemu driver --uio NAME --udmabuf NAME ... --count N`: the receive driver on a real board.
/// Finds the UIO node by name under the sysfs root, maps its registers (map 0), uses the node's fd
/// as the interrupt source and the named u-dma-buf buffers as the ring (one buffer per name), runs
/// until N completions, the driver fails, or SIGINT/SIGTERM, then prints the driver's metrics.
/// Exit 1 if the driver ended in `failed`; 2 if the device or buffers cannot be found or opened (the
/// message names the file, without the usage text a mistyped option gets).
struct DriverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "Run the receive (S2MM) driver on a real board against /dev/uioN and u-dma-buf.")

    @Option(help: "The UIO device's name (/sys/class/uio/uioX/name), such as axi-dma-s2mm.")
    var uio: String

    @Option(help: "A u-dma-buf buffer for the ring (repeat it: one buffer per option, in ring order).")
    var udmabuf: [String] = []

    @Option(help: "Stop after this many completions.")
    var count: Int

    @Option(name: .customLong("buffer-bytes"), help: "Bytes programmed per transfer; every buffer must be at least this big.")
    var bufferBytes = 4096

    @Option(help: "The UIO map holding the AXI DMA registers.")
    var map = 0

    @Option(name: .customLong("sysfs-root"), help: "Where sysfs is mounted.")
    var sysfsRoot = "/sys"

    @Option(name: .customLong("dev-root"), help: "Where the device nodes are.")
    var devRoot = "/dev"

    func validate() throws {
        guard !udmabuf.isEmpty else { throw ValidationError("--udmabuf: expected at least one u-dma-buf buffer name, found none") }
        guard count > 0 else { throw ValidationError("--count: expected a positive count, found \(count)") }
        guard bufferBytes > 0 else { throw ValidationError("--buffer-bytes: expected a positive size, found \(bufferBytes)") }
        guard map >= 0 else { throw ValidationError("--map: expected a map index 0 or more, found \(map)") }
    }

    func run() throws {
        let node: UIODeviceNode
        let registers: UIORegisterMapping
        let interrupts: UIOInterruptSource
        do throws(LinuxUIOError) {
            node = try UIODeviceLocator(sysfsRoot: FilePath(sysfsRoot), devRoot: FilePath(devRoot)).locate(name: uio)
            registers = try node.mapRegisters(map: map)
            interrupts = try node.openInterrupts()
        } catch {
            throw SetupFailure(message: "\(error)")
        }
        let buffers = UDMABufferProvider(names: udmabuf, sysfsRoot: FilePath(sysfsRoot), devRoot: FilePath(devRoot),
                                         direction: .fromDevice)
        let reactor = Reactor(clock: .realTime)
        let consumer = CountingConsumer()
        let driver = BoardReceiveDriver(reactor: reactor, registers: registers, interrupts: interrupts, buffers: buffers,
                                   consumer: consumer,
                                   configuration: DriverConfiguration(ringSize: udmabuf.count, bufferBytes: bufferBytes))
        if case let .failure(error) = driver.start() { throw SetupFailure(message: "driver start: \(error)") }
        print("\(node.name): \(node.devicePath), map\(map) '\(registers.map.name)' at 0x\(String(registers.map.address, radix: 16)), "
            + "ring of \(udmabuf.count) × \(bufferBytes) bytes (\(udmabuf.joined(separator: ", ")))")
        reactor.handleStopSignals()
        reactor.run(until: {
            if case .failed = driver.state { return true }
            return driver.completions >= count
        })
        driver.stop()
        if reactor.stoppedBySignal != nil { print("stopped by signal") }
        print("state: \(driver.state)")
        print(DriverCommand.render(driver.metrics, bytesSeen: consumer.bytes,
                                   syncFailures: buffers.buffers.reduce(0) { $0 + $1.syncFailures }))
        if case .failed = driver.state { throw ExitCode.failure }
    }

    static func render(_ m: DriverMetrics, bytesSeen: Int, syncFailures: Int) -> String {
        var lines = [
            "completions        \(m.completions)",
            "bytes              \(m.bytes) (consumer saw \(bytesSeen))",
            "lost interrupts    \(m.lostInterrupts)",
            "spurious           \(m.spuriousInterrupts)",
            "recoveries         \(m.recoveries)",
            "ring-full stalls   \(m.ringFullStalls)",
            "register faults    \(m.registerFaults)",
            "interrupt errors   \(m.interruptSourceErrors)",
            "sync failures      \(syncFailures)",
        ]
        let errors = DriverError.allCases.filter { m.count($0) > 0 }.map { "\($0.rawValue) \(m.count($0))" }
        lines.append("errors             \(errors.isEmpty ? "none" : errors.joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}

/// A device or buffer that cannot be set up: printed as is by `UIOEmu.main` (exit 2).
private struct SetupFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Takes each buffer, counts its bytes and gives it straight back.
/// The receive driver on a real board: a concrete class, so the reactor's call lands in code
/// specialised for the LinuxUIO ports (see `ReceiveDriver`).
private final class BoardReceiveDriver: ReceiveDriver<UIORegisterMapping, UIOInterruptSource, UDMABufferProvider, CountingConsumer> {
    override func reactorEvent(_ tag: UInt64) { handleEvent(tag) }
}

private final class CountingConsumer: ReceiveConsumer {
    var bytes = 0

    func receive(slot: Int, buffer: UDMABuffer, length: Int, transfer: UInt64) -> ConsumerDecision {
        bytes += buffer.withCPUBytes(count: length) { $0.count }
        return .release
    }
}
