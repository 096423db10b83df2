import Board
import Devices
import Reactor

/// One play of a scenario's timeline: each step waits for its trigger and acts, in file order,
/// then the run goes on to the end of `duration`. It remembers what the verdict needs beyond the
/// figures: which steps ran (a step whose trigger never came is a failure, unless `optional`), the
/// evidence of every fault it injected (one that never took effect is a failure, unless
/// `optional`), and the counters when the last step ran (for `after-last-step`).
struct TimelinePlay {
    typealias Failure = ScenarioRunner.Failure

    let spec: ScenarioSpec
    let workload: any Workload
    private(set) var failures: [Failure] = []
    private(set) var scriptFailures = 0
    /// How many steps ran (they run in order: the first `stepsRun`).
    private(set) var stepsRun = 0
    /// The `do: stop` step that ended the run, if one did.
    private(set) var stoppedAt: ScenarioSpec.Step? = nil
    private(set) var countersAtLastStep: [ScenarioSpec.Metric: Int64]? = nil
    private var injected: [(step: ScenarioSpec.Step, channel: DMAChannel, record: Int)] = []

    init(spec: ScenarioSpec, workload: any Workload) {
        self.spec = spec
        self.workload = workload
    }

    var end: Instant { Instant.start + spec.duration }

    mutating func play() {
        let reactor = workload.reactor
        let workload = self.workload
        // The end of the run stops the loop even in the middle of a step's wait.
        let endTimer = reactor.schedule(at: end) { reactor.stop() }
        defer { reactor.cancel(endTimer) }
        if spec.timeline.isEmpty { countersAtLastStep = counters() }
        for step in spec.timeline {  // bounded: one pass over the file's steps
            switch step.trigger {
            case .next: break
            case let .at(time): reactor.run(until: min(Instant.start + time, end))
            case let .afterCompletions(n): reactor.run(until: { workload.completions >= n })
            }
            guard reactor.interruptedBy == nil, !workload.hasEnded, reactor.now < end, triggerCame(step.trigger) else { break }
            switch workload.play(step.action) {
            case .done: break
            case let .failed(message):
                failures.append(Failure(location: step.location, message: message))
                if step.action.isRegisterStep { scriptFailures += 1 }
            case let .injected(channel, record):
                injected.append((step, channel, record))
            }
            stepsRun += 1
            if stepsRun == spec.timeline.count { countersAtLastStep = counters() }
            if case .stop = step.action {
                stoppedAt = step
                break
            }
            if reactor.interruptedBy != nil { break }
        }
        // An attached program that ends stops the loop (so does a problem it caused).
        if stoppedAt == nil && reactor.interruptedBy == nil && reactor.now < end && !workload.hasEnded { reactor.run(until: end) }
    }

    /// Whether the step's trigger came before the end (a wait can also end because nothing can
    /// happen any more: a stalled driver never reaches its completion count).
    private func triggerCame(_ trigger: ScenarioSpec.Step.Trigger) -> Bool {
        switch trigger {
        case .next: true
        case let .at(time): Instant.start + time < end
        case let .afterCompletions(n): workload.completions >= n
        }
    }

    private func counters() -> [ScenarioSpec.Metric: Int64] {
        workload.measures(scriptFailures: scriptFailures).lastStepCounters
    }

    /// The steps that never ran, each at its file:line, unless `optional: true`.
    func unplayedStepFailures() -> [Failure] {
        var failures: [Failure] = []
        let ended = TimeSpan(nanoseconds: workload.reactor.now.nanosecondsSinceStart)
        for index in stepsRun..<spec.timeline.count where !spec.timeline[index].optional {
            let step = spec.timeline[index]
            let why: String
            if let stop = stoppedAt {
                why = "`do: stop` at line \(stop.location.line) ended the run at \(ended) first"
            } else {
                switch step.trigger {
                case let .at(time) where Instant.start + time >= end:
                    why = "the run ended at \(ended) (duration: \(spec.duration)); a step runs only before the end"
                case .at:
                    why = "the run ended at \(ended)"
                case .afterCompletions:
                    why = "the run ended at \(ended) with \(workload.completions) completions"
                case .next where index > stepsRun:
                    why = "the step before it (line \(spec.timeline[index - 1].location.line)) never ran"
                case .next:
                    why = "the run ended at \(ended) before it"
                }
            }
            failures.append(Failure(location: step.location, message: "\(step.triggerText) never ran: \(why)"
                                    + " (write optional: true if the run may end first)"))
        }
        return failures
    }

    /// The injected faults that never took effect (still waiting, missed, or replaced), unless their
    /// step is `optional: true`.
    func faultFailures() -> [Failure] {
        let ended = TimeSpan(nanoseconds: workload.reactor.now.nanosecondsSinceStart)
        var failures: [Failure] = []
        for (step, channel, record) in injected where !step.optional {
            let evidence = channel.faultEvidence[record]
            let injectedAt = TimeSpan(nanoseconds: evidence.injectedAt.nanosecondsSinceStart)
            let subject = "`inject: \(evidence.fault)` on \(channel.direction) (injected at \(injectedAt)) never took effect"
            switch evidence.outcome {
            case .tookEffect: continue
            case .pending:
                failures.append(Failure(location: step.location, message: "\(subject): it waited for \(evidence.fault.awaits), "
                                        + "which did not come before the run ended at \(ended) (write optional: true if that is expected)"))
            case let .missed(at, reason):
                failures.append(Failure(location: step.location, message: "\(subject): at \(TimeSpan(nanoseconds: at.nanosecondsSinceStart)) \(reason)"))
            case let .replaced(at):
                failures.append(Failure(location: step.location,
                                        message: "\(subject): another \(evidence.fault) replaced it at \(TimeSpan(nanoseconds: at.nanosecondsSinceStart)) first"))
            }
        }
        return failures
    }

    var faultOutcomes: [ScenarioRunner.FaultOutcome] {
        injected.compactMap { step, channel, record in
            guard case let .inject(fault, direction) = step.action else { return nil }
            return ScenarioRunner.FaultOutcome(location: step.location, fault: fault, channel: direction, evidence: channel.faultEvidence[record])
        }
    }
}

extension ScenarioSpec.Step {
    /// The trigger as the file writes it (`at: 5ms`, `after: 1000 completions`); "this step" for
    /// one that runs right after the previous one.
    var triggerText: String {
        switch trigger {
        case let .at(time): "`at: \(time)`"
        case let .afterCompletions(n): "`after: \(n) completions`"
        case .next: "this step"
        }
    }
}
