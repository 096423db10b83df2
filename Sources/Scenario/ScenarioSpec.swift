import Board
import Devices
import Reactor

/// A scenario file, parsed (`ScenarioParser`): what to run, what to do along the way, and what must
/// be true at the end. The timeline is a script run in file order: each step waits for its trigger
/// (a time, or a completion count), then acts. That keeps a scenario deterministic and readable:
/// what is written first happens first.
public struct ScenarioSpec: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The receive driver on the S2MM channel, fed by a stream source.
        case receive
        /// The transmit driver on the MM2S channel, into a checking stream sink.
        case transmit
        /// No driver: the timeline's register steps drive the device directly (conformance runs).
        case script
        /// The user's own driver program (`driver: { command: [...] }`), attached to the board.
        case attached
        /// The scatter-gather receive driver on the S2MM channel (the AXI DMA built with
        /// scatter-gather), fed by a stream source.
        case sgReceive = "sg-receive"
    }

    public var name: String
    public var file: String
    public var description: String
    /// A shipped board's name or a profile path (relative to the scenario file, or as given).
    public var board: String
    public var boardLocation: SourceLocation
    public var seed: UInt64
    /// How long the run lasts at most (board time); `stop` ends it earlier.
    public var duration: TimeSpan
    public var durationLocation: SourceLocation? = nil
    public var mode: Mode
    /// The time mode, UIO node, driver, stream and consumer, in the types that take them (the
    /// `time:`, `driver:` and `stream:` sections).
    public var workload: WorkloadConfiguration
    public var timeline: [Step]
    public var expectations: [Expectation]

    public struct Step: Sendable {
        public enum Trigger: Sendable, Equatable {
            /// Right after the previous step.
            case next
            /// At this board time (from the start of the run).
            case at(TimeSpan)
            /// Once the driver has completed this many transfers in all.
            case afterCompletions(Int)
        }

        /// What a step does: the board's own steps (any mode), or one on what a workload kind owns.
        public enum Action: Sendable {
            case inject(AXIDMAFault, channel: DMADirection)
            case stop
            // Register script steps (driver-less conformance runs, or beside a driver).
            case write(register: RegisterTarget, value: UInt32)
            case read(register: RegisterTarget, expect: UInt32, mask: UInt32)
            /// Wait until the channel's interrupt line is pending, at most `within`.
            case waitIRQ(channel: DMADirection, within: TimeSpan)
            /// The channel's interrupt line is at this electrical level now (the controller's input).
            case expectLine(channel: DMADirection, high: Bool)
            /// RAM holds what DMA should have written.
            case readMemory(MemoryCheck)
            case advance(TimeSpan)
            case workload(WorkloadAction)

            /// The script's checks (write, read, wait-irq, expect-line, read-memory, uio-read,
            /// uio-write): a failed one counts in `script-failures`.
            var isRegisterStep: Bool {
                switch self {
                case .write, .read, .waitIRQ, .expectLine, .readMemory, .workload(.uioRead), .workload(.uioWrite): true
                case .inject, .stop, .advance, .workload: false
                }
            }
        }

        /// A step on what a workload kind owns: its source, driver, consumer and buffers.
        public enum WorkloadAction: Sendable {
            case setRate(UInt64?)
            case pauseSource
            case resumeSource
            case restartDriver
            /// The consumer stops returning buffers for this long.
            case consumerStall(TimeSpan)
            /// The CPU reads 64 bytes of a ring buffer without sync-for-cpu (a planted ownership
            /// bug); nil: the buffer armed with the device right now.
            case cpuReadBuffer(slot: Int?)
            /// Frees a ring buffer behind the driver's back: its address goes stale (use after free).
            case freeBuffer(slot: Int)
            /// Another process writes 0 / 1 to the UIO file (disables / enables the interrupt).
            case maskInterrupt
            case unmaskInterrupt
            /// Script mode: a read or a write of one of the UIO node's open files.
            case uioRead(UIORead)
            case uioWrite(UIOWrite)
        }

        public var trigger: Trigger
        public var action: Action
        public var location: SourceLocation
        /// Where the step's action is written (its value), for errors about what it acts on.
        public var actionLocation: SourceLocation? = nil
        /// `optional: true`: the run may end before this step's trigger comes, and an injected
        /// fault may never take effect, without failing the scenario.
        public var optional = false

        public init(trigger: Trigger, action: Action, location: SourceLocation, optional: Bool = false) {
            self.trigger = trigger
            self.action = action
            self.location = location
            self.optional = optional
        }
    }

    public struct Expectation: Sendable {
        public var metric: Metric
        public var comparison: Comparison
        public var location: SourceLocation
    }

    public indirect enum Metric: Sendable, Hashable, CustomStringConvertible {
        case completions
        case bytesDelivered
        case bytesDropped(DropReason?)
        case lostInterrupts
        case spuriousInterrupts
        /// Interrupts the driver handled with Dly_Irq set.
        case delayInterrupts
        case recoveries
        case errors(DriverErrorName?)
        case violations(String?)
        case mismatchedBytes
        case verifiedBytes
        case storms
        case latencyP99Nanoseconds
        case scriptFailures
        case driverState
        case traceHash
        /// The protocol checker's findings: all of them, or one rule's (`findings: { LEN-HALTED: 0 }`).
        case findings(String?)
        case enablesWithCauseAsserted
        /// Counted from the moment the timeline's last step ran (from the start without steps):
        /// `completions`, `bytes-delivered` or `verified-bytes` (what a run did after its fault).
        case afterLastStep(Metric)

        public var description: String {
            switch self {
            case .completions: "completions"
            case .bytesDelivered: "bytes-delivered"
            case .bytesDropped(nil): "bytes-dropped"
            case let .bytesDropped(reason?): "bytes-dropped.\(reason)"
            case .lostInterrupts: "lost-irqs"
            case .spuriousInterrupts: "spurious-irqs"
            case .delayInterrupts: "delay-irqs"
            case .recoveries: "recoveries"
            case .errors(nil): "errors"
            case let .errors(kind?): "errors.\(kind.rawValue)"
            case .violations(nil): "violations"
            case let .violations(kind?): "violations.\(kind)"
            case .mismatchedBytes: "mismatched-bytes"
            case .verifiedBytes: "verified-bytes"
            case .storms: "storms"
            case .latencyP99Nanoseconds: "latency-p99"
            case .scriptFailures: "script-failures"
            case .driverState: "driver-state"
            case .traceHash: "trace-hash"
            case .findings(nil): "findings"
            case let .findings(rule?): "findings.\(rule)"
            case .enablesWithCauseAsserted: "enables-with-cause-asserted"
            case let .afterLastStep(metric): "after-last-step.\(metric)"
            }
        }

        /// The expectation key the metric is written under (`errors` for `errors.DMASlvErr`).
        public var key: String { String(description.prefix { $0 != "." }) }
    }

    /// Driver error names as scenarios write them (the DMASR bit names, `timeout`, `bad-length`).
    public enum DriverErrorName: String, Sendable, CaseIterable {
        case DMAIntErr, DMASlvErr, DMADecErr, SGIntErr, SGSlvErr, SGDecErr, timeout
        case badLength = "bad-length"
    }

    public enum Comparison: Sendable, Equatable, CustomStringConvertible {
        case number(Operator, Int64)
        case text(String)

        public enum Operator: String, Sendable, CaseIterable {
            case equal = "=="
            case notEqual = "!="
            case atLeast = ">="
            case atMost = "<="
            case greater = ">"
            case less = "<"
        }

        public var description: String {
            switch self {
            case let .number(op, value): "\(op.rawValue) \(value)"
            case let .text(text): "== \(text)"
            }
        }

        public func holds(for actual: Int64) -> Bool {
            guard case let .number(op, expected) = self else { return false }
            switch op {
            case .equal: return actual == expected
            case .notEqual: return actual != expected
            case .atLeast: return actual >= expected
            case .atMost: return actual <= expected
            case .greater: return actual > expected
            case .less: return actual < expected
            }
        }
    }
}
