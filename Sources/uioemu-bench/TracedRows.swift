import Board
import CBenchFloors
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

    /// What one `uioemu` process took: wall seconds, and the user and system CPU seconds the kernel
    /// charged it (the difference of `getrusage(RUSAGE_CHILDREN)` around it: one child at a time),
    /// and whether it passed (exit status 0; anything else is printed and fails the row).
    struct ProcessTime {
        var seconds: Double
        var userSeconds: Double
        var systemSeconds: Double
        var passed: Bool
    }

    static func childrenCPU() -> (user: Double, system: Double) {
        var usage = rusage()
        _ = getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    static func processTime(_ arguments: [String]) throws -> ProcessTime {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: uioemuPath)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        p.standardError = errors
        let cpu0 = childrenCPU()
        let t0 = DispatchTime.now().uptimeNanoseconds
        try p.run()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let cpu1 = childrenCPU()
        if p.terminationStatus != 0 {
            FileHandle.standardError.write(Data("uioemu \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: err, as: UTF8.self))\n".utf8))
        }
        return ProcessTime(seconds: seconds, userSeconds: cpu1.user - cpu0.user, systemSeconds: cpu1.system - cpu0.system,
                           passed: p.terminationStatus == 0)
    }

    /// `play` of the steady stream for 1 M completions (hashed; and with `--trace FILE`), and `run`
    /// of the same job (`uioemu run p2020-fpga --completions N`: the default workload is the steady
    /// stream's, and gives the same trace hash), each as a process: wall time per completion, with
    /// the start-up taken off (the fastest of `runs` processes of 1,000 completions from the fastest
    /// of `runs` large ones; the variants take turns), with the user and system CPU time behind
    /// those two; and the `file-write` floor, what the kernel alone takes to write the same file, so
    /// that `play-file` reads as the emulator's part and the page cache's.
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
        func fileSize(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        /// A variant's fastest small and fastest large process (each the best of its own: the best
        /// difference would favour a slow small run), and what they left.
        struct Figure {
            var small: ProcessTime?, large: ProcessTime?
            var passed = true
            /// The trace files the small and the large run left, if they wrote one.
            var fileBytes = (small: 0, large: 0)
            var perCompletion = 0.0
            var ns: Double { ((large?.seconds ?? .nan) - (small?.seconds ?? .nan)) * perCompletion }
            var cpu: String {
                let user = ((large?.userSeconds ?? .nan) - (small?.userSeconds ?? .nan)) * perCompletion
                let system = ((large?.systemSeconds ?? .nan) - (small?.systemSeconds ?? .nan)) * perCompletion
                return String(format: "user %.0f + system %.0f ns", user, system)
            }
        }
        /// One small and one large process of a variant, each kept in `figure` if the fastest yet.
        func measure(_ arguments: (_ completions: Int, _ scenario: String) -> [String], into figure: inout Figure) throws {
            // Each process starts with no file of an earlier one and nothing left to write back:
            // a file truncated or still being written back by the kernel while the next process
            // writes its own would charge one process for another's (the in-process `trace-file`
            // row's files too).
            try? FileManager.default.removeItem(atPath: trace)
            sync()
            let a = try processTime(arguments(small, scenarios.small))
            figure.fileBytes.small = fileSize(trace)
            try? FileManager.default.removeItem(atPath: trace)
            sync()
            let b = try processTime(arguments(large, scenarios.large))
            figure.fileBytes.large = fileSize(trace)
            if a.seconds < figure.small?.seconds ?? .infinity { figure.small = a }
            if b.seconds < figure.large?.seconds ?? .infinity { figure.large = b }
            figure.perCompletion = 1e9 / Double(large - small)
            figure.passed = figure.passed && a.passed && b.passed
        }
        // The variants take turns, so that each ratio's two figures come from the same stretch of
        // the machine's time. `file-write` is the kernel's part alone: the same bytes written to
        // a new file in the sink's 256 KiB blocks, nothing else (C), large less small likewise.
        var run = Figure(), play = Figure(), playFile = Figure()
        var fileFloor = (small: Double.infinity, large: Double.infinity)
        for _ in 0..<runs {
            try measure({ completions, _ in ["run", "p2020-fpga", "--completions", "\(completions)"] }, into: &run)
            try measure({ _, scenario in ["play", scenario] }, into: &play)
            try measure({ _, scenario in ["play", scenario, "--trace", trace] }, into: &playFile)
            try? FileManager.default.removeItem(atPath: trace)
            sync()
            let a = floor_file_write_ns(trace, playFile.fileBytes.small, 256 << 10)
            try? FileManager.default.removeItem(atPath: trace)
            sync()
            let b = floor_file_write_ns(trace, playFile.fileBytes.large, 256 << 10)
            guard a >= 0, b >= 0 else { throw BenchError("file-write floor: writing \(trace) failed") }
            fileFloor = (min(fileFloor.small, a), min(fileFloor.large, b))
        }
        let fileFloorNs = (fileFloor.large - fileFloor.small) / Double(large - small)
        try? FileManager.default.removeItem(atPath: trace)
        let gigabytes = String(format: "%.1f", Double(playFile.fileBytes.large) / 1e9)
        return [
            Row(id: "run", name: "uioemu run p2020-fpga --completions \(large) (process), ns per completion, start-up taken off (CPU: \(run.cpu))", c: nil,
                swift: run.ns, target: nil, invariantsHeld: run.passed),
            Row(id: "play", name: "uioemu play of steady-stream for \(large) completions, hashed (uioemu run of the same job in C column; CPU: \(play.cpu))",
                c: run.ns, swift: play.ns, target: .ratioAtMost(4), invariantsHeld: play.passed && run.passed),
            Row(id: "play-file", name: "uioemu play of steady-stream for \(large) completions with --trace FILE (uioemu run in C column; CPU: \(playFile.cpu); the file is \(gigabytes) GB)",
                c: run.ns, swift: playFile.ns, target: .ratioAtMost(10), invariantsHeld: playFile.passed && run.passed),
            Row(id: "file-write", name: "C floor: the same \(gigabytes) GB written to a new file in 256 KiB blocks, nothing else, ns per completion's share", c: nil,
                swift: fileFloorNs, target: nil, invariantsHeld: true),
            Row(id: "play-file-least", name: "least play-file can be with the same file: uioemu run + the file-write floor (uioemu run in C column)",
                c: run.ns, swift: run.ns + fileFloorNs, target: nil, invariantsHeld: true),
        ]
    }
}
