import ArgumentParser
import Board
import Checks
import Foundation
import Reactor
import Scenario
import Trace
import TraceFiles

/// `uioemu run <board>`: the default workload on a board: a counter-pattern source feeding the
/// S2MM channel, the receive driver on the board's S2MM UIO node with a ring of 8 × 4 KiB buffers,
/// every byte verified. Prints the driver's metrics and the invariants; exit 1 if one failed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the receive driver on a board with the default workload and print its metrics.")

    @Argument(help: "A shipped board's name (boards/NAME.yaml) or a profile's path.")
    var board: String

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
    var boardsDirectory: String?

    @Option(help: "Board time to run, such as 10ms or 1s (default 10ms).")
    var duration = "10ms"

    @Option(help: "Stop after this many completions instead of a duration.")
    var completions: Int?

    @Option(help: "The seed for every random choice.")
    var seed: UInt64 = 1

    @Flag(help: "Follow the wall clock instead of virtual time.")
    var realtime = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write the canonical event trace (JSON lines, virtual time in ns) to FILE.", valueName: "FILE"))
    var trace: String?

    @Option(help: ArgumentHelp("Write a Chrome/Perfetto trace-event JSON file (open it in ui.perfetto.dev).", valueName: "FILE"))
    var perfetto: String?

    @Option(help: ArgumentHelp("Write a VCD waveform of the interrupt lines, DMA status bits and driver state (GTKWave).", valueName: "FILE"))
    var vcd: String?

    @Flag(help: "Compute and print the SHA-256 of the canonical trace (on whenever --trace is given).")
    var traceHash = false

    @Flag(help: "Run the protocol checker and print its findings (off by default: it needs the tracer on the hot path).")
    var check = false

    @Flag(help: "Run the protocol checker and fail (exit 1) on any finding.")
    var strict = false

    func validate() throws {
        if DurationText.parse(duration) == nil { throw ValidationError("--duration: expected \(DurationText.expectation), found \(duration)") }
        if let completions, completions <= 0 { throw ValidationError("--completions: expected a positive count, found \(completions)") }
    }

    func run() throws {
        let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
        var configuration = WorkloadConfiguration()
        if realtime { configuration.clock = .realTime }
        let workload = try ReceiveWorkload(profile: profile, seed: seed, configuration: configuration)
        // No tracer at all unless asked: tracing off costs the hot path one branch per site. The
        // protocol checker is a sink of the tracer, so it is on only when asked (--check, --strict).
        let options = Tracer.Options(hashing: traceHash || trace != nil, jsonLinesPath: trace, perfettoPath: perfetto, vcdPath: vcd)
        let checker = check || strict ? ProtocolChecker(profile: profile) : nil
        let tracer = options.isEmpty && checker == nil ? nil
            : try Tracer(reactor: workload.reactor, options: options, also: checker.map { [$0] } ?? [])
        if let tracer { workload.attach(tracer) }
        workload.reactor.handleStopSignals()
        try workload.start()
        let wallStart = Date()
        if let completions { workload.run(completions: completions) } else { workload.run(for: DurationText.parse(duration)!) }
        let wall = Date().timeIntervalSince(wallStart)
        var report = workload.report
        // After the run, also when Ctrl-C ended it: the checker's end-of-run rules first (their
        // findings go into the trace), then the files, complete and closed.
        checker?.finish()
        report.protocolFindings = checker?.report
        try tracer?.finish()
        if json {
            print(try encodeJSON(report))
        } else {
            print("seed \(seed)\(workload.reactor.stoppedBySignal != nil ? " (stopped by signal)" : "")")
            print(report.summary)
            print(String(format: "wall time %.3f s, %.0f completions/s", wall, Double(report.completions) / max(wall, 1e-9)))
        }
        if !report.allInvariantsHold || (strict && report.protocolFindings?.isEmpty == false) { throw ExitCode.failure }
    }
}
