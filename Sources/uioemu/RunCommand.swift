import ArgumentParser
import Board
import Checks
import Foundation
import Reactor
import Scenario
import Trace
import TraceFiles

/// `uioemu run <board>`: the default workload on a board: a counter-pattern source feeding the
/// S2MM channel, the receive driver on the board's first receive UIO node (or `--uio`) with a ring
/// of 8 × 4 KiB buffers, every byte verified. Prints the driver's metrics and the invariants.
/// Exit 0: PASS; 1: an invariant failed, the driver failed, or the run stopped short of
/// `--completions`; 2: invalid input; 130/143: INTERRUPTED by SIGINT/SIGTERM (the summary and the
/// trace files are still written).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the receive driver on a board with the default workload and print its metrics.")

    @Argument(help: "A shipped board's name (boards/NAME.yaml) or a profile's path.")
    var board: String

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
    var boardsDirectory: String?

    @Option(help: "The UIO node the driver opens (default: the board's first node on an S2MM interrupt).")
    var uio: String?

    @Option(help: "Board time to run: a number and ns, us, ms, s, min or h, such as 10ms or 1.5s (default 10ms).")
    var duration = "10ms"

    @Option(help: "Stop after this many completions instead of a duration.", transform: NonNegative.int)
    var completions: Int?

    @Option(help: "The seed for every random choice.", transform: NonNegative.uint64)
    var seed: UInt64 = 1

    @Flag(help: "Follow the wall clock instead of virtual time.")
    var realtime = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var traceOptions: TraceOptions

    @Flag(help: "Run the protocol checker and print its findings (off by default: it needs the tracer on the hot path).")
    var check = false

    @Flag(help: "Run the protocol checker and fail (exit 1) on any finding.")
    var strict = false

    func validate() throws {
        _ = try parseDuration(duration)
        if let completions, completions == 0 { throw ValidationError("--completions: expected a positive count, found 0") }
    }

    func run() throws {
        let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
        try OutputFiles.check(traceOptions.outputs(), inputs: [profile.file])
        var configuration = WorkloadConfiguration()
        if realtime { configuration.clock = .realTime }
        configuration.uioNode = uio
        let workload: ReceiveWorkload
        do throws(WorkloadError) {
            workload = try ReceiveWorkload(profile: profile, seed: seed, configuration: configuration)
        } catch {
            throw InputError(error.message)
        }
        // No tracer at all unless asked: tracing off costs the hot path one branch per site. The
        // protocol checker is a sink of the tracer, so it is on only when asked (--check, --strict).
        let checker = check || strict ? ProtocolChecker(profile: profile) : nil
        var tracer: Tracer? = nil
        let options = traceOptions.tracerOptions(hashByDefault: false) ?? (checker != nil ? Tracer.Options(hashing: false) : nil)
        if let options {
            do throws(TraceError) { tracer = try Tracer(reactor: workload.reactor, options: options, also: checker.map { [$0] } ?? []) } catch {
                throw OutputFiles.writeError(error)
            }
        }
        if let tracer { workload.attach(tracer) }
        workload.reactor.handleStopSignals()
        try workload.start()
        let runDuration = try parseDuration(duration)
        let progress = TerminalProgress.make(label: profile.name, goal: completions.map { .completions($0) } ?? .boardTime(workload.reactor.now + runDuration),
                                             json: json)
        let probe = progress.map { RunProgress(workload: workload, report: $0.update) }
        let wallStart = Date()
        var stall: WorkloadStall? = nil
        if let completions {
            do throws(WorkloadStall) { try workload.run(completions: completions) } catch { stall = error }
        } else {
            workload.run(for: runDuration)
        }
        let wall = Date().timeIntervalSince(wallStart)
        probe?.cancel()
        progress?.clear()
        // After the run, also when a signal ended it: the checker's end-of-run rules first (their
        // findings go into the trace), then the files, complete and closed.
        checker?.finish()
        var writeError: TraceError? = nil
        do throws(TraceError) { try tracer?.finish() } catch { writeError = error }
        var run = workload.report
        run.protocolFindings = checker?.report
        let report = RunReport(run, seed: seed, stall: stall, interruptedBy: workload.reactor.interruptedBy,
                               strictFindings: strict ? checker?.report.total ?? 0 : 0)
        if json {
            print(try encodeJSON(report))
        } else {
            print(report.text)
            print(String(format: "wall time %.3f s, %.0f completions/s", wall, Double(report.run.completions) / max(wall, 1e-9)))
        }
        if let writeError { throw OutputFiles.writeError(writeError) }
        if report.verdict != .pass { throw ExitCode(report.verdict.exitStatus) }
    }
}

/// What `run` reports: the workload's report, the seed, and the verdict (PASS only when every
/// invariant held, the driver did not fail and the run reached its goal; INTERRUPTED after a stop
/// signal whatever it found).
struct RunReport: Encodable {
    let seed: UInt64
    let result: Verdict
    let run: WorkloadReport
    /// Why the run failed beyond an invariant: it stopped short of its goal, the driver failed.
    let problems: [String]

    var verdict: Verdict { result }

    /// `strictFindings`: protocol findings under `--strict`, each a failure.
    init(_ run: WorkloadReport, seed: UInt64, stall: WorkloadStall?, interruptedBy signal: Int32?, strictFindings: Int = 0) {
        self.seed = seed
        self.run = run
        var problems: [String] = []
        if strictFindings > 0 { problems.append("--strict: \(strictFindings) protocol finding(s)") }
        if let stall { problems.append(stall.description) }
        if run.driverState.hasPrefix("failed") { problems.append("the driver ended in state \(run.driverState)") }
        self.problems = problems
        result = Verdict(failed: !problems.isEmpty || !run.allInvariantsHold, interruptedBy: signal)
    }

    var text: String {
        var lines = ["seed \(seed)", run.summary]
        for problem in problems { lines.append("FAIL \(problem)") }
        if case let .interrupted(signal) = result {
            lines.append(Verdict.interruptionLine(signal: signal, at: Instant(nanosecondsSinceStart: run.boardTimeNanoseconds)))
        } else {
            lines.append(result.word)
        }
        return lines.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey { case seed, result, problems, signal }

    /// One flat object, as `play` and `attach` print: the report's fields, then the seed, the result
    /// and the problems (and the signal of an interrupted run).
    func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seed, forKey: .seed)
        try container.encode(result, forKey: .result)
        try container.encode(problems, forKey: .problems)
        if case let .interrupted(signal) = result { try container.encode(Verdict.signalName(signal), forKey: .signal) }
    }
}
