import Foundation
import Reactor
import Scenario

/// What `explore` prints: a line per failure (with its reproducer and the command that replays
/// it) and a summary, or with `--json` one object per line: `"record": "run"` for every run,
/// `"failure"` for each shrunk failure, `"summary"` last. Shards' JSON outputs concatenate.
struct ExploreReport {
    let scenario: String
    let seed: UInt64
    let shard: String
    let json: Bool
    private(set) var runs = 0
    private(set) var failedRuns = 0
    private var faultsByKind: [String: Int] = [:]
    private var failuresByKind: [String: Int] = [:]


    private var longestBoardTime: Int64 = 0
    private var longestWall: Double = 0
    private var boardTimeBound: TimeSpan = .zero
    private var wallLimit: Double = 0
    var interrupted: Int32? = nil
    /// Failing runs printed in full (text); the rest are counted.
    static let failuresShown = 20

    init(scenario: String, seed: UInt64, shard: String, json: Bool) {
        self.scenario = scenario
        self.seed = seed
        self.shard = shard
        self.json = json
    }

    mutating func start(spec: ScenarioSpec, catalogue: ExploreCatalogue, runs: Int, wallLimit: Double) {
        boardTimeBound = spec.duration
        self.wallLimit = wallLimit
        guard !json else { return }
        print("explore \(spec.name) (\(scenario)): seed \(seed), shard \(shard): \(runs) run(s) of \(spec.duration) of board time")
        print("faults drawn from: \(catalogue.kinds.map(\.rawValue).joined(separator: ", "))")
    }

    struct RunRecord: Encodable {
        let record = "run"
        let scenario: String
        let run: Int
        let seed: UInt64
        let result: String
        let failureKinds: [String]
        let faults: [String]
        let endState: String
        let completions: Int
        let boardTimeNanoseconds: Int64
        let wallSeconds: Double
    }

    mutating func record(_ run: Exploration.Run, index: Int) {
        runs += 1
        for (kind, count) in run.perturbation.faultsByKind { faultsByKind[kind, default: 0] += count }
        longestBoardTime = max(longestBoardTime, run.outcome.boardTime.nanosecondsSinceStart)
        longestWall = max(longestWall, run.wallSeconds)
        if run.failed {
            failedRuns += 1
            for kind in run.failureKinds { failuresByKind[kind, default: 0] += 1 }
        }
        if json {
            printJSON(RunRecord(scenario: scenario, run: index, seed: run.perturbation.seed, result: run.failed ? "fail" : "pass",
                                failureKinds: run.failureKinds, faults: run.perturbation.faults.map(\.description), endState: run.endState,
                                completions: run.outcome.completions, boardTimeNanoseconds: run.outcome.boardTime.nanosecondsSinceStart,
                                wallSeconds: run.wallSeconds))
        } else if run.failed && failedRuns <= Self.failuresShown {
            print("FAIL  run \(index) seed \(run.perturbation.seed): \(run.failureKinds.joined(separator: ", "))")
            for line in run.outcome.failures.prefix(3) { print("    \(line.message)") }
            if failedRuns == Self.failuresShown { print("(later failing runs are counted in the summary; --json lists every run)") }
        }
    }

    struct FailureRecord: Encodable {
        let record = "failure"
        let scenario: String
        let run: Int
        let seed: UInt64
        let kind: String
        let failureKinds: [String]
        let faults: [String]
        let shrunkFaults: [String]
        let shrinkRuns: Int
        let repro: String
        let reproduce: String
    }

    mutating func failure(_ run: Exploration.Run, index: Int, kind: String, shrunk: Exploration.Shrunk, file: String, reproduce: String) {
        let faults = shrunk.run.perturbation.faults
        if json {
            printJSON(FailureRecord(scenario: scenario, run: index, seed: run.perturbation.seed, kind: kind, failureKinds: run.failureKinds,
                                    faults: run.perturbation.faults.map(\.description), shrunkFaults: faults.map(\.description),
                                    shrinkRuns: shrunk.runs, repro: file, reproduce: reproduce))
            return
        }
        if failedRuns > Self.failuresShown { print("FAIL  run \(index) seed \(run.perturbation.seed): \(run.failureKinds.joined(separator: ", "))") }
        print("    shrunk for \(kind): \(run.perturbation.faults.count) fault(s) → \(faults.count) in \(shrunk.runs) run(s)"
              + (faults.isEmpty ? " (it fails without any)" : ": " + faults.map(\.description).joined(separator: "; ")))
        print("    repro: \(file)")
        print("    reproduce: \(reproduce)")
    }

    struct SummaryRecord: Encodable {
        let record = "summary"
        let scenario: String
        let seed: UInt64
        let shard: String
        let result: String
        let signal: String?
        let runs: Int
        let failedRuns: Int
        let faultsByKind: [String: Int]
        let failuresByKind: [String: Int]
        let longestBoardTimeNanoseconds: Int64
        let boardTimeBoundNanoseconds: Int64
        let longestWallSeconds: Double
        let wallLimitSeconds: Double
    }

    func finish() throws {
        let verdict = Verdict(failed: failedRuns > 0, interruptedBy: interrupted)
        if json {
            printJSON(SummaryRecord(scenario: scenario, seed: seed, shard: shard, result: verdict.jsonValue, signal: interrupted.map(Verdict.signalName),
                                    runs: runs, failedRuns: failedRuns, faultsByKind: faultsByKind, failuresByKind: failuresByKind,
                                    longestBoardTimeNanoseconds: longestBoardTime, boardTimeBoundNanoseconds: boardTimeBound.nanoseconds,
                                    longestWallSeconds: longestWall, wallLimitSeconds: wallLimit))
            return
        }
        let faults = faultsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let failures = failuresByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("runs: \(runs), \(failedRuns) failed; faults tried: \(faults.isEmpty ? "none" : faults)")
        print("failures by kind: \(failures.isEmpty ? "none" : failures)")
        print("bounds: board time \(TimeSpan(nanoseconds: longestBoardTime)) at most (the scenario's duration, \(boardTimeBound));"
              + String(format: " wall time %.3f s at most per run (limit %.0f s)", longestWall, wallLimit))
        if let interrupted {
            print("INTERRUPTED by \(Verdict.signalName(interrupted)) after \(runs) run(s) (exit \(128 + interrupted)): the summary covers the runs until then")
        } else {
            print("\(verdict.word) (\(runs) run(s), seed \(seed), shard \(shard))")
        }
    }

    private func printJSON(_ value: some Encodable) {
        if let line = try? encodeJSONLine(value) { print(line) }
    }
}
