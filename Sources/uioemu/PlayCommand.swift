import ArgumentParser
import Board
import Checks
import Foundation
import Glibc
import Scenario
import Trace
import TraceFiles

/// `uioemu play <scenario>...`: plays scenarios and prints one summary line each; for a failure,
/// the expectation that failed (expected vs actual, with its file:line:column) and the command that
/// reproduces it. Exit 0: all passed; 1: an expectation failed; 2: invalid input.
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "play", abstract: "Play scenario files and check their expectations.")

    @Argument(help: "Scenario files (scenarios/NAME.yaml).")
    var scenarios: [String]

    @Option(help: "Override every scenario's seed.")
    var seed: UInt64?

    @Option(help: "Play the i-th of n deterministic slices of the scenario list, as i/n (1-based).")
    var shard: String?

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
    var boardsDirectory: String?

    @Flag(help: "One JSON object per scenario instead of the table.")
    var json = false

    @Flag(help: "Follow the wall clock, whatever the scenarios say.")
    var realtime = false

    @Option(help: "Write the canonical event trace (JSON lines) here; with several scenarios, NAME is added before the extension.")
    var trace: String?

    @Option(help: "Write a Chrome/Perfetto trace (open it in ui.perfetto.dev).")
    var perfetto: String?

    @Option(help: "Write interrupt lines, DMASR bits and driver states as VCD (open it in GTKWave).")
    var vcd: String?

    @Flag(name: .customLong("no-trace-hash"), help: "Skip the trace hash (faster).")
    var noTraceHash = false

    @Flag(help: "Fail a scenario on any protocol finding its expectations do not name (findings: { RULE-ID: N }).")
    var strict = false

    func validate() throws {
        if scenarios.isEmpty { throw ValidationError("Give at least one scenario file.") }
        if let shard, ScenarioShard(shard) == nil { throw ValidationError("--shard: expected i/n with 1 ≤ i ≤ n, such as 2/4, found \(shard)") }
    }

    func run() throws {
        // Parse everything first: invalid input is exit 2, before anything runs.
        var specs: [ScenarioSpec] = []
        var diagnostics = Diagnostics()
        for file in ScenarioShard(shard ?? "1/1")!.slice(scenarios) {
            do throws(Diagnostics) {
                specs.append(try ScenarioParser.load(path: file))
            } catch {
                diagnostics.append(contentsOf: error)
            }
        }
        try exitIfFailed(diagnostics)
        var failed = false
        let terminal = isatty(1) == 1
        let progress = isatty(2) == 1
        for var spec in specs {
            if realtime { spec.workload.clock = .realTime }
            let profile = try loadBoard(for: spec)
            if progress && !json { Self.progress("playing \(spec.name) (\(spec.duration) of board time)...") }
            let start = Date()
            let outcome: ScenarioRunner.Outcome
            do throws(WorkloadError) {
                outcome = try ScenarioRunner(spec: spec, profile: profile, seed: seed, strict: strict)
                    .run(handleSignals: true, trace: traceOptions(for: spec, among: specs.count))
            } catch {
                var stderr = StandardError()
                print("\(spec.boardLocation): error: \(error)", to: &stderr)
                throw ExitCode(2)
            }
            let wall = Date().timeIntervalSince(start)
            if progress && !json { Self.progress("") }
            if !outcome.passed { failed = true }
            if json {
                print(try encodeJSON(PlayResult(outcome, wall: wall)).replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: "  ", with: ""))
            } else {
                print(Self.line(outcome, wall: wall, colour: terminal))
                for line in outcome.findings.lines { print("    \(line)") }
                for failure in outcome.failures { print("    \(failure)") }
                if !outcome.passed { print("    reproduce: uioemu play \(spec.file) --seed \(outcome.seed)") }
            }
            if outcome.stoppedBySignal { break }
        }
        if failed { throw ExitCode.failure }
    }

    /// What to record: the hash unless told not to, and the files asked for (one set per scenario).
    private func traceOptions(for spec: ScenarioSpec, among count: Int) -> Tracer.Options? {
        func path(_ file: String?) -> String? {
            guard let file, count > 1 else { return file }
            let url = URL(fileURLWithPath: file)
            let ext = url.pathExtension
            let base = url.deletingPathExtension().path
            return ext.isEmpty ? "\(base).\(spec.name)" : "\(base).\(spec.name).\(ext)"
        }
        let options = Tracer.Options(hashing: !noTraceHash, jsonLinesPath: path(trace), perfettoPath: path(perfetto), vcdPath: path(vcd))
        return options.hashing || trace != nil || perfetto != nil || vcd != nil ? options : nil
    }

    private func loadBoard(for spec: ScenarioSpec) throws -> BoardProfile {
        // A path is relative to the scenario file; a bare name is a shipped board.
        var board = spec.board
        if BoardCatalog.looksLikePath(board) && !board.hasPrefix("/") {
            board = URL(fileURLWithPath: spec.file).deletingLastPathComponent().appendingPathComponent(board).path
        }
        return try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
    }

    /// One aligned line: result, name, figures, board time, wall time, speed vs real time, rate.
    static func line(_ o: ScenarioRunner.Outcome, wall: Double, colour: Bool = false) -> String {
        let speed = wall > 0 ? o.virtualSeconds / wall : 0
        let name = o.scenario.padding(toLength: 28, withPad: " ", startingAt: 0)
        var result = o.passed ? "PASS" : "FAIL"
        if colour { result = (o.passed ? "\u{1B}[32m" : "\u{1B}[31;1m") + result + "\u{1B}[0m" }
        return "\(result)  \(name) completions \(pad(o.completions, 8))  delivered \(pad(HumanUnits.bytes(o.bytesDelivered), 10))"
            + "  dropped \(pad(HumanUnits.bytes(o.bytesDropped), 9))  violations \(pad(o.violations, 3))"
            + "  \(pad(HumanUnits.seconds(o.virtualSeconds), 8)) board in \(pad(HumanUnits.seconds(wall), 8))"
            + "  \(pad(String(format: "%.1fx", speed), 8)) real time  \(pad(HumanUnits.rate(Double(o.completions) / max(wall, 1e-9)), 8))"
            + (o.traceHash.map { "  trace \($0.prefix(12))" } ?? "")
    }

    /// A progress line on stderr, rewritten in place (only when stderr is a terminal).
    static func progress(_ text: String) {
        var stderr = StandardError()
        print("\r\u{1B}[K" + text, terminator: "", to: &stderr)
    }

    private static func pad(_ v: Any, _ width: Int) -> String {
        let s = "\(v)"
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

/// The `--json` object of one scenario (keys as the issue names them).
struct PlayResult: Encodable {
    let scenario: String
    let result: String
    let completions: Int
    let bytes_delivered: UInt64
    let bytes_dropped: UInt64
    let lost_irqs: Int
    let spurious_irqs: Int
    let recoveries: Int
    let violations: Int
    let trace_hash: String?
    /// The protocol checker's findings by rule id, and the first of them in detail.
    let findings: [String: Int]
    let finding_details: [FindingDetail]
    let wall_seconds: Double
    let virtual_seconds: Double
    let failures: [String]

    init(_ o: ScenarioRunner.Outcome, wall: Double) {
        scenario = o.scenario
        result = o.passed ? "PASS" : "FAIL"
        completions = o.completions
        bytes_delivered = o.bytesDelivered
        bytes_dropped = o.bytesDropped
        lost_irqs = o.lostInterrupts
        spurious_irqs = o.spuriousInterrupts
        recoveries = o.recoveries
        violations = o.violations
        trace_hash = o.traceHash
        findings = o.findings.counts
        finding_details = o.findings.findings.prefix(32).map(FindingDetail.init)
        wall_seconds = wall
        virtual_seconds = o.virtualSeconds
        failures = o.failures.map(\.description)
    }
}

/// One protocol finding in `--json`: the rule, the board time and where, with the fix.
struct FindingDetail: Encodable {
    let rule: String
    let time_ns: Int64
    let device: String
    let register: String
    let values: String
    let fix: String

    init(_ finding: ProtocolFinding) {
        rule = finding.rule.id
        time_ns = finding.nanoseconds
        device = finding.device
        register = finding.register
        values = finding.values
        fix = finding.rule.fix
    }
}

/// Numbers for people: `4.0 KiB`, `12.3 µs`.
enum HumanUnits {
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Per second: `1.2 M/s`, `350 k/s`.
    static func rate(_ perSecond: Double) -> String {
        if perSecond >= 1e6 { return String(format: "%.1f M/s", perSecond / 1e6) }
        if perSecond >= 1e3 { return String(format: "%.0f k/s", perSecond / 1e3) }
        return String(format: "%.0f /s", perSecond)
    }

    static func seconds(_ s: Double) -> String {
        if s >= 1 { return String(format: "%.2f s", s) }
        if s >= 1e-3 { return String(format: "%.1f ms", s * 1e3) }
        if s >= 1e-6 { return String(format: "%.1f µs", s * 1e6) }
        return String(format: "%.0f ns", s * 1e9)
    }
}
