import ArgumentParser
import Foundation

/// The hot-path gate of DESIGN.md: a callgrind profile of the steady-state loop shows no reference
/// counting, exclusivity check or allocation per dispatch. Each case runs at two sizes; the watched
/// functions must not be *called* more often with more dispatches: fewer than one extra call per
/// hundred dispatches (completions, in the `e2e` case), function by function. The difference of
/// the instruction totals gives instructions per dispatch.
///
/// valgrind 3.19 (Debian 12) cannot read the DWARF 5 debug info of the Swift 6.3 toolchain's
/// binaries and gives up, so the gate profiles a copy with the debug info stripped (the symbol
/// table, and so the function names, stay).
struct CallgrindGate: Codable {
    /// Reference counting, exclusivity checks and every allocator, aligned ones included.
    static let watched = [
        "swift_retain", "swift_retain_n", "swift_release", "swift_release_n", "swift_bridgeObjectRetain", "swift_bridgeObjectRelease",
        "swift_allocObject", "swift_beginAccess", "swift_slowAlloc", "malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc",
        "memalign",
    ]
    /// The `virtual-timers` cases profiled: the reactor's dispatches, the whole emulator untraced,
    /// and traced as `play` runs it (the trace hashed; hashed with the JSON-lines file written).
    static let caseNames = ["timer", "doorbell", "post", "e2e", "e2e-trace", "e2e-trace-file"]
    /// Extra calls of a watched function allowed per extra dispatch.
    static let tolerance = 0.01

    struct Case: Codable {
        let name: String
        let instructionsPerDispatch: Double
        /// Calls of each watched function at the small and the large size (only those called).
        let callsSmall: [String: Int]
        let callsLarge: [String: Int]
        let extraDispatches: Int

        /// Extra calls per extra dispatch, by watched function.
        var callsPerDispatch: [String: Double] {
            var result: [String: Double] = [:]
            for name in Set(callsSmall.keys).union(callsLarge.keys) {
                result[name] = Double((callsLarge[name] ?? 0) - (callsSmall[name] ?? 0)) / Double(extraDispatches)
            }
            return result
        }

        /// The functions that grew by a call per hundred dispatches or more.
        var growing: [String] { callsPerDispatch.filter { $0.value >= CallgrindGate.tolerance }.keys.sorted() }
        var pass: Bool { growing.isEmpty }
    }

    let small: Int
    let large: Int
    let cases: [Case]

    var summary: String {
        var lines = ["callgrind gate (\(small) vs \(large) dispatches; calls of \(Self.watched.joined(separator: ", ")) "
                     + "must not grow by one per \(Int(1 / Self.tolerance)) dispatches):"]
        for c in cases {
            let name = c.name.padding(toLength: 14, withPad: " ", startingAt: 0)
            let worst = c.callsPerDispatch.max { $0.value < $1.value }
            let detail = worst.map { String(format: "most grown %@ %.4f calls/dispatch", $0.key, $0.value) } ?? "no watched call"
            lines.append("  \(name)" + String(format: "%6.1f", c.instructionsPerDispatch) + " instructions/dispatch, \(detail): "
                         + (c.pass ? "PASS" : "FAIL (\(c.growing.joined(separator: ", ")))"))
        }
        return lines.joined(separator: "\n")
    }

    static func measure() throws -> CallgrindGate {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-callgrind-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("uioemu-bench").path
        try FileManager.default.copyItem(atPath: CommandLine.arguments[0], toPath: binary)
        try run("/usr/bin/strip", ["--strip-debug", binary])
        let small = 20_000, large = 100_000
        var cases: [Case] = []
        for name in caseNames {
            let a = try profile(binary, name, small, dir), b = try profile(binary, name, large, dir)
            // Each run dispatches n plus a warm-up of n/10 + 1 (ReactorCases).
            let dispatches = (large + large / 10) - (small + small / 10)
            cases.append(Case(name: name, instructionsPerDispatch: Double(b.totalInstructions - a.totalInstructions) / Double(dispatches),
                              callsSmall: a.calls(of: watched), callsLarge: b.calls(of: watched), extraDispatches: dispatches))
        }
        return CallgrindGate(small: small, large: large, cases: cases)
    }

    private static func profile(_ binary: String, _ name: String, _ n: Int, _ dir: URL) throws -> CallgrindProfile {
        let out = dir.appendingPathComponent("\(name)-\(n).out").path
        // The stripped copy lives elsewhere: point the loader at the build folder for the shared
        // libraries the bench links (libMallocInterposerSwift.so).
        let buildFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        try run("/usr/bin/valgrind", ["--tool=callgrind", "--callgrind-out-file=\(out)", binary, "virtual-timers", "\(n)", "--case", name],
                environment: ["LD_LIBRARY_PATH": buildFolder])
        let profile = try CallgrindProfile(text: String(contentsOfFile: out, encoding: .utf8))
        guard profile.totalInstructions > 0 else { throw ValidationError("\(out) has no instruction total") }
        return profile
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("\(tool) \(arguments.joined(separator: " ")) exited \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A callgrind output file (valgrind's "Callgrind Format Specification"), read for what the gate
/// needs: the instruction total (`totals:`/`summary:`) and how often each function was called (the
/// `calls=COUNT ...` line after each `cfn=` names the callee). Names may be compressed (`(12) name`
/// the first time, `(12)` after); a recursion suffix (`swift_release'2`) counts as the function.
struct CallgrindProfile {
    private(set) var totalInstructions = 0
    private(set) var callsByFunction: [String: Int] = [:]

    init(text: String) throws {
        var names: [String: String] = [:]
        var callee: String? = nil
        for raw in text.split(separator: "\n") {  // bounded by the file
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("totals:") || line.hasPrefix("summary:") {
                totalInstructions = Int(line.split(separator: " ").dropFirst().first ?? "") ?? totalInstructions
            } else if line.hasPrefix("cfn=") || line.hasPrefix("fn=") {
                let name = Self.name(String(line[line.index(after: line.firstIndex(of: "=")!)...]), &names)
                if line.hasPrefix("cfn=") { callee = name }
            } else if line.hasPrefix("calls="), let callee {
                let count = Int(line.dropFirst("calls=".count).split(separator: " ").first ?? "") ?? 0
                callsByFunction[callee, default: 0] += count
            }
        }
    }

    /// Calls of each function in `functions` that was called at all.
    func calls(of functions: [String]) -> [String: Int] {
        callsByFunction.filter { functions.contains($0.key) }
    }

    /// `(12) swift_retain` (defines 12), `(12)` (uses it) or a plain name, without a recursion suffix.
    private static func name(_ text: String, _ names: inout [String: String]) -> String {
        var name = text
        if text.hasPrefix("("), let close = text.firstIndex(of: ")") {
            let id = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...].trimmingCharacters(in: .whitespaces)
            if rest.isEmpty {
                name = names[id] ?? text
            } else {
                names[id] = rest
                name = rest
            }
        }
        return String(name.prefix { $0 != "'" })
    }
}
