import ArgumentParser
import Foundation

/// The hot-path gate of DESIGN.md: a callgrind profile of the steady-state loop shows no
/// `swift_retain`, `swift_release`, `swift_beginAccess` or `malloc` per dispatch. Each case runs at
/// two sizes; those functions' instruction counts must not grow with the number of dispatches, and
/// the difference of the totals gives instructions per dispatch.
///
/// valgrind 3.19 (Debian 12) cannot read the DWARF 5 debug info of the Swift 6.3 toolchain's
/// binaries and gives up, so the gate profiles a copy with the debug info stripped (the symbol
/// table, and so the function names, stay).
struct CallgrindGate: Codable {
    struct Case: Codable {
        let name: String
        let instructionsPerDispatch: Double
        /// Instruction counts in the four watched functions at the small and the large size.
        let watchedSmall: Int
        let watchedLarge: Int
        var pass: Bool { watchedLarge <= watchedSmall + watchedSmall / 100 + 100 }
        /// Instructions in the watched functions per dispatch (0 when they do not grow).
        var watchedPerDispatch: Double = 0
    }

    let small: Int
    let large: Int
    let cases: [Case]

    var summary: String {
        var lines = ["callgrind gate (\(small) vs \(large) dispatches; retain/release/beginAccess/malloc must not grow):"]
        for c in cases {
            let name = c.name.padding(toLength: 9, withPad: " ", startingAt: 0)
            lines.append("  \(name)" + String(format: "%6.1f", c.instructionsPerDispatch) +
                         " instructions/dispatch, watched functions \(c.watchedSmall) -> \(c.watchedLarge) instructions" +
                         String(format: " (%.1f per dispatch): ", c.watchedPerDispatch) +
                         (c.pass ? "PASS" : "FAIL"))
        }
        return lines.joined(separator: "\n")
    }

    static let watched = ["swift_retain", "swift_release", "swift_beginAccess", "malloc"]

    static func measure() throws -> CallgrindGate {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-callgrind-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("uioemu-bench").path
        try FileManager.default.copyItem(atPath: CommandLine.arguments[0], toPath: binary)
        try run("/usr/bin/strip", ["--strip-debug", binary])
        let small = 20_000, large = 100_000
        var cases: [Case] = []
        for name in ["timer", "doorbell", "post", "e2e"] {
            let a = try profile(binary, name, small, dir), b = try profile(binary, name, large, dir)
            // Each run dispatches n plus a warm-up of n/10 + 1 (ReactorCases).
            let dispatches = Double((large + large / 10) - (small + small / 10))
            var c = Case(name: name, instructionsPerDispatch: Double(b.total - a.total) / dispatches,
                         watchedSmall: a.watched, watchedLarge: b.watched)
            c.watchedPerDispatch = Double(b.watched - a.watched) / dispatches
            cases.append(c)
        }
        return CallgrindGate(small: small, large: large, cases: cases)
    }

    private static func profile(_ binary: String, _ name: String, _ n: Int, _ dir: URL) throws -> (total: Int, watched: Int) {
        let out = dir.appendingPathComponent("\(name)-\(n).out").path
        // The stripped copy lives elsewhere: point the loader at the build folder for the shared
        // libraries the bench links (libMallocInterposerSwift.so).
        let buildFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        try run("/usr/bin/valgrind", ["--tool=callgrind", "--callgrind-out-file=\(out)", binary, "virtual-timers", "\(n)", "--case", name],
                environment: ["LD_LIBRARY_PATH": buildFolder])
        let text = try run("/usr/bin/callgrind_annotate", ["--threshold=100", out])
        var total = 0, watched = 0
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let first = trimmed.split(separator: " ").first, let count = Int(first.replacingOccurrences(of: ",", with: "")) else { continue }
            if trimmed.contains("PROGRAM TOTALS") { total = count; continue }
            // "  47,081 ( 0.07%)  ???:swift_release [/opt/swift/...]": match the function name exactly.
            guard let colon = trimmed.range(of: ":", options: .backwards, range: trimmed.startIndex..<(trimmed.range(of: " [")?.lowerBound ?? trimmed.endIndex)) else { continue }
            let function = trimmed[colon.upperBound...].split(separator: " ").first.map(String.init) ?? ""
            if isWatched(function) { watched += count }
        }
        guard total > 0 else { throw ValidationError("callgrind_annotate printed no total for \(out)") }
        return (total, watched)
    }

    private static func isWatched(_ function: String) -> Bool {
        let base = function.split(separator: "'").first.map(String.init) ?? function  // "swift_release'2" is recursion
        return Self.watched.contains(base)
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
