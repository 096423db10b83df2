import Board
import Foundation
import Reactor

/// `uioemu explore`: runs a scenario many times, each run a perturbed copy drawn from its own seed
/// (`Perturbation`), judges each run by the oracle (`ExploreOracle`), and shrinks every failure to
/// a smaller perturbation that still fails the same way (`Shrinker`). Every run is a pure function
/// of (scenario, explore seed, run index), so `--shard i/n` splits the runs without changing them.
/// The runs play in this process; the command writes and prints.
public struct Exploration {
    public let spec: ScenarioSpec
    public let profile: BoardProfile
    public let catalogue: ExploreCatalogue
    /// A run that takes longer than this on the wall clock is stopped and fails as `hang.wall-time`.
    /// The clock is looked at every millisecond of board time (`RunProgress`), so a run whose board
    /// time crawls is cut off; one stuck at a single instant of board time (an emulator bug: every
    /// register access and poll costs board time) would still hold the command.
    public var wallLimitSeconds: Double = 60
    /// Runs a shrink may spend on one failure.
    public var shrinkBudget = 150

    public init(spec: ScenarioSpec, profile: BoardProfile) throws(ExploreError) {
        guard let catalogue = ExploreCatalogue(spec: spec, profile: profile) else {
            throw ExploreError("explore needs a driver to disturb: mode: script has none (use receive, transmit, or driver: { command: [...] })")
        }
        self.spec = spec
        self.profile = profile
        self.catalogue = catalogue
    }

    /// Run `index`'s seed, from the explore seed: independent of the other runs and of sharding.
    public static func runSeed(seed: UInt64, run index: Int) -> UInt64 {
        var random = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return random.next()
    }

    /// What run `index` adds to the scenario.
    public func perturbation(seed: UInt64, run index: Int) -> Perturbation {
        Perturbation.draw(seed: Self.runSeed(seed: seed, run: index), spec: spec, catalogue: catalogue)
    }

    /// The scenario run `perturbation` plays, with the oracle as its expectations.
    public func scenario(for perturbation: Perturbation) -> ScenarioSpec {
        perturbation.apply(to: spec, catalogue: catalogue, oracle: ExploreOracle.expectations(for: spec, perturbation))
    }

    /// One run, played and judged.
    public struct Run: Sendable {
        public let perturbation: Perturbation
        public let scenario: ScenarioSpec
        public let outcome: ScenarioRunner.Outcome
        public let wallSeconds: Double
        /// Empty: passed.
        public let failureKinds: [String]
        public var failed: Bool { !failureKinds.isEmpty }
        /// The driver's state at the end.
        public var endState: String { outcome.measures.driverState }
    }

    /// Plays `perturbation` in this process. `handleSignals`: SIGINT/SIGTERM end the run (its
    /// outcome then says `interruptedBy`).
    public func play(_ perturbation: Perturbation, handleSignals: Bool = false, signalsSince: Reactor? = nil) throws(WorkloadError) -> Run {
        let scenario = scenario(for: perturbation)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + .nanoseconds(Int64(min(wallLimitSeconds, 1e9) * 1e9))
        var reactor: Reactor? = nil
        // Past the limit every look stops the run's current step, so the timeline ends within a
        // millisecond of board time per step left, and the run is judged with what it did.
        let outcome = try ScenarioRunner(spec: scenario, profile: profile)
            .run(handleSignals: handleSignals, signalsSince: signalsSince, trace: nil,
                 progress: { _ in if clock.now > deadline { reactor?.stop() } }, prepare: { reactor = $0 })
        let wall = clock.now - started
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        var kinds = ExploreOracle.failureKinds(outcome, spec: scenario)
        if seconds > wallLimitSeconds { kinds.append("hang.wall-time") }
        return Run(perturbation: perturbation, scenario: scenario, outcome: outcome, wallSeconds: seconds, failureKinds: kinds)
    }

    /// What shrinking a failed run found.
    public struct Shrunk: Sendable {
        /// The run of the smallest perturbation that still fails with the kind (the original run
        /// when nothing smaller does).
        public let run: Run
        /// Runs the shrink played.
        public let runs: Int
    }

    /// Shrinks a failed run's perturbation while runs of it still fail with `kind` (`Shrinker`).
    public func shrink(_ run: Run, kind: String) throws(WorkloadError) -> Shrunk {
        var shrinker = Shrinker(budget: shrinkBudget, windowEnd: catalogue.windowEnd)
        var smallest = run
        _ = try shrinker.shrink(run.perturbation) { (candidate: Perturbation) throws(WorkloadError) -> Bool in
            let played = try play(candidate)
            guard played.failureKinds.contains(kind) else { return false }
            smallest = played  // the shrinker keeps every candidate that still fails
            return true
        }
        return Shrunk(run: smallest, runs: shrinker.runs)
    }
}

public struct ExploreError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Exploration {
    /// The reproducer of a failed run: the scenario the run played (`Run.scenario`) as a file for `directory`
    /// (`board:` a name where one finds the same profile from there, else the profile's absolute
    /// path; an attached program by its absolute path), with `header` as comments.
    public func reproducer(_ scenario: ScenarioSpec, in directory: String, header: [String]) -> String {
        var scenario = scenario
        if var command = scenario.workload.command, let program = command.first, program.contains("/"), !program.hasPrefix("/") {
            command[0] = URL(fileURLWithPath: program).standardizedFileURL.path
            scenario.workload.command = command
        }
        let profilePath = URL(fileURLWithPath: profile.file).standardizedFileURL.path
        var board = profilePath
        if !BoardCatalog.looksLikePath(spec.board),
           case let .success(found) = BoardCatalog.resolve(spec.board, in: BoardCatalog.searchOrder(from: directory), relativeTo: directory),
           URL(fileURLWithPath: found).standardizedFileURL.path == profilePath {
            board = spec.board
        }
        return ScenarioWriter.yaml(scenario, board: board, header: header)
    }

    /// `repro-SEED.yaml`.
    public static func reproducerName(seed: UInt64) -> String { "repro-\(seed).yaml" }
}
