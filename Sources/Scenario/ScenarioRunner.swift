import Board
import Devices
import Driver
import Reactor
import Trace
import TraceFiles
import UIO

/// Plays one scenario: builds the board and the workload its mode asks for, runs the timeline in
/// file order (each step waits for its trigger, then acts), runs to the end of `duration` (or a
/// `stop` step), and checks every expectation.
public struct ScenarioRunner {
    public struct Failure: Sendable, CustomStringConvertible {
        public let location: SourceLocation
        public let message: String
        public var description: String { "\(location): \(message)" }
    }

    public struct Outcome: Sendable {
        public let scenario: String
        public let file: String
        public let seed: UInt64
        public let failures: [Failure]
        public let completions: Int
        public let bytesDelivered: UInt64
        public let bytesDropped: UInt64
        public let lostInterrupts: Int
        public let spuriousInterrupts: Int
        public let recoveries: Int
        public let violations: Int
        public let virtualSeconds: Double
        public let stoppedBySignal: Bool
        /// SHA-256 of the canonical trace (when traced).
        public let traceHash: String?
        public var passed: Bool { failures.isEmpty }
    }

    let spec: ScenarioSpec
    let profile: BoardProfile
    let seed: UInt64

    public init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64? = nil) {
        self.spec = spec
        self.profile = profile
        self.seed = seed ?? spec.seed
    }

    /// `handleSignals`: SIGINT/SIGTERM end the run cleanly (the CLI wants that; a library caller may
    /// not). `trace`: record a trace (its hash, and the files the options name); a scenario that
    /// expects a `trace-hash` is traced anyway. `prepare` sees the reactor before anything runs.
    public func run(handleSignals: Bool = false, trace: Tracer.Options? = nil, prepare: (Reactor) -> Void = { _ in })
        throws(WorkloadError) -> Outcome
    {
        let target: PlayTarget
        switch spec.mode {
        case .receive: target = try ReceivePlay(spec: spec, profile: profile, seed: seed)
        case .transmit: target = try TransmitPlay(spec: spec, profile: profile, seed: seed)
        case .script: target = try ScriptPlay(spec: spec, profile: profile, seed: seed)
        }
        let wantsHash = spec.expectations.contains { $0.metric == .traceHash }
        var tracer: Tracer? = nil
        if let options = trace ?? (wantsHash ? Tracer.Options() : nil) {
            do throws(TraceError) {
                tracer = try Tracer(reactor: target.reactor, options: options)
            } catch {
                throw WorkloadError("trace: \(error)")
            }
            target.attach(tracer!)
        }
        try target.start()
        prepare(target.reactor)
        return play(target, handleSignals: handleSignals, tracer: tracer)
    }

    private func play(_ target: PlayTarget, handleSignals: Bool, tracer: Tracer?) -> Outcome {
        let reactor = target.reactor
        if handleSignals { reactor.handleStopSignals() }
        defer { reactor.handleStopSignals(false) }
        var failures: [Failure] = []
        let end = Instant.start + spec.duration
        // The end of the run stops the loop even in the middle of a step's wait.
        let endTimer = reactor.schedule(at: end) { reactor.stop() }
        var stopped = false
        for step in spec.timeline where !stopped {
            switch step.trigger {
            case .next: break
            case let .at(time): reactor.run(until: min(Instant.start + time, end))
            case let .afterCompletions(n): reactor.run(until: { target.completions >= n })
            }
            if reactor.stoppedBySignal != nil || reactor.now >= end { break }
            if let message = target.perform(step.action) {
                failures.append(Failure(location: step.location, message: message))
            }
            if case .stop = step.action { stopped = true }
        }
        if !stopped && reactor.stoppedBySignal == nil && reactor.now < end { reactor.run(until: end) }
        reactor.cancel(endTimer)
        target.finish()
        var traceHash: String? = nil
        if let tracer {
            do throws(TraceError) {
                traceHash = try tracer.finish()
            } catch {
                failures.append(Failure(location: SourceLocation(file: spec.file, line: 1, column: 1), message: "trace: \(error)"))
            }
        }
        for expectation in spec.expectations {
            if case let .text(expected) = expectation.comparison, expectation.metric == .traceHash {
                if traceHash != expected {
                    failures.append(Failure(location: expectation.location, message: "expected trace-hash \(expected), found \(traceHash ?? "none")"))
                }
            } else if let message = target.check(expectation) {
                failures.append(Failure(location: expectation.location, message: message))
            }
        }
        let m = target.measures
        return Outcome(scenario: spec.name, file: spec.file, seed: seed, failures: failures, completions: m.completions,
                       bytesDelivered: m.bytesDelivered, bytesDropped: m.bytesDropped, lostInterrupts: m.lostInterrupts,
                       spuriousInterrupts: m.spuriousInterrupts, recoveries: m.recoveries, violations: m.violations,
                       virtualSeconds: Double(reactor.now.nanosecondsSinceStart) / 1e9,
                       stoppedBySignal: reactor.stoppedBySignal != nil, traceHash: traceHash)
    }
}

/// The figures expectations are checked against.
struct Measures {
    var completions = 0
    var bytesDelivered: UInt64 = 0
    var bytesDropped: UInt64 = 0
    var dropped: [DropReason: UInt64] = [:]
    var lostInterrupts = 0
    var spuriousInterrupts = 0
    var recoveries = 0
    var errors: [String: Int] = [:]
    var findings: [String: Int] = [:]
    var violations = 0
    var mismatchedBytes: UInt64 = 0
    var verifiedBytes: UInt64 = 0
    var storms = 0
    var latencyP99: Int64 = 0
    var scriptFailures = 0
    var staleReads = 0
    var driverState = "stopped"
}

/// What a mode provides to the runner.
protocol PlayTarget: AnyObject {
    var reactor: Reactor { get }
    /// Before `start`: every emitting object of the target records into `tracer`.
    func attach(_ tracer: Tracer)
    func start() throws(WorkloadError)
    var completions: Int { get }
    /// Does `action`; returns a failure message, or nil.
    func perform(_ action: ScenarioSpec.Step.Action) -> String?
    func finish()
    var measures: Measures { get }
}

extension PlayTarget {
    func check(_ expectation: ScenarioSpec.Expectation) -> String? {
        let m = measures
        let metric = expectation.metric
        switch (metric, expectation.comparison) {
        case let (.driverState, .text(expected)):
            let actual = String(m.driverState.prefix { $0.isLetter })
            return actual == expected ? nil : "expected driver-state \(expected), found \(m.driverState)"
        case (.traceHash, _):
            return nil  // checked by the runner, which owns the tracer
        case let (_, comparison):
            let actual: Int64
            switch metric {
            case .completions: actual = Int64(m.completions)
            case .bytesDelivered: actual = Int64(m.bytesDelivered)
            case .bytesDropped(nil): actual = Int64(m.bytesDropped)
            case let .bytesDropped(reason?): actual = Int64(m.dropped[reason] ?? 0)
            case .lostInterrupts: actual = Int64(m.lostInterrupts)
            case .spuriousInterrupts: actual = Int64(m.spuriousInterrupts)
            case .recoveries: actual = Int64(m.recoveries)
            case .errors(nil): actual = Int64(m.errors.values.reduce(0, +))
            case let .errors(kind?): actual = Int64(m.errors[kind.rawValue] ?? 0)
            case .violations(nil): actual = Int64(m.violations)
            case let .violations(kind?): actual = Int64(kind == "stale-reads" ? m.staleReads : m.findings[kind] ?? 0)
            case .mismatchedBytes: actual = Int64(m.mismatchedBytes)
            case .verifiedBytes: actual = Int64(m.verifiedBytes)
            case .storms: actual = Int64(m.storms)
            case .latencyP99Nanoseconds: actual = m.latencyP99
            case .scriptFailures: actual = Int64(m.scriptFailures)
            case .driverState, .traceHash: return nil
            }
            return comparison.holds(for: actual) ? nil : "expected \(metric) \(comparison), found \(actual)"
        }
    }
}

/// Findings of the DMA heap and storms of the UIO devices, for any mode that has them.
func addFindings(_ uio: UIOSystem, to m: inout Measures) {
    for kind in DMAFinding.Kind.allCases {
        let n = uio.heap.findings.count(kind, .violation) + uio.heap.findings.count(kind, .warning)
        if n > 0 { m.findings[kind.rawValue] = n }
        m.violations += uio.heap.findings.count(kind, .violation)
    }
    for device in uio.devices {
        m.storms += device.storms + device.enablesWithCauseAsserted
    }
}

func dropped(_ a: StreamAccounting, into m: inout Measures) {
    m.bytesDelivered = a.deliveredBytes
    m.bytesDropped = a.dropped.total
    for reason in DropReason.allCases where a.dropped[reason] > 0 { m.dropped[reason] = a.dropped[reason] }
}

func inject(_ fault: AXIDMAFault, into channel: DMAChannel?) -> String? {
    guard let channel else { return "the board's AXI DMA has no such channel" }
    do throws(FaultRejection) {
        try channel.inject(fault)
        return nil
    } catch {
        return "fault \(fault) refused: \(error)"
    }
}
