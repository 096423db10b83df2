import Board
import Devices
import Reactor
import Trace
import UIO

/// `mode: script`: no driver, no UIO, no buffers (so no guard); the timeline's register steps drive
/// the first AXI DMA of the board through the bus, as a bare-metal test would. A source feeds the
/// S2MM channel when the scenario's stream carries data or has a rate.
public final class ScriptWorkload: Workload {
    public let reactor: Reactor
    public let board: Board
    public let devices: DeviceSet
    public let scriptedDMA: AXIDMA?

    public init(profile: BoardProfile, seed: UInt64 = 1, configuration: WorkloadConfiguration = WorkloadConfiguration())
        throws(WorkloadError)
    {
        reactor = Reactor(clock: configuration.clock)
        board = Board(profile: profile)
        devices = DeviceSet(board: board, reactor: reactor, seed: seed)
        guard let dma = devices.axiDMAs.first else { throw WorkloadError("board \(profile.name) has no AXI DMA to script") }
        scriptedDMA = dma
        let source = configuration.source
        if let s2mm = dma.s2mm, source.pattern.carriesData || source.rateBytesPerSecond != nil {
            s2mm.attach(source)
        }
    }

    public var kernel: UIOSystem? { nil }
    public var accountedChannel: DMAChannel? { scriptedDMA?.s2mm }
    /// Transfers the board's AXI DMAs completed (both directions): what `after: N completions` waits for.
    public var completions: Int {
        devices.axiDMAs.reduce(0) { total, dma in
            total + Int(dma.s2mm?.counters.completions ?? 0) + Int(dma.mm2s?.counters.completions ?? 0)
        }
    }

    public func attach(_ tracer: Tracer) {
        board.interrupts.tracer = tracer
        for dma in devices.axiDMAs { dma.tracer = tracer }
    }

    public func start() throws(WorkloadError) {}

    public func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String? {
        "this step needs a driver (mode: receive or transmit)"
    }

    public func finish() {}

    public func measure(into m: inout Measures) {
        m.completions = completions
        for key in ["lost-irqs", "spurious-irqs", "recoveries", "errors", "violations", "mismatched-bytes", "verified-bytes",
                    "latency-p99", "driver-state", "enables-with-cause-asserted", "storms"] {
            m.unmeasured[key] = "mode: script has no driver"
        }
    }
}
