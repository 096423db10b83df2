import ArgumentParser
import Board
import Checks
import Foundation
import Glibc
import Reactor
import Scenario
import Trace
import TraceFiles

/// `uioemu play <scenario>...`: plays scenarios and prints one summary line each; for a failure,
/// every check that failed (expected vs actual, with its file:line:column) and the command that
/// reproduces it. Exit 0: all passed; 1: a check failed; 2: invalid input or a file that could not
/// be written; 130/143: INTERRUPTED by SIGINT/SIGTERM (the lines, traces and JUnit file of what ran
/// are still written).
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "play", abstract: "Play scenario files and check their expectations.")

    @Argument(help: "Scenario files (scenarios/NAME.yaml).")
    var scenarios: [String]

    @Option(help: "Override every scenario's seed.", transform: NonNegative.uint64)
    var seed: UInt64?

    @Option(help: "Play the i-th of n deterministic slices of the scenario list, as i/n (1-based).")
    var shard: String?

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else boards/ above the scenario file, else the nearest boards/).")
    var boardsDirectory: String?

    @Flag(help: "One JSON object per scenario instead of the table.")
    var json = false

    @Flag(help: "Follow the wall clock, whatever the scenarios say.")
    var realtime = false

    @OptionGroup var traceOptions: TraceOptions

    @Option(help: ArgumentHelp("Write a JUnit XML report to FILE: one test case per scenario, failures with expected vs actual and the reproduce command.", valueName: "FILE"))
    var junit: String?

    @Option(help: ArgumentHelp("For each scenario that fails, keep its trace, Perfetto and VCD files in DIR (NAME.trace.jsonl, NAME.perfetto.json, NAME.vcd).", valueName: "DIR"))
    var artifacts: String?

    @Flag(help: "Fail a scenario on any protocol finding its expectations do not name (findings: { RULE-ID: N }).")
    var strict = false

    func validate() throws {
        if scenarios.isEmpty { throw ValidationError("Give at least one scenario file.") }
        if let shard, ScenarioShard(shard) == nil { throw ValidationError("--shard: expected i/n with 1 ≤ i ≤ n, such as 2/4, found \(shard)") }
    }

    func run() throws {
        // Parse everything and find every board first: invalid input is exit 2, before anything runs.
        var specs: [(spec: ScenarioSpec, profile: BoardProfile)] = []
        var diagnostics = Diagnostics()
        for file in ScenarioShard(shard ?? "1/1")!.slice(scenarios) {
            do throws(Diagnostics) {
                let spec = try ScenarioParser.load(path: file)
                specs.append((spec, try ScenarioBoard.load(for: spec, boardsDirectory: boardsDirectory)))
            } catch {
                diagnostics.append(contentsOf: error)
            }
        }
        try exitIfFailed(diagnostics)
        let plan = PlayFiles(traceOptions: traceOptions, artifacts: artifacts, junit: junit, scenarioCount: specs.count)
        try OutputFiles.check(specs.flatMap { plan.outputs(for: $0.spec) } + (junit.map { [.init(option: "--junit", path: $0)] } ?? []),
                              inputs: specs.flatMap { [$0.spec.file, $0.profile.file] })
        try plan.prepareArtifactsDirectory()
        // Signals are handled for the whole command, not only while a scenario runs: one that comes
        // between two scenarios ends the play as cleanly as one during a scenario.
        let signals = Reactor(clock: .virtual)
        signals.handleStopSignals()
        defer { signals.handleStopSignals(false) }
        var cases: [JUnitReport.Case] = []
        var verdicts: [Verdict] = []
        let terminal = isatty(1) == 1
        for (index, (original, profile)) in specs.enumerated() {
            if let signal = signals.takeStopSignal() {
                notPlayed(specs.dropFirst(index).map(\.spec), into: &cases)
                verdicts.append(.interrupted(signal: signal))
                if json {
                    // The scenario it kept from starting, so that the JSON lines say why the play ended.
                    print(try encodeJSONLine(PlayResult(notStarted: original, seed: seed ?? original.seed, signal: signal, played: index, of: specs.count)))
                } else {
                    print("INTERRUPTED by \(Verdict.signalName(signal)) between scenarios (exit \(128 + signal)): \(index) of \(specs.count) played")
                }
                break
            }
            var spec = original
            if realtime { spec.workload.clock = .realTime }
            // Not beside an attached program: it writes to the same terminal, and the line would tear its output.
            let progress = spec.mode == .attached ? nil : TerminalProgress.make(label: spec.name, goal: .boardTime(.start + spec.duration), json: json)
            let start = Date()
            let outcome: ScenarioRunner.Outcome
            do throws(WorkloadError) {
                outcome = try ScenarioRunner(spec: spec, profile: profile, seed: seed, strict: strict)
                    .run(handleSignals: true, signalsSince: signals, trace: plan.tracerOptions(for: spec), progress: progress?.update)
            } catch {
                throw InputError(error.message, path: spec.file)
            }
            let wall = Date().timeIntervalSince(start)
            progress?.clear()
            let reproduce = "uioemu play \(shellWord(spec.file)) --seed \(outcome.seed)"
            cases.append(JUnitReport.Case(name: spec.name, file: spec.file, seconds: wall, outcome: outcome, reproduce: reproduce))
            verdicts.append(outcome.verdict)
            if json {
                print(try encodeJSONLine(PlayResult(outcome, wall: wall)))
            } else {
                print(PlayLine.line(outcome, wall: wall, colour: terminal))
                for line in outcome.findings.lines { print("    \(line)") }
                for failure in outcome.failures { print("    \(failure)") }
                if case let .interrupted(signal) = outcome.verdict {
                    print("    " + Verdict.interruptionLine(signal: signal, at: outcome.boardTime))
                } else if !outcome.passed {
                    print("    reproduce: \(reproduce)")
                }
            }
            let kept = plan.keepArtifacts(for: spec, failed: !outcome.passed)
            if !kept.isEmpty && !json { print("    artifacts: \(kept.joined(separator: ", "))") }
            if let error = outcome.traceWriteError {
                try writeJUnit(cases)
                throw OutputFiles.writeError(error)
            }
            if outcome.stoppedBySignal {
                notPlayed(specs.dropFirst(index + 1).map(\.spec), into: &cases)
                break
            }
        }
        try writeJUnit(cases)
        if let interrupted = verdicts.first(where: { if case .interrupted = $0 { return true } else { return false } }) {
            throw ExitCode(interrupted.exitStatus)
        }
        if verdicts.contains(.fail) { throw ExitCode.failure }
    }

    /// The scenarios an interruption kept from playing, for the JUnit report.
    private func notPlayed(_ specs: [ScenarioSpec], into cases: inout [JUnitReport.Case]) {
        for spec in specs { cases.append(JUnitReport.Case(name: spec.name, file: spec.file, seconds: 0, outcome: nil, reproduce: "")) }
    }

    private func writeJUnit(_ cases: [JUnitReport.Case]) throws {
        guard let junit else { return }
        do {
            try Data(JUnitReport(cases: cases).xml.utf8).write(to: URL(fileURLWithPath: junit))
        } catch {
            throw InputError("cannot write the JUnit report: \((error as NSError).localizedDescription)", path: junit)
        }
    }
}
