import Board
import Devices
import Foundation
import Scenario
import Trace
import TraceFiles

/// Issue 17, targets 1 and 2: what recording the canonical trace costs. The traced rows run the
/// `e2e` row's job (peer timing, 4 KiB counter pattern written and verified) with the trace hashed
/// (what `play` does by default), and hashed with the JSON-lines file written too; the `play` rows
/// run the `uioemu` executable itself on a 1 M-completion steady stream, next to `uioemu run` of the
/// same job. Every ratio is against the untraced figure of the same run of the benchmark.
enum TracedRows {
    /// What a traced run records.
    enum Recording: String {
        /// The hash only (`play`'s default).
        case hash
        /// The hash and the JSON-lines file (`play --trace FILE`).
        case hashAndFile = "hash+file"
    }

    /// The `e2e` row's workload (`EndToEnd.workload(_:source: .paced, pattern: .counter,
    /// bufferBytes: 4096)`) with a tracer attached before it starts; the JSON-lines file, if any,
    /// goes to a temporary path that `finish` removes.
    final class TracedWorkload {
        let workload: ReceiveWorkload
        let tracer: Tracer
        let file: String?

        init(_ profile: BoardProfile, recording: Recording) throws {
            var c = EndToEnd.peerConfiguration()
            c.driver.ringSize = 8
            c.driver.bufferBytes = 4096
            c.source.packetSize = .fixed(4096)
            c.pattern = .counter
            workload = try ReceiveWorkload(profile: profile, configuration: c)
            file = recording == .hashAndFile
                ? FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-bench-trace-\(getpid()).jsonl").path : nil
            do throws(TraceError) {
                tracer = try Tracer(reactor: workload.reactor, options: .init(hashing: true, jsonLinesPath: file))
            } catch {
                throw BenchError("trace: \(error)")
            }
            workload.attach(tracer)
            try workload.start()
        }

        /// Closes the trace (the file is complete and the hash final) and removes the file.
        func finish() throws {
            defer { if let file { try? FileManager.default.removeItem(atPath: file) } }
            do throws(TraceError) { try tracer.finish() } catch { throw BenchError("trace: \(error)") }
        }
    }

    /// ns per completion of `completions` traced completions after a warm-up of a tenth as many,
    /// and whether the run's invariants held.
    static func measure(_ profile: BoardProfile, recording: Recording, completions: Int) throws -> (ns: Double, invariantsHeld: Bool) {
        let traced = try TracedWorkload(profile, recording: recording)
        let warm = completions / 10 + 1
        try traced.workload.run(completions: warm)
        let t0 = DispatchTime.now().uptimeNanoseconds
        try traced.workload.run(completions: warm + completions)
        let ns = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(completions)
        try traced.finish()
        return (ns, traced.workload.report.allInvariantsHold)
    }

    /// `uioemu-bench virtual-timers N --case e2e-trace|e2e-trace-file`: n plus a warm-up of n/10 + 1
    /// traced completions and nothing else, for callgrind (the gate's traced cases).
    static func loop(_ recording: Recording, completions: Int) throws {
        let traced = try TracedWorkload(try EndToEnd.peerProfile(), recording: recording)
        try traced.workload.run(completions: completions + completions / 10 + 1)
        try traced.finish()
    }

    /// The rows: `trace-hash` and `trace-file` against `untraced` (the `e2e` row's ns per
    /// completion, measured in this run), then the `play` rows (see `playRows`).
    static func rows(_ profile: BoardProfile, untraced: Double, untracedInvariantsHeld: Bool, runs: Int, n: (Int) -> Int) throws -> [Row] {
        func best(_ recording: Recording) throws -> (ns: Double, invariantsHeld: Bool) {
            var figures: [(ns: Double, invariantsHeld: Bool)] = []
            for _ in 0..<runs { figures.append(try measure(profile, recording: recording, completions: n(400_000))) }
            return (figures.map(\.ns).min()!, figures.allSatisfy(\.invariantsHeld) && untracedInvariantsHeld)
        }
        let hashed = try best(.hash)
        let file = try best(.hashAndFile)
        return [
            Row(id: "trace-hash", name: "end to end with the trace hashed (play's default), ns per completion (untraced e2e in C column)",
                c: untraced, swift: hashed.ns, target: .ratioAtMost(4), invariantsHeld: hashed.invariantsHeld),
            Row(id: "trace-file", name: "end to end with the trace hashed and the JSON-lines file written (untraced e2e in C column)",
                c: untraced, swift: file.ns, target: .ratioAtMost(10), invariantsHeld: file.invariantsHeld),
        ] + (try playRows(runs: runs, n: n))
    }
}

extension TracedRows {
    /// The `uioemu` executable beside this benchmark (the same build configuration).
    static var uioemuPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uioemu").path
    }

    /// `scenarios/steady-stream.yaml` with a stop after `completions` completions instead of its
    /// 10 ms (and its pinned hash, which is for 10 ms, left out).
    static func steadyStream(completions: Int) throws -> String {
        let text = try String(contentsOfFile: "scenarios/steady-stream.yaml", encoding: .utf8)
        var lines: [String] = []
        var inExpect = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {  // bounded by the file
            if line.hasPrefix("duration:") {
                lines.append("duration: 1h")
                continue
            }
            if line.hasPrefix("expect:") {
                inExpect = true
                lines += ["timeline:", "  - after: \(completions) completions", "    do: stop", "expect:", "  completions: \">= \(completions)\""]
                continue
            }
            if inExpect && (line.hasPrefix(" ") || line.isEmpty) { continue }
            inExpect = false
            lines.append(String(line))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Wall seconds of one `uioemu` process, and whether it passed (exit status 0; anything else is
    /// printed and fails the row).
    static func wallSeconds(_ arguments: [String]) throws -> (seconds: Double, passed: Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: uioemuPath)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        p.standardError = errors
        let t0 = DispatchTime.now().uptimeNanoseconds
        try p.run()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if p.terminationStatus != 0 {
            FileHandle.standardError.write(Data("uioemu \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: err, as: UTF8.self))\n".utf8))
        }
        return (seconds, p.terminationStatus == 0)
    }

    /// `play` of the steady stream for 1 M completions (hashed; and with `--trace FILE`), and `run`
    /// of the same job (`uioemu run p2020-fpga --completions N`: the default workload is the steady
    /// stream's, and gives the same trace hash), each as a process: wall time per completion, with
    /// the start-up (a process of 1,000 completions) taken off, best of `runs`.
    static func playRows(runs: Int, n: (Int) -> Int) throws -> [Row] {
        let large = n(1_000_000), small = min(1_000, large / 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-bench-play-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func scenario(_ completions: Int) throws -> String {
            let path = dir.appendingPathComponent("steady-stream-\(completions).yaml").path
            try steadyStream(completions: completions).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let scenarios = (small: try scenario(small), large: try scenario(large))
        let trace = dir.appendingPathComponent("trace.jsonl").path
        func perCompletion(_ arguments: (_ completions: Int, _ scenario: String) -> [String]) throws -> (ns: Double, passed: Bool) {
            var best = Double.infinity, passed = true
            for _ in 0..<runs {
                let a = try wallSeconds(arguments(small, scenarios.small))
                let b = try wallSeconds(arguments(large, scenarios.large))
                best = min(best, (b.seconds - a.seconds) * 1e9 / Double(large - small))
                passed = passed && a.passed && b.passed
            }
            return (best, passed)
        }
        let run = try perCompletion { completions, _ in ["run", "p2020-fpga", "--completions", "\(completions)"] }
        let play = try perCompletion { _, scenario in ["play", scenario] }
        let playFile = try perCompletion { _, scenario in ["play", scenario, "--trace", trace] }
        return [
            Row(id: "run", name: "uioemu run p2020-fpga --completions \(large) (process), ns per completion, start-up taken off", c: nil,
                swift: run.ns, target: nil, invariantsHeld: run.passed),
            Row(id: "play", name: "uioemu play of steady-stream for \(large) completions, hashed (uioemu run of the same job in C column)",
                c: run.ns, swift: play.ns, target: .ratioAtMost(4), invariantsHeld: play.passed && run.passed),
            Row(id: "play-file", name: "uioemu play of steady-stream for \(large) completions with --trace FILE (uioemu run in C column)",
                c: run.ns, swift: playFile.ns, target: .ratioAtMost(10), invariantsHeld: playFile.passed && run.passed),
        ]
    }
}
