import ArgumentParser
import Driver
import RealBoard
import Scenario
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

    @Option(help: "Stop after this many completions.", transform: NonNegative.int)
    var count: Int

    @Option(name: .customLong("buffer-bytes"), help: "Bytes programmed per transfer; every buffer must be at least this big.", transform: NonNegative.int)
    var bufferBytes = 4096

    @Option(help: "The UIO map holding the AXI DMA registers.", transform: NonNegative.int)
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
        var configuration = RealBoardWorkload.Configuration(uioName: uio, bufferNames: udmabuf)
        configuration.bufferBytes = bufferBytes
        configuration.map = map
        configuration.sysfsRoot = FilePath(sysfsRoot)
        configuration.devRoot = FilePath(devRoot)
        let workload: RealBoardWorkload
        do throws(RealBoardError) {
            workload = try RealBoardWorkload(configuration)
        } catch {
            throw InputError("\(error)")
        }
        let node = workload.node, registers = workload.registers
        print("\(node.name): \(node.devicePath), map\(map) '\(registers.map.name)' at 0x\(String(registers.map.address, radix: 16)), "
            + "ring of \(udmabuf.count) × \(bufferBytes) bytes (\(udmabuf.joined(separator: ", ")))")
        workload.run(completions: count)
        print("state: \(workload.state)")
        print(DriverCommand.render(workload.metrics, bytesSeen: workload.bytesSeen, syncFailures: workload.syncFailures))
        // The same words as run, play and attach: PASS, FAIL, or INTERRUPTED with the board time.
        let verdict = Verdict(failed: workload.hasFailed || workload.metrics.completions < count, interruptedBy: workload.interruptedBy)
        if case let .interrupted(signal) = verdict {
            print(Verdict.interruptionLine(signal: signal, at: workload.reactor.now))
        } else {
            print(verdict.word)
        }
        if verdict != .pass { throw ExitCode(verdict.exitStatus) }
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
