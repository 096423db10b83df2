import Board
import Devices
import Reactor
import Trace
import UIO

/// What the scenario runner plays: one class per driver kind builds its board, its driver and what
/// feeds and drains it, and is played as it is by `play`, `run` and the benchmark. Today: receive,
/// transmit, scatter-gather receive, script (no driver) and attached. A new kind conforms and adds
/// one `ScenarioSpec.Mode` case: an attached driver process has no driver object and counts
/// `completions` from UIO and DMA events; the scatter-gather driver brings its own driver on the
/// same board, its AXI DMA built with scatter-gather.
///
/// The runner does every step that needs only the board (`inject`, `advance`, `stop` and the
/// register steps) and takes the measures every run has (the DMA heap's findings and the UIO
/// nodes' storms from `kernel`, bytes delivered and dropped from `accountedChannel`'s stream
/// accounting) itself, in one place (`Workload.play(_:)` and `measures(scriptFailures:)`); a kind
/// does only what is its own.
public protocol Workload: AnyObject {
    var reactor: Reactor { get }
    var board: Board { get }
    var devices: DeviceSet { get }
    /// The kernel side (UIO nodes, DMA heap and guard), whose findings and storms count against every
    /// run; nil for a run without UIO (script mode, where the register steps are the driver).
    var kernel: UIOSystem? { get }
    /// The AXI DMA that `inject` and the register steps act on.
    var scriptedDMA: AXIDMA? { get }
    /// The channel whose stream accounting gives bytes delivered and dropped; nil when the kind
    /// counts delivered bytes itself (transmit: what the sink took).
    var accountedChannel: DMAChannel? { get }
    /// Transfers completed so far: what `after: N completions` waits for.
    var completions: Int { get }

    /// Before `start`: every object of the workload that emits events records into `tracer`.
    func attach(_ tracer: Tracer)
    func start() throws(WorkloadError)
    /// A step on what only this kind has (its source, driver, consumer, buffers, another process's
    /// view of its UIO node). Returns a failure message, or nil.
    func perform(_ action: ScenarioSpec.Step.WorkloadAction) -> String?
    /// After the run, before the measures are read.
    func finish()
    /// This kind's own figures (driver counters, consumer checks), added to the shared ones.
    func measure(into m: inout Measures)
    /// The run is over before its duration (an attached program ended).
    var hasEnded: Bool { get }
    /// Failures the kind itself found (an attached program that exited non-zero), beyond the
    /// scenario's expectations.
    var problems: [String] { get }
}

extension Workload {
    public var hasEnded: Bool { false }
    public var problems: [String] { [] }
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
