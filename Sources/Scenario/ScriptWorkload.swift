import Board
import Devices
import Reactor
import SystemPackage
import Trace
import UIO

/// `mode: script`: no driver and no buffers (so no guard: the steps program raw addresses); the
/// timeline's steps drive the first AXI DMA of the board through the bus, as a bare-metal test
/// would. A source feeds the S2MM channel when the scenario's stream carries data or has a rate.
///
/// A script with `uio-read` / `uio-write` steps also has the kernel side: the board's UIO nodes as
/// `uio_pdrv_genirq` makes them (the handler disables the line on every interrupt and counts it),
/// and the steps act on the node the scenario's `driver: { uio: NAME }` names, else the first node
/// that reports an interrupt of the scripted AXI DMA. Its files are numbered by the steps (`file:`,
/// default 0); a file is opened at the first step that names it, as a process would open
/// `/dev/uioN` then, so its first read waits for the next interrupt. Without such steps the board
/// is bare metal: nothing takes the interrupts.
public final class ScriptWorkload: Workload {
    public let reactor: Reactor
    public let board: Board
    public let devices: DeviceSet
    public let scriptedDMA: AXIDMA?
    /// The kernel side, when the script has UIO steps.
    public let uio: UIOSystem?
    /// The UIO node the steps act on.
    public let node: EmulatedUIODevice?
    private var files: [Int: UIOFile] = [:]
    private var tracer: Tracer?

    static let scriptOnly = "uio-read and uio-write act on a UIO node's files in mode: script"

    /// `withUIO`: the script has UIO steps (`ScenarioSpec.usesUIO`).
    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration(),
                withUIO: Bool = false) throws(WorkloadError)
    {
        reactor = Reactor(clock: configuration.clock)
        board = Board(profile: profile)
        uio = withUIO ? UIOSystem(board: board, reactor: reactor) : nil
        devices = DeviceSet(board: board, reactor: reactor, seed: seed)
        guard let dma = devices.axiDMAs.first else { throw WorkloadError("board \(profile.name) has no AXI DMA to script") }
        scriptedDMA = dma
        if let uio {
            let lines = [dma.mm2s, dma.s2mm].compactMap { $0?.route.line }
            let chosen = configuration.uioNode.map { name in uio.devices.first { $0.name == name } }
                ?? uio.devices.first { node in node.interruptLine.map(lines.contains) ?? false }
            guard let chosen else {
                throw WorkloadError(configuration.uioNode.map { "board \(profile.name) has no UIO node named \($0)" }
                    ?? "board \(profile.name) has no UIO node reporting an interrupt of \(dma.name)")
            }
            node = chosen
        } else {
            node = nil
        }
        let source = configuration.source
        if let s2mm = dma.s2mm, source.pattern.carriesData || source.rateBytesPerSecond != nil {
            s2mm.attach(source)
        }
    }

    public var kernel: UIOSystem? { uio }
    public var accountedChannel: DMAChannel? { scriptedDMA?.s2mm }
    /// Transfers the board's AXI DMAs completed (both directions): what `after: N completions` waits for.
    public var completions: Int {
        devices.axiDMAs.reduce(0) { total, dma in
            total + Int(dma.s2mm?.counters.completions ?? 0) + Int(dma.mm2s?.counters.completions ?? 0)
        }
    }

    public func attach(_ tracer: Tracer) {
        self.tracer = tracer
        board.attach(tracer)
        for dma in devices.axiDMAs { dma.tracer = tracer }
        for node in uio?.devices ?? [] { node.tracer = tracer }
        uio?.heap.tracer = tracer
    }

    public func start() throws(WorkloadError) {}

    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        switch action {
        case let .uioRead(step): return read(step)
        case let .uioWrite(step): return write(step)
        default: return "this step needs a driver (mode: receive or transmit)"
        }
    }

    /// Frees the run: the board's objects hold each other and the reactor holds their timers'
    /// targets, cycles that only the shutdown breaks (the figures stay readable).
    public func finish() {
        files.removeAll()
        uio?.shutdown()
        reactor.shutdown()
    }

    public func measure(into m: inout Measures) {
        m.completions = completions
        // With UIO steps the kernel side exists: its storms, enables and the heap's findings count.
        let measuredWithUIO: Set<String> = node != nil ? ["violations", "enables-with-cause-asserted", "storms"] : []
        for key in ["lost-irqs", "spurious-irqs", "recoveries", "errors", "violations", "mismatched-bytes", "verified-bytes",
                    "latency-p99", "driver-state", "enables-with-cause-asserted", "storms", "delay-irqs"] where !measuredWithUIO.contains(key) {
            m.unmeasured[key] = "mode: script has no driver"
        }
    }

    // MARK: UIO steps

    /// File `number` of the node, opened (blocking) at its first use.
    private func file(_ number: Int) -> UIOFile? {
        guard let node else { return nil }
        if let file = files[number] { return file }
        let file = node.open(nonBlocking: false)
        file.tracer = tracer
        files[number] = file
        return file
    }

    /// `read(fd, buf, bytes)`; O_NONBLOCK for this read answers EAGAIN when nothing new is there (as
    /// `poll` would say), else a blocking read lets board time pass until the next interrupt.
    private func read(_ step: ScenarioSpec.UIORead) -> String? {
        guard let file = file(step.file) else { return Self.scriptOnly }
        var outcome: Result<Int32, Errno>
        if step.nonBlocking, case .success(false) = file.poll() {
            outcome = .failure(.resourceTemporarilyUnavailable)
        } else {
            outcome = file.readEventCount(bufferSize: step.bytes)
        }
        if case .failure(.deadlock) = outcome, step.expected != .error(.deadlock) {
            return "uio-read file \(step.file): no interrupt came before the run ended (\(reactor.now)): the read would block for ever"
        }
        let found: ScenarioSpec.UIOOutcome = switch outcome {
        case let .success(count): .count(count)
        case let .failure(errno): .error(errno)
        }
        guard let expected = step.expected else {
            if case .error = found { return "uio-read file \(step.file): failed with \(found)" }
            return nil
        }
        return found == expected ? nil : "uio-read file \(step.file): expected \(expected), found \(found)"
    }

    /// `write(fd, &value, bytes)`: 1 enables the interrupt, 0 disables it; `repeat:` times in a row
    /// (the first that does not answer as expected ends it).
    private func write(_ step: ScenarioSpec.UIOWrite) -> String? {
        guard let file = file(step.file) else { return Self.scriptOnly }
        for _ in 0..<step.times {  // bounded: at most 100000 (the parser's limit)
            if let failure = write(step, to: file) { return failure }
        }
        return nil
    }

    private func write(_ step: ScenarioSpec.UIOWrite, to file: UIOFile) -> String? {
        var value = board.profile.cpu.endianness == .big ? step.value.bigEndian : step.value.littleEndian
        let result = withUnsafeBytes(of: &value) { raw in
            let bytes = [UInt8](raw) + [UInt8](repeating: 0, count: max(0, step.bytes - 4))
            return bytes.withUnsafeBytes { file.write(UnsafeRawBufferPointer(rebasing: $0[0..<step.bytes])) }
        }
        switch (result, step.expectedError) {
        case (.success, nil): return nil
        case let (.failure(errno), expected?) where errno == expected: return nil
        case let (.failure(errno), _):
            return "uio-write file \(step.file): expected \(step.expectedError.map(ScenarioSpec.UIOOutcome.error) ?? .count(4)), found \(ScenarioSpec.UIOOutcome.error(errno))"
        case let (.success, expected?):
            return "uio-write file \(step.file): expected \(ScenarioSpec.UIOOutcome.error(expected)), found success"
        }
    }
}

extension ScenarioSpec {
    /// The timeline has steps on a UIO node's files (script mode then builds the kernel side).
    public var usesUIO: Bool {
        timeline.contains { step in
            switch step.action {
            case .workload(.uioRead), .workload(.uioWrite): true
            default: false
            }
        }
    }
}
