import ArgumentParser
import Board
import Driver
import Foundation
import Glibc
import Reactor
import Scenario

/// `uioemu explore <scenario>`: runs the scenario `--runs` times, each a perturbed copy drawn from
/// its own seed (`Exploration`), and checks every run: the invariants, the protocol checker, the
/// driver's end state and its progress after the faults, the board-time and wall-time bounds. A
/// failure is shrunk (the first of each kind) and written as `DIR/repro-SEED.yaml`, a scenario
/// `uioemu play` replays to the same failure; the command is printed. Exit 0: every run passed;
/// 1: a run failed; 2: invalid input; 130/143: INTERRUPTED (the summary covers the runs until then).
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore", abstract: "Run a scenario many times with random faults; shrink and write each failure as a scenario.")

    @Argument(help: "A scenario file (scenarios/NAME.yaml) with a driver: mode receive, transmit, or driver: { command: [...] }.")
    var scenario: String

    @Option(help: "Runs in all (split by --shard).", transform: NonNegative.int)
    var runs = 100

    @Option(help: "The explore seed: every run's faults and seed derive from it and the run's number.", transform: NonNegative.uint64)
    var seed: UInt64 = 1

    @Option(help: "Play the i-th of n deterministic slices of the runs, as i/n (1-based): run k belongs to slice (k mod n) + 1.")
    var shard: String?

    @Option(help: ArgumentHelp("Write each failure's reproducer (repro-SEED.yaml) in DIR (created if needed).", valueName: "DIR"))
    var out = "."

    @Flag(help: "One JSON object per line: one per run, one per failure, the summary last (shards' outputs concatenate).")
    var json = false

    @Option(name: .customLong("wall-limit"), help: "Seconds of wall time a run may take: past it the run is stopped and counts as a hang.")
    var wallLimit: Double = 60

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else boards/ above the scenario file, else the nearest boards/).")
    var boardsDirectory: String?

    func validate() throws {
        if runs == 0 { throw ValidationError("--runs: expected a positive count, found 0") }
        if let shard, ScenarioShard(shard) == nil { throw ValidationError("--shard: expected i/n with 1 ≤ i ≤ n, such as 2/4, found \(shard)") }
        if !(wallLimit > 0) { throw ValidationError("--wall-limit: expected a number of seconds above 0, found \(wallLimit)") }
    }

    func run() throws {
        let spec: ScenarioSpec
        let profile: BoardProfile
        do throws(Diagnostics) {
            spec = try ScenarioParser.load(path: scenario)
            profile = try ScenarioBoard.load(for: spec, boardsDirectory: boardsDirectory)
        } catch {
            try exitIfFailed(error)
            return
        }
        var exploration: Exploration
        do throws(ExploreError) {
            exploration = try Exploration(spec: spec, profile: profile)
        } catch {
            throw InputError(error.message, path: scenario)
        }
        exploration.wallLimitSeconds = wallLimit
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw InputError("cannot create the output directory: \((error as NSError).localizedDescription)", path: out)
        }
        let slice = ScenarioShard(shard ?? "1/1")!
        let indices = (0..<runs).filter { $0 % slice.count == slice.index - 1 }
        var report = ExploreReport(scenario: scenario, seed: seed, shard: "\(slice.index)/\(slice.count)", json: json)
        report.start(spec: spec, catalogue: exploration.catalogue, runs: indices.count, wallLimit: wallLimit)
        let signals = Reactor(clock: .virtual)
        signals.handleStopSignals()
        defer { signals.handleStopSignals(false) }
        let progress = isatty(2) == 1 && !json
        var shrunkKinds = Set<String>()
        let running = URL(fileURLWithPath: out).appendingPathComponent("explore-running.yaml").path
        let attached = ProgramOutput(onStderr: spec.mode == .attached)
        for (done, index) in indices.enumerated() {  // bounded: the shard's runs
            if let signal = signals.takeStopSignal() {
                report.interrupted = signal
                break
            }
            if progress { TerminalProgress.show("explore \(spec.name): run \(done + 1)/\(indices.count), \(report.failedRuns) failed") }
            let perturbation = exploration.perturbation(seed: seed, run: index)
            // The run plays in this process: if it traps (a precondition in the emulator or the
            // driver), this file, left behind, is the scenario that does it (removed at the end).
            try writeRunning(exploration, perturbation, index: index, to: running)
            let run: Exploration.Run
            do throws(WorkloadError) {
                run = try attached.around { () throws(WorkloadError) in try exploration.play(perturbation, handleSignals: true, signalsSince: signals) }
            } catch {
                if progress { TerminalProgress.show("") }
                throw InputError(error.message, path: scenario)
            }
            if let signal = run.outcome.interruptedBy {
                report.interrupted = signal
                break
            }
            report.record(run, index: index)
            // The first failure of each kind is shrunk and written; later ones are counted and listed.
            guard let kind = run.failureKinds.first(where: { !shrunkKinds.contains($0) }) else { continue }
            shrunkKinds.formUnion(run.failureKinds)
            if progress { TerminalProgress.show("explore \(spec.name): run \(done + 1)/\(indices.count): shrinking \(kind)...") }
            let shrunk: Exploration.Shrunk
            do throws(WorkloadError) {
                shrunk = try attached.around { () throws(WorkloadError) in try exploration.shrink(run, kind: kind) }
            } catch {
                throw InputError(error.message, path: scenario)
            }
            let file = URL(fileURLWithPath: out).appendingPathComponent(Exploration.reproducerName(seed: shrunk.run.perturbation.seed)).path
            let reproduce = (spec.workload.driver.plantedBug?.isTestOnly == true ? "\(PlantedBug.testOnlyVariable)=1 " : "")
                + "uioemu play \(shellWord(file))"
            let header = [
                "uioemu explore \(scenario) --seed \(seed): run \(index) (seed \(run.perturbation.seed)) failed: \(run.failureKinds.joined(separator: ", "))",
                "shrunk for \(kind) from \(run.perturbation.faults.count) fault(s) to \(shrunk.run.perturbation.faults.count) in \(shrunk.runs) run(s)",
                "replay: \(reproduce)",
            ]
            let text = exploration.reproducer(shrunk.run.scenario, in: URL(fileURLWithPath: out).path, header: header)
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            } catch {
                throw InputError("cannot write the reproducer: \((error as NSError).localizedDescription)", path: file)
            }
            if progress { TerminalProgress.show("") }
            report.failure(run, index: index, kind: kind, shrunk: shrunk, file: file, reproduce: reproduce)
        }
        if progress { TerminalProgress.show("") }
        try? FileManager.default.removeItem(atPath: running)
        try report.finish()
        if let signal = report.interrupted { throw ExitCode(128 + signal) }
        if report.failedRuns > 0 { throw ExitCode.failure }
    }

    /// The scenario run `index` plays, unshrunk, at `file` (before the run: see its caller).
    private func writeRunning(_ exploration: Exploration, _ perturbation: Perturbation, index: Int, to file: String) throws {
        let header = ["uioemu explore \(scenario) --seed \(seed): run \(index) (seed \(perturbation.seed)) was running when explore ended without",
                      "finishing it (a crash: replay with uioemu play on this file)"]
        let text = exploration.reproducer(exploration.scenario(for: perturbation), in: URL(fileURLWithPath: out).path, header: header)
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        } catch {
            throw InputError("cannot write: \((error as NSError).localizedDescription)", path: file)
        }
    }
}

/// An attached program inherits uioemu's stdout and stderr; explore's stdout is its report (and with
/// `--json`, one object per line), so while runs play the program's stdout goes to stderr.
struct ProgramOutput {
    let onStderr: Bool

    func around<T>(_ body: () throws(WorkloadError) -> T) throws(WorkloadError) -> T {
        guard onStderr else { return try body() }
        fflush(nil)
        let saved = dup(1)
        dup2(2, 1)
        defer {
            fflush(nil)
            dup2(saved, 1)
            close(saved)
        }
        return try body()
    }
}
