import Devices
import Driver
import Reactor

/// How a workload runs, in the configuration types of the objects it configures: the driver's own
/// `DriverConfiguration`, the stream endpoints `StreamSource` and `StreamSink` as the device models
/// take them, and the consumer's pace. A scenario file parses into this value and a command line
/// builds one; the workload hands each part to its object unchanged, so a setting cannot be lost
/// on the way (as `time:` once was for transmit scenarios, copied field by field).
public struct WorkloadConfiguration: Sendable {
    /// Virtual time or the wall clock.
    public var clock: Reactor.Clock = .virtual
    /// The UIO node the driver opens; nil: the board's first node on an interrupt of the kind's
    /// channel (S2MM for receive, MM2S for transmit).
    public var uioNode: String? = nil
    public var driver = DriverConfiguration()
    /// What feeds the S2MM channel (receive; in script mode only when it carries data or has a rate).
    public var source = StreamSource(pattern: .counter, packetSize: .fixed(4096))
    /// What takes the MM2S channel's stream (transmit); its pattern is also what the producer writes.
    public var sink = StreamSink(pattern: .counter)
    /// How the receive workload's consumer gives buffers back.
    public var consumer = VerifyingConsumer.Pace()
    /// Transmit: packets the producer writes before it stops (nil: no end). Not in scenario files.
    public var packetLimit: Int? = nil
    /// An external driver program and its arguments (`driver: { command: [...] }`), its program
    /// resolved against the scenario file's directory when it is a relative path: the run attaches
    /// it instead of the built-in driver (`mode: attached`).
    public var command: [String]? = nil
    /// `stream: { loopback: ... }`: the MM2S stream wired back into S2MM through the fabric, with
    /// this transform (attached runs; the built-in workloads keep their source and sink).
    public var loopback: StreamLoopback.Transform? = nil

    public init() {}

    /// The pattern the stream carries: what the source sends and the consumer checks (receive), or
    /// what the producer writes and the sink checks (transmit). Scenario files set both at once.
    public var pattern: StreamPattern {
        get { source.pattern }
        set {
            source.pattern = newValue
            sink.pattern = newValue
        }
    }
}
