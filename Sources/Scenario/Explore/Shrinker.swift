import Reactor

/// Makes a failing perturbation smaller while it still fails the same way (the caller's judgement:
/// explore asks for the same failure kind, invariant, finding rule or end state; other kinds may
/// come and go). Pure: what a run does is the caller's `stillFails`. Passes, each repeated
/// until nothing changes: drop each fault; drop the jitter; move each fault later (to the end of
/// the window, else halfway there); make each fault smaller (`ExploreFault.smaller`). Greedy: the
/// first candidate that still fails is kept. At most `budget` runs.
public struct Shrinker {
    public let budget: Int
    let windowEnd: TimeSpan
    /// Runs played so far.
    public private(set) var runs = 0

    /// `windowEnd`: faults are moved no later than this (the end of the fault window: the rest of
    /// the run shows whether the driver came back).
    public init(budget: Int, windowEnd: TimeSpan) {
        self.budget = budget
        self.windowEnd = windowEnd
    }

    /// The smallest perturbation found that `stillFails` (which plays it and says whether it fails
    /// the same way); `failing` itself when nothing smaller does.
    public mutating func shrink<Failure: Error>(_ failing: Perturbation,
                                                stillFails: (Perturbation) throws(Failure) -> Bool) throws(Failure) -> Perturbation {
        var best = failing
        var changed = true
        // Bounded: every accepted candidate is strictly smaller (fewer faults, no jitter, later or
        // smaller faults), and every candidate tried costs one run of `budget`.
        while changed && runs < budget {
            changed = false
            // Drop faults, the last first (a failure usually needs its earliest faults).
            var index = best.faults.count - 1
            while index >= 0 && runs < budget {
                var faults = best.faults
                faults.remove(at: index)
                if let candidate = try attempt(best, faults: faults, stillFails) {
                    best = candidate
                    changed = true
                }
                index -= 1
            }
            if best.jitter.contains(where: { $0 != 0 }), runs < budget,
               let candidate = try attempt(Perturbation(seed: best.seed, faults: best.faults), faults: nil, stillFails) {
                best = candidate
                changed = true
            }
            // Later, then smaller, one fault at a time.
            for i in best.faults.indices where runs < budget {
                let fault = best.faults[i]
                let end = TimeSpan(nanoseconds: windowEnd.nanoseconds / 1_000 * 1_000)
                let halfway = TimeSpan(nanoseconds: (fault.at.nanoseconds + end.nanoseconds) / 2 / 1_000 * 1_000)
                for later in [end, halfway] where later > fault.at && runs < budget {
                    var faults = best.faults
                    faults[i].at = later
                    if let candidate = try attempt(best, faults: faults, stillFails) {
                        best = candidate
                        changed = true
                        break
                    }
                }
            }
            for i in best.faults.indices where runs < budget {
                for action in best.faults[i].smaller where runs < budget {
                    var faults = best.faults
                    faults[i].action = action
                    if let candidate = try attempt(best, faults: faults, stillFails) {
                        best = candidate
                        changed = true
                        break
                    }
                }
            }
        }
        return best
    }

    /// `base` with `faults` instead of its own (nil: `base` as it is), if it still fails.
    private mutating func attempt<Failure: Error>(_ base: Perturbation, faults: [ExploreFault]?,
                                                  _ stillFails: (Perturbation) throws(Failure) -> Bool) throws(Failure) -> Perturbation? {
        runs += 1
        let candidate = faults.map { Perturbation(seed: base.seed, faults: $0, jitter: base.jitter) } ?? base
        return try stillFails(candidate) ? candidate : nil
    }
}
