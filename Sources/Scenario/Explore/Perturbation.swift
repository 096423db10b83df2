import Board
import Checks
import Reactor

/// What one explore run adds to its scenario, drawn from the run's seed: faults of the catalogue
/// at random board times, and a timing jitter on the scenario's own `at:` steps. `apply(to:)`
/// makes the scenario the run plays (and, when it fails, the reproducer `uioemu play` replays):
/// the run's seed, the timeline with the faults merged in by time, every step optional, and the
/// oracle as its expectations (`ExploreOracle`).
public struct Perturbation: Sendable, Hashable {
    /// The run's seed: the scenario's seed in the run, and where the faults were drawn from.
    public var seed: UInt64
    /// Sorted by time.
    public var faults: [ExploreFault]
    /// Added to each of the scenario's own `at:` steps, in order (nanoseconds, may be negative).
    public var jitter: [Int64]

    public init(seed: UInt64, faults: [ExploreFault], jitter: [Int64] = []) {
        self.seed = seed
        self.faults = faults.sorted { $0.at < $1.at }
        self.jitter = jitter
    }

    /// At most this many faults per run (1 to `maxFaults`, drawn).
    public static let maxFaults = 8
    /// The scenario's own `at:` steps move by up to this much either way.
    public static let maxJitterNanoseconds: Int64 = 10_000

    /// The run's faults and jitter, from its seed alone.
    public static func draw(seed: UInt64, spec: ScenarioSpec, catalogue: ExploreCatalogue) -> Perturbation {
        var random = SplitMix64(seed: seed)
        var faultRandom = random.split()
        var jitterRandom = random.split()
        let count = 1 + Int(faultRandom.next() % UInt64(maxFaults))
        let faults = (0..<count).map { _ in catalogue.draw(&faultRandom) }
        let jitter = spec.timeline.map { step -> Int64 in
            guard case .at = step.trigger else { return 0 }
            return Int64(jitterRandom.next() % UInt64(2 * maxJitterNanoseconds + 1)) - maxJitterNanoseconds
        }
        return Perturbation(seed: seed, faults: faults, jitter: jitter)
    }

    /// Faults of each kind.
    public var faultsByKind: [String: Int] { faults.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }

    /// The scenario a run plays: `spec` with this seed, the faults' steps merged into its timeline
    /// by time (its own `at:` steps jittered, kept in their order: each of its steps carries the
    /// time of the last `at:` before it), every step optional (what a scenario says of its own
    /// steps is its expectations, which explore replaces), and `oracle` as the expectations.
    public func apply(to spec: ScenarioSpec, catalogue: ExploreCatalogue, oracle: [ScenarioSpec.Expectation]) -> ScenarioSpec {
        var result = spec
        result.seed = seed
        var own: [(time: TimeSpan, step: ScenarioSpec.Step)] = []
        var last = TimeSpan.zero
        for (index, original) in spec.timeline.enumerated() {  // bounded: the scenario's steps
            var step = original
            step.optional = true
            if case let .at(time) = step.trigger {
                let moved = TimeSpan(nanoseconds: max(last.nanoseconds, time.nanoseconds + (index < jitter.count ? jitter[index] : 0)))
                step.trigger = .at(moved)
                last = moved
            }
            own.append((last, step))
        }
        // A buffer is freed once: a second free of the same slot (drawn, made by shrinking, or the
        // scenario's own) is left out.
        var freed = Set(spec.timeline.compactMap { step -> Int? in
            if case let .workload(.freeBuffer(slot)) = step.action { return slot } else { return nil }
        })
        let once = faults.enumerated().filter { _, fault in
            guard case let .freeBuffer(slot) = fault.action else { return true }
            return freed.insert(slot).inserted
        }
        let added = once.flatMap { number, fault in
            fault.steps(channel: catalogue.channel, scenarioRate: catalogue.scenarioRate, file: spec.file, number: number)
        }
            .map { step -> (time: TimeSpan, step: ScenarioSpec.Step) in
                guard case let .at(time) = step.trigger else { preconditionFailure("explore's steps are at a time") }
                return (time, step)
            }
            .sorted { $0.time < $1.time }
        // Merged by time; at equal times the scenario's own step first (stable in both lists).
        var merged: [ScenarioSpec.Step] = []
        var i = 0, j = 0
        while i < own.count || j < added.count {  // bounded: each turn takes one step of one list
            if j == added.count || (i < own.count && own[i].time <= added[j].time) {
                merged.append(own[i].step)
                i += 1
            } else {
                merged.append(added[j].step)
                j += 1
            }
        }
        result.timeline = merged
        result.expectations = oracle
        return result
    }
}
