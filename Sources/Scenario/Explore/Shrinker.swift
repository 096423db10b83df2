import Reactor

/// Makes a failing perturbation smaller while it still fails the same way (the same failure kind:
/// invariant, finding rule or end state; other kinds may come and go). Passes, each repeated
/// until nothing changes: drop each fault; drop the jitter; move each fault later (to the end of
/// the window, else halfway there); make each fault smaller (`ExploreFault.smaller`). Greedy: the
/// first candidate that still fails is kept. At most `budget` runs.
public struct Shrinker {
    public struct Result: Sendable {
        /// The smallest failing run found (the original when nothing smaller fails).
        public let run: Exploration.Run
        /// Runs the shrink played.
        public let runs: Int
    }

    public let target: String
    public let budget: Int
    let windowEnd: TimeSpan
    private(set) var runs = 0

    public init(target: String, budget: Int, windowEnd: TimeSpan) {
        self.target = target
        self.budget = budget
        self.windowEnd = windowEnd
    }

    public mutating func shrink(_ failing: Exploration.Run,
                                _ play: (Perturbation) throws(WorkloadError) -> Exploration.Run) throws(WorkloadError) -> Result {
        var best = failing
        var changed = true
        // Bounded: every accepted candidate is strictly smaller (fewer faults, no jitter, later or
        // smaller faults), and every candidate tried costs one run of `budget`.
        while changed && runs < budget {
            changed = false
            // Drop faults, the last first (a failure usually needs its earliest faults).
            var index = best.perturbation.faults.count - 1
            while index >= 0 && runs < budget {
                var faults = best.perturbation.faults
                faults.remove(at: index)
                if let run = try attempt(best.perturbation, faults: faults, play) {
                    best = run
                    changed = true
                }
                index -= 1
            }
            if best.perturbation.jitter.contains(where: { $0 != 0 }), runs < budget,
               let run = try attempt(Perturbation(seed: best.perturbation.seed, faults: best.perturbation.faults), faults: nil, play) {
                best = run
                changed = true
            }
            // Later, then smaller, one fault at a time (indices are stable: faults keep their count).
            for i in best.perturbation.faults.indices where runs < budget {
                let fault = best.perturbation.faults[i]
                let end = TimeSpan(nanoseconds: windowEnd.nanoseconds / 1_000 * 1_000)
                let halfway = TimeSpan(nanoseconds: (fault.at.nanoseconds + end.nanoseconds) / 2 / 1_000 * 1_000)
                for later in [end, halfway] where later > fault.at && runs < budget {
                    var faults = best.perturbation.faults
                    faults[i].at = later
                    if let run = try attempt(best.perturbation, faults: faults, play) {
                        best = run
                        changed = true
                        break
                    }
                }
            }
            for i in best.perturbation.faults.indices where runs < budget {
                for action in best.perturbation.faults[i].smaller where runs < budget {
                    var faults = best.perturbation.faults
                    faults[i].action = action
                    if let run = try attempt(best.perturbation, faults: faults, play) {
                        best = run
                        changed = true
                        break
                    }
                }
            }
        }
        return Result(run: best, runs: runs)
    }

    /// Plays `base` with `faults` instead of its own (nil: `base` as it is); the run, if it still
    /// fails with the target kind.
    private mutating func attempt(_ base: Perturbation, faults: [ExploreFault]?,
                                  _ play: (Perturbation) throws(WorkloadError) -> Exploration.Run) throws(WorkloadError) -> Exploration.Run? {
        runs += 1
        let candidate = faults.map { Perturbation(seed: base.seed, faults: $0, jitter: base.jitter) } ?? base
        let run = try play(candidate)
        return run.failureKinds.contains(target) ? run : nil
    }
}
