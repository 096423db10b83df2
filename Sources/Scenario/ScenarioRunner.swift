import Board
import Checks
import Reactor
import Trace
import TraceFiles

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
        /// What the protocol checker found (every scenario is checked).
        public let findings: ProtocolReport
        public var passed: Bool { failures.isEmpty }
    }

    let spec: ScenarioSpec
    let profile: BoardProfile
    let seed: UInt64
    /// `--strict`: a protocol finding of a rule the scenario's `findings:` does not name fails it.
    let strict: Bool

    public init(spec: ScenarioSpec, profile: BoardProfile, seed: UInt64? = nil, strict: Bool = false) {
        self.spec = spec
        self.profile = profile
        self.seed = seed ?? spec.seed
        self.strict = strict
    }

    /// The workload `spec.mode` asks for, built on `profile` from the scenario's configuration.
    public func makeWorkload() throws(WorkloadError) -> any Workload {
        switch spec.mode {
        case .receive: try ReceiveWorkload(profile: profile, seed: seed, configuration: spec.workload)
        case .transmit: try TransmitWorkload(profile: profile, seed: seed, configuration: spec.workload)
        case .script: try ScriptWorkload(profile: profile, seed: seed, configuration: spec.workload, withUIO: spec.usesUIO)
        case .attached: try AttachWorkload(profile: profile, seed: seed, scenario: spec.workload)
        }
    }

    /// Plays the scenario on the workload its mode asks for (`makeWorkload()`).
    /// `handleSignals`: SIGINT/SIGTERM end the run cleanly (the CLI wants that; a library caller may
    /// not). `trace`: record a trace (its hash, and the files the options name); a scenario that
    /// expects a `trace-hash` is traced anyway. `prepare` sees the reactor before anything runs.
    public func run(handleSignals: Bool = false, trace: Tracer.Options? = nil, prepare: (Reactor) -> Void = { _ in })
        throws(WorkloadError) -> Outcome
    {
        try run(makeWorkload(), handleSignals: handleSignals, trace: trace, prepare: prepare)
    }

    /// Plays the scenario on `workload`, built by the caller (a kind this module does not build).
    public func run(_ workload: any Workload, handleSignals: Bool = false, trace: Tracer.Options? = nil,
                    prepare: (Reactor) -> Void = { _ in }) throws(WorkloadError) -> Outcome
    {
        let wantsHash = spec.expectations.contains { $0.metric == .traceHash }
        // Every scenario is checked: the protocol checker is a sink of the run's tracer, alone (no
        // line is encoded) or beside the hash and the files asked for.
        let checker = ProtocolChecker(profile: profile)
        let tracer: Tracer
        do throws(TraceError) {
            tracer = try Tracer(reactor: workload.reactor, options: trace ?? Tracer.Options(hashing: wantsHash), also: [checker])
        } catch {
            throw WorkloadError("trace: \(error)")
        }
        workload.attach(tracer)
        try workload.start()
        prepare(workload.reactor)
        return play(workload, handleSignals: handleSignals, tracer: tracer, checker: checker)
    }

    private func play(_ workload: any Workload, handleSignals: Bool, tracer: Tracer, checker: ProtocolChecker) -> Outcome {
        let reactor = workload.reactor
        if handleSignals { reactor.handleStopSignals() }
        defer { reactor.handleStopSignals(false) }
        var failures: [Failure] = []
        var scriptFailures = 0
        let end = Instant.start + spec.duration
        // The end of the run stops the loop even in the middle of a step's wait.
        let endTimer = reactor.schedule(at: end) { reactor.stop() }
        var stopped = false
        for step in spec.timeline where !stopped {
            switch step.trigger {
            case .next: break
            case let .at(time): reactor.run(until: min(Instant.start + time, end))
            case let .afterCompletions(n): reactor.run(until: { workload.completions >= n })
            }
            if reactor.stoppedBySignal != nil || reactor.now >= end || workload.hasEnded { break }
            if let message = workload.play(step.action) {
                failures.append(Failure(location: step.location, message: message))
                if step.action.isRegisterStep { scriptFailures += 1 }
            }
            if case .stop = step.action { stopped = true }
        }
        // An attached program that ends stops the loop (so does a problem it caused).
        if !stopped && reactor.stoppedBySignal == nil && reactor.now < end && !workload.hasEnded { reactor.run(until: end) }
        reactor.cancel(endTimer)
        workload.finish()
        // The end-of-run rules first, so their findings are in the trace (and its hash).
        checker.finish()
        let findings = checker.report
        var traceHash: String? = nil
        do throws(TraceError) {
            traceHash = try tracer.finish()
        } catch {
            failures.append(Failure(location: SourceLocation(file: spec.file, line: 1, column: 1), message: "trace: \(error)"))
        }
        var m = workload.measures(scriptFailures: scriptFailures)
        m.protocolFindings = findings.counts
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
        return Outcome(scenario: spec.name, file: spec.file, seed: seed, failures: failures, completions: m.completions,
                       bytesDelivered: m.bytesDelivered, bytesDropped: m.bytesDropped, lostInterrupts: m.lostInterrupts,
                       spuriousInterrupts: m.spuriousInterrupts, recoveries: m.recoveries, violations: m.violations,
                       virtualSeconds: Double(reactor.now.nanosecondsSinceStart) / 1e9,
                       stoppedBySignal: reactor.stoppedBySignal != nil, traceHash: traceHash, findings: findings)
    }
}
