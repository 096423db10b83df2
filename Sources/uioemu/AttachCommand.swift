import ArgumentParser
import Attach
import Checks
import Board
import Devices
import Foundation
import Reactor
import Scenario
import Trace

/// `uioemu attach <board> -- <command> [args...]`: runs the user's own driver program, unmodified,
/// against the emulated board (DESIGN.md, "Attaching a user's driver process").
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Run your own driver program (C, Rust, Python, ...) unmodified against an emulated board.",
        discussion: """
            The program finds the board's UIO nodes and u-dma-buf buffers at their usual paths
            (/sys/class/uio, /dev/uioN, /sys/class/u-dma-buf, /dev/udmabufN, /dev/mem). Board time is
            virtual unless --time realtime: the program's clocks, sleeps and waits read and advance it.
            Exit status: 2 bad usage or input; 1 a finding, a problem or an invariant failed;
            130/143 INTERRUPTED by SIGINT/SIGTERM (the report and trace files are still written);
            otherwise the program's own status.
            """)

    @Argument(help: "A shipped board's name (boards/NAME.yaml), a profile's path, or a scenario file (its timeline, stream and expectations apply to the command).")
    var board: String

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
    var boardsDirectory: String?

    @Option(help: "virtual (default) or realtime.")
    var time = "virtual"

    @Option(help: "The seed for every random choice.", transform: NonNegative.uint64)
    var seed: UInt64 = 1

    @Option(help: "Stop the program after this much board time (default: run until it exits).")
    var duration: String?

    @Flag(help: "Wire each AXI DMA's MM2S stream back into its S2MM channel (an AXI-Stream FIFO in the fabric), packet boundaries kept.")
    var loopback = false

    @Option(name: .customLong("loopback-add"), help: ArgumentHelp("With --loopback: add N to every 32-bit word on the way back (a test accelerator).", valueName: "N"))
    var loopbackAdd: UInt32?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var traceOptions: TraceOptions

    @Flag(help: "Fail (exit 1) on any protocol finding.")
    var strict = false

    func validate() throws {
        guard time == "virtual" || time == "realtime" else { throw ValidationError("--time: expected virtual or realtime, found \(time)") }
        if let duration { _ = try parseDuration(duration) }
        if command.isEmpty { throw ValidationError("expected a command after --, such as: uioemu attach \(board) -- ./my-driver") }
    }

    func run() throws {
        if board.hasSuffix(".yaml") || board.hasSuffix(".yml"), let spec = try? ScenarioParser.load(path: board) {
            return try play(spec)
        }
        let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
        try OutputFiles.check(traceOptions.outputs(), inputs: [profile.file])
        let preload = try Result { () throws(AttachError) in try AttachSession.locatePreloadLibrary() }
            .mapError { InputError($0.message) }.get()
        var configuration = AttachWorkload.Configuration(session: AttachSession.Options(command: command, preloadLibrary: preload))
        configuration.clock = time == "realtime" ? .realTime : .virtual
        if loopback || loopbackAdd != nil { configuration.loopback = loopbackAdd.map { .addToWords($0) } ?? StreamLoopback.Transform.none }
        let made = Result { () throws(WorkloadError) in
            try AttachWorkload(profile: profile, seed: seed, configuration: configuration)
        }
        guard case let .success(workload) = made else {
            if case let .failure(error) = made { throw InputError(error.message) }
            return
        }
        // The checker always runs: an attached program's every register access is a round trip to
        // another process, beside which checking its events costs nothing to speak of.
        let checker = ProtocolChecker(profile: profile)
        let options = traceOptions.tracerOptions(hashByDefault: false) ?? Tracer.Options(hashing: false)
        let tracer: Tracer
        do throws(TraceError) { tracer = try Tracer(reactor: workload.reactor, options: options, also: [checker]) } catch {
            throw OutputFiles.writeError(error)
        }
        workload.attach(tracer)
        workload.reactor.handleStopSignals()
        if case let .failure(error) = Result(catching: { () throws(WorkloadError) in try workload.start() }) {
            if error.isInputError { throw InputError(error.message) }
            var stderr = StandardError()
            print("uioemu attach: \(error.message)", to: &stderr)
            throw ExitCode(1)
        }
        let limit = duration.flatMap(DurationText.parse).map { Instant.start + $0 }
        let progressed = workload.run(until: limit)
        let stuck = !progressed && !workload.session.isFinished && !workload.session.wantsStop
        let boardTime = workload.reactor.now
        let interrupted = workload.reactor.interruptedBy
        workload.finish()
        checker.finish()
        var hash: String? = nil
        var writeError: TraceError? = nil
        do throws(TraceError) { hash = try tracer.finish() } catch {
            writeError = error
            hash = tracer.hash
        }
        let report = AttachReport(workload: workload, seed: seed, traceHash: hash, stuckAt: stuck ? boardTime : nil, interruptedBy: interrupted,
                                  protocolFindings: checker.report, strict: strict)
        print(json ? try encodeJSON(report) : report.summary)
        if let writeError { throw OutputFiles.writeError(writeError) }
        throw ExitCode(report.exitStatus)
    }
}

extension AttachCommand {
    /// `uioemu attach scenario.yaml -- CMD`: the scenario played with CMD as its driver (replacing a
    /// `driver: { command: }` the file may name), reported like `play`.
    func play(_ scenario: ScenarioSpec) throws {
        var spec = scenario
        spec.workload.command = command
        spec.mode = .attached
        if time == "realtime" { spec.workload.clock = .realTime }
        if loopback || loopbackAdd != nil { spec.workload.loopback = loopbackAdd.map { .addToWords($0) } ?? StreamLoopback.Transform.none }
        var board = spec.board
        if BoardCatalog.looksLikePath(board) && !board.hasPrefix("/") {
            board = URL(fileURLWithPath: spec.file).deletingLastPathComponent().appendingPathComponent(board).path
        }
        let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
        let options = traceOptions.tracerOptions(hashByDefault: true)
        let start = Date()
        let outcome: ScenarioRunner.Outcome
        do throws(WorkloadError) {
            outcome = try ScenarioRunner(spec: spec, profile: profile, seed: seed, strict: strict).run(handleSignals: true, trace: options)
        } catch {
            if error.isInputError { throw ValidationError(error.message) }
            var stderr = StandardError()
            print("\(spec.boardLocation): error: \(error)", to: &stderr)
            throw ExitCode(2)
        }
        let wall = Date().timeIntervalSince(start)
        if json {
            print(try encodeJSON(PlayResult(outcome, wall: wall)))
        } else {
            print(PlayLine.line(outcome, wall: wall))
            for line in outcome.findings.lines { print("    \(line)") }
            for failure in outcome.failures { print("    \(failure)") }
            if let hash = outcome.traceHash, traceOptions.traceHash == true || traceOptions.trace != nil { print("trace-hash \(hash)") }
            if !outcome.passed { print("    reproduce: uioemu attach \(shellWord(spec.file)) --seed \(outcome.seed) -- \(command.map(shellWord).joined(separator: " "))") }
        }
        if outcome.verdict != .pass { throw ExitCode(outcome.verdict.exitStatus) }
    }
}
