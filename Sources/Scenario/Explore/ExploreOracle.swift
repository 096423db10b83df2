import Board
import Checks
import Reactor

/// What every explore run must show, as a scenario's expectations (so the reproducer `uioemu play`
/// replays checks exactly what explore checked), and how a finished run's failures are named.
///
/// - no DMA heap violation of any kind, no stale read; no storm; no enable with the cause asserted;
/// - no protocol-checker finding of any rule;
/// - no mismatched byte beyond one per `corrupt-byte` fault (each flips one byte);
/// - the driver ends running, and completed a transfer after the last step (it came back from the
///   faults; not asked when the scenario's own timeline leaves the source paused), or ends `failed` with its reason (the documented end of `max-retries` errors in a
///   row: then neither of these two counts); an attached program ends on its own before the run's
///   board-time bound (its exit status is checked as in every attached run);
/// - and what every run checks anyway: every byte accounted for, the invariants (`problems`).
///
/// A `free-buffer` fault (or step of the scenario's) makes the driver's next transfer into that
/// buffer a DMA outside the live buffers by definition, and the driver's next read of it (a
/// buffer the engine filled before the free, delivered after it) a CPU access to a freed buffer:
/// a run with one does not count `dma-outside-buffers`, `cpu-access-after-free`,
/// `DMA-FREED-BUFFER` or `DMA-OUTSIDE-BUFFERS`. The driver cannot tell (dma_sync returns nothing,
/// as in Linux): the fault is a bug outside it, a use after free by whoever freed the buffer. The
/// scatter-gather driver meets the second often: its ring queues up to `ring` descriptors ahead
/// and coalescing defers the reap, so a buffer is often freed filled and not yet reaped (found by
/// `uioemu explore` on `sg-steady-stream`, where the heap called it `cpu-access-while-device-owned`;
/// the heap now names it for what it is). Every other rule still holds in such a run: a missing
/// sync on a live buffer is still `cpu-access-while-device-owned` and `CPU-READ-NO-SYNC`. Nor is a violation or a
/// finding counted that the scenario itself plants and expects (`findings: { CPU-READ-NO-SYNC: 1 }`).
/// The scenario's own steps may fail to act once faults are added (no buffer armed for a
/// `cpu-read-buffer`): like its expectations, they are its own claims, not the driver's.
public enum ExploreOracle {
    /// The expectations for a run of `spec` (mode and driver) with `perturbation`.
    public static func expectations(for spec: ScenarioSpec, _ perturbation: Perturbation) -> [ScenarioSpec.Expectation] {
        let freed = perturbation.faults.contains { if case .freeBuffer = $0.action { return true } else { return false } }
            || spec.timeline.contains { if case .workload(.freeBuffer) = $0.action { return true } else { return false } }
        // What the scenario plants on purpose and expects (`findings: { CPU-READ-NO-SYNC: 1 }`) is
        // not held against it.
        let planted = Set(spec.expectations.filter { !$0.comparison.holds(for: 0) }.map(\.metric))
        var line = 0
        var result: [ScenarioSpec.Expectation] = []
        func expect(_ metric: ScenarioSpec.Metric, _ comparison: ScenarioSpec.Comparison) {
            line += 1
            // A location of its own per expectation: a failure names the expectation it broke.
            result.append(.init(metric: metric, comparison: comparison, location: SourceLocation(file: spec.file, line: 100_000 + line, column: 1)))
        }
        for kind in UIOFindingNames.all where !(freed && (kind == "dma-outside-buffers" || kind == "cpu-access-after-free")) && !planted.contains(.violations(kind)) {
            expect(.violations(kind), .number(.equal, 0))
        }
        expect(.storms, .number(.equal, 0))
        expect(.enablesWithCauseAsserted, .number(.equal, 0))
        for rule in ProtocolRule.allCases where !(freed && (rule == .dmaFreedBuffer || rule == .dmaOutsideBuffers)) && !planted.contains(.findings(rule.id)) {
            expect(.findings(rule.id), .number(.equal, 0))
        }
        let corrupted = perturbation.faults.filter { if case .inject(.corruptByte) = $0.action { return true } else { return false } }.count
        if spec.mode == .attached {
            expect(.driverState, .text("stopped"))
        } else {
            expect(.mismatchedBytes, .number(.atMost, Int64(corrupted)))
            expect(.driverState, .text("running"))
            // A scenario whose own timeline leaves the source paused (`sg-coalesce-delay`: bursts,
            // then silence) has no packet left to complete after a later fault: asking for one
            // would fail every run of it whatever the driver does (found by explore, 216 of 300
            // runs `no-progress`). Such a run is held to the rest: running at the end, every byte.
            if !leavesSourcePaused(spec) { expect(.afterLastStep(.completions), .number(.atLeast, 1)) }
        }
        return result
    }

    /// Whether the scenario's own last source step pauses the source (explore's own pauses each
    /// come with their resume).
    static func leavesSourcePaused(_ spec: ScenarioSpec) -> Bool {
        for step in spec.timeline.reversed() {  // bounded: the scenario's steps
            switch step.action {
            case .workload(.pauseSource): return true
            case .workload(.resumeSource): return false
            default: continue
            }
        }
        return false
    }

    /// The failure kinds of a finished run of `spec` (which holds the oracle's expectations): for a
    /// broken expectation its metric (`findings.UIO-ENABLE-CAUSE`, `violations.dma-outside-buffers`,
    /// `mismatched-bytes`), `end-state.STATE` for a driver that ended neither running nor failed,
    /// `no-progress` for one that ended running with no completion after the last step,
    /// `hang.board-time` for an attached program still running at the end; for a problem of the
    /// run itself (an invariant) its words up to the first colon, numbers left out. Sorted, once
    /// each. Empty: the run passed.
    public static func failureKinds(_ outcome: ScenarioRunner.Outcome, spec: ScenarioSpec) -> [String] {
        let failedAsDocumented = outcome.measures.driverState.hasPrefix("failed")
        var kinds = Set<String>()
        let ownSteps = Set(spec.timeline.map(\.location).filter { $0.line < ExploreFault.stepLine })
        for failure in outcome.failures {  // bounded: the run's failures
            if failure.location.line >= ExploreFault.stepLine {
                // One of explore's faults could not act (a restart that failed, a refused fault).
                kinds.insert("step: " + normalised(failure.message))
                continue
            }
            // The scenario's own steps are its claims, as its expectations are: explore replaces them.
            if ownSteps.contains(failure.location) { continue }
            guard let expectation = spec.expectations.first(where: { $0.location == failure.location }) else {
                kinds.insert(problemKind(failure.message))
                continue
            }
            switch expectation.metric {
            case .driverState where spec.mode == .attached: kinds.insert("hang.board-time")
            case .driverState:
                if !failedAsDocumented { kinds.insert("end-state." + String(outcome.measures.driverState.prefix { $0.isLetter })) }
            case .afterLastStep: if !failedAsDocumented { kinds.insert("no-progress") }
            default: kinds.insert("\(expectation.metric)")
            }
        }
        return kinds.sorted()
    }

    /// `each buffer has one owner: the consumer gave back 2 buffer(s)...` → `invariant: each buffer
    /// has one owner`; `the program exited with status 1` → `problem: the program exited with status N`.
    static func problemKind(_ message: String) -> String {
        if let colon = message.firstIndex(of: ":"), !message[..<colon].contains(where: \.isNumber) {
            return "invariant: " + message[..<colon]
        }
        return "problem: " + normalised(message)
    }

    /// The message up to its first `;`, `:` or `(`, numbers as N, at most 12 words.
    static func normalised(_ message: String) -> String {
        var words = message.prefix { $0 != ";" && $0 != ":" && $0 != "(" }
            .split(separator: " ").map { $0.contains(where: \.isNumber) ? "N" : String($0) }
        if words.count > 12 { words = Array(words.prefix(12)) }
        return words.joined(separator: " ")
    }
}
