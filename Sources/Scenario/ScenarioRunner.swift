import Board
import Checks
import Devices
import Reactor
import Trace
import TraceFiles

/// Plays one scenario: builds the board and the workload its mode asks for, runs the timeline in
/// file order (each step waits for its trigger, then acts), runs to the end of `duration` (or a
/// `stop` step), and checks every expectation, every step (each must have run, unless optional)
/// and every injected fault (each must have taken effect, unless optional).
public struct ScenarioRunner {
    public struct Failure: Sendable, CustomStringConvertible {
        public let location: SourceLocation
        public let message: String
        public var description: String { "\(location): \(message)" }
    }

    /// What became of one `inject` step's fault.
    public struct FaultOutcome: Sendable {
        public let location: SourceLocation
        public let fault: AXIDMAFault
        public let channel: DMADirection
        public let evidence: FaultEvidence
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
        /// Board time when the run ended.
        public let boardTime: Instant
        /// The stop signal (SIGINT, SIGTERM) that ended the run early, if one did.
        public let interruptedBy: Int32?
        /// SHA-256 of the canonical trace (when traced): computed even when a trace file could not
        /// be written.
        public let traceHash: String?
        /// What the protocol checker found (every scenario is checked).
        public let findings: ProtocolReport
        /// A trace, Perfetto or VCD file that could not be written: an I/O error, not a failure of
        /// the scenario.
        public let traceWriteError: TraceError?
        /// The faults the timeline injected, and whether and when each took effect.
        public let faults: [FaultOutcome]
        /// The figures the expectations were checked against (`uioemu explore` judges runs by them).
        public var measures = Measures()

        public var stoppedBySignal: Bool { interruptedBy != nil }
        /// PASS only when every check ran and held: an interrupted run is INTERRUPTED.
        public var verdict: Verdict { Verdict(failed: !failures.isEmpty, interruptedBy: interruptedBy) }
        public var passed: Bool { verdict == .pass }
    }

    let spec: ScenarioSpec
    let profile: BoardProfile
    let seed: UInt64
    /// `--strict`: a protocol finding of a rule the scenario's `findings:` does not name fails it.
    let strict: Bool

    public init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64? = nil, strict: Bool = false) {
        self.spec = spec
        // mode: sg-receive builds the driver's core with scatter-gather: the checker must decode the
        // same register map as the device (an unknown node is reported when the workload is built).
        self.profile = spec.mode == .sgReceive ? (try? SGReceiveWorkload.sgProfile(profile, node: spec.workload.uioNode)) ?? profile : profile
        self.seed = seed ?? spec.seed
        self.strict = strict
    }

    /// The workload `spec.mode` asks for, built on `profile` from the scenario's configuration.
    public func makeWorkload() throws(WorkloadError) -> any Workload {
        switch spec.mode {
        case .receive: try ReceiveWorkload(profile: profile, seed: seed, configuration: spec.workload)
        case .sgReceive: try SGReceiveWorkload(profile: profile, seed: seed, configuration: spec.workload)
        case .transmit: try TransmitWorkload(profile: profile, seed: seed, configuration: spec.workload)
        case .script: try ScriptWorkload(profile: profile, seed: seed, configuration: spec.workload, withUIO: spec.usesUIO)
        case .attached: try AttachWorkload(profile: profile, seed: seed, scenario: spec.workload)
        }
    }

    /// Plays the scenario on the workload its mode asks for (`makeWorkload()`).
    /// `handleSignals`: SIGINT/SIGTERM end the run cleanly (the CLI wants that; a library caller may
    /// not); `signalsSince`: a reactor handling signals already (`play`'s, across scenarios), so a
    /// signal that came while this run was being set up ends it too. `trace`: record a trace (its
    /// hash, and the files the options name); a scenario that expects a `trace-hash` is traced
    /// anyway. `prepare` sees the reactor before anything runs. `progress` is called every
    /// millisecond of board time while the scenario plays (`RunProgress`), for a progress line.
    public func run(handleSignals: Bool = false, signalsSince: Reactor? = nil, trace: Tracer.Options? = nil,
                    progress: ((RunProgress.Sample) -> Void)? = nil,
                    prepare: (Reactor) -> Void = { _ in }) throws(WorkloadError) -> Outcome
    {
        try run(makeWorkload(), handleSignals: handleSignals, signalsSince: signalsSince, trace: trace, progress: progress, prepare: prepare)
    }

    /// Plays the scenario on `workload`, built by the caller (a kind this module does not build).
    public func run(_ workload: any Workload, handleSignals: Bool = false, signalsSince: Reactor? = nil, trace: Tracer.Options? = nil,
                    progress: ((RunProgress.Sample) -> Void)? = nil,
                    prepare: (Reactor) -> Void = { _ in }) throws(WorkloadError) -> Outcome
    {
        let wantsHash = spec.expectations.contains { $0.metric == .traceHash }
        // Every scenario is checked: the protocol checker is a sink of the run's tracer, alone (no
        // line is encoded) or beside the hash and the files asked for.
        let checker = ProtocolChecker(profile: profile)
        var options = trace ?? Tracer.Options(hashing: wantsHash)
        if wantsHash { options.hashing = true }
        let tracer: Tracer
        do throws(TraceError) {
            tracer = try Tracer(reactor: workload.reactor, options: options, also: [checker])
        } catch {
            throw WorkloadError("\(error)", isInputError: true)
        }
        workload.attach(tracer)
        try workload.start()
        prepare(workload.reactor)
        let probe = progress.map { RunProgress(workload: workload, report: $0) }
        return play(workload, handleSignals: handleSignals, signalsSince: signalsSince, tracer: tracer, checker: checker, probe: probe)
    }

    private func play(_ workload: any Workload, handleSignals: Bool, signalsSince: Reactor?, tracer: Tracer, checker: ProtocolChecker,
                      probe: RunProgress?) -> Outcome
    {
        let reactor = workload.reactor
        if handleSignals { reactor.handleStopSignals(since: signalsSince) }
        defer { reactor.handleStopSignals(false) }
        var timeline = TimelinePlay(spec: spec, workload: workload)
        timeline.play()
        probe?.cancel()
        workload.finish()
        // The end-of-run rules first, so their findings are in the trace (and its hash).
        checker.finish()
        let findings = checker.report
        var traceHash: String? = nil
        var traceWriteError: TraceError? = nil
        do throws(TraceError) {
            traceHash = try tracer.finish()
        } catch {
            traceWriteError = error
            traceHash = tracer.hash
        }
        var m = workload.measures(scriptFailures: timeline.scriptFailures)
        m.protocolFindings = findings.counts
        m.atLastStep = timeline.countersAtLastStep
        let interrupted = reactor.interruptedBy
        // An interrupted run is judged by what it checked before the signal: a step the signal
        // kept from running is no failure (the verdict already says the run is incomplete).
        var failures = timeline.failures
        if interrupted == nil { failures += timeline.unplayedStepFailures() + timeline.faultFailures() }
        for problem in workload.problems {
            failures.append(Failure(location: SourceLocation(file: spec.file, line: 1, column: 1), message: problem))
        }
        for expectation in spec.expectations {
            if case let .text(expected) = expectation.comparison, expectation.metric == .traceHash {
                if traceHash != expected {
                    failures.append(Failure(location: expectation.location, message: "expected trace-hash \(expected), found \(traceHash ?? "none")"))
                }
            } else if let message = m.failure(of: expectation) {
                failures.append(Failure(location: expectation.location, message: message))
            }
        }
        if strict { failures += strictFailures(findings) }
        var outcome = Outcome(scenario: spec.name, file: spec.file, seed: seed, failures: failures, completions: m.completions,
                       bytesDelivered: m.bytesDelivered, bytesDropped: m.bytesDropped, lostInterrupts: m.lostInterrupts,
                       spuriousInterrupts: m.spuriousInterrupts, recoveries: m.recoveries, violations: m.violations,
                       virtualSeconds: Double(reactor.now.nanosecondsSinceStart) / 1e9, boardTime: reactor.now,
                       interruptedBy: interrupted, traceHash: traceHash, findings: findings, traceWriteError: traceWriteError,
                       faults: timeline.faultOutcomes)
        outcome.measures = m
        return outcome
    }
}
