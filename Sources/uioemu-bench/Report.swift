import ArgumentParser
import Foundation

struct Row: Codable {
    enum Target: Codable {
        /// Swift ns/op over the floor's: lower is better.
        case ratioAtMost(Double)
        case rateAtLeast(Double)
        /// The peer's ns/op over ours (how many times faster uioemu is): higher is better.
        case speedupAtLeast(Double)
        /// A plain value (mallocs per completion, KiB of RSS growth) that must stay at or below a limit.
        case valueAtMost(Double)
    }

    let id: String
    let name: String
    /// C floor, ns per operation.
    let c: Double?
    /// Swift reactor, ns per operation.
    let swift: Double
    let target: Target?
    /// For a row measured on a whole emulator run: whether that run's invariants held (nil: a
    /// reactor floor, which has none). A figure from a run whose invariants failed is no figure:
    /// its row fails, whatever the number.
    var invariantsHeld: Bool? = nil

    var ratio: Double? { c.map { swift / $0 } }
    var opsPerSecond: Double { 1e9 / swift }

    var verdict: String {
        if invariantsHeld == false { return "FAIL (the run's invariants did not hold)" }
        switch target {
        case nil: return ""
        case let .ratioAtMost(limit): return (ratio ?? .infinity) <= limit ? "PASS (≤ \(limit))" : "FAIL (≤ \(limit))"
        case let .rateAtLeast(rate):
            return opsPerSecond >= rate ? "PASS (≥ \(Int(rate / 1e6)) M/s)" : "FAIL (≥ \(Int(rate / 1e6)) M/s)"
        case let .speedupAtLeast(x):
            let speedup = c.map { $0 / swift } ?? 0
            return (speedup >= x ? "PASS" : "FAIL") + String(format: " (%.2fx, ≥ %gx)", speedup, x)
        case let .valueAtMost(limit):
            return (swift <= limit ? "PASS" : "FAIL") + " (≤ \(limit))"
        }
    }

    static func table(_ rows: [Row]) -> String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "-" }
        var lines = ["| id | benchmark | C ns/op | Swift ns/op | Swift ops/s | Swift/C | target |",
                     "|---|---|---:|---:|---:|---:|---|"]
        for r in rows {
            let rate = r.opsPerSecond >= 1e6 ? String(format: "%.1f M", r.opsPerSecond / 1e6) : String(format: "%.0f k", r.opsPerSecond / 1e3)
            lines.append("| \(r.id) | \(r.name) | \(f(r.c)) | \(f(r.swift)) | \(rate) | \(r.ratio.map { String(format: "%.2f", $0) } ?? "-") | \(r.verdict) |")
        }
        return lines.joined(separator: "\n")
    }
}

struct Report: Codable {
    let rows: [Row]
    let syscalls: SyscallCheck?
    let callgrind: CallgrindGate?
    let scale: Double
    let repeats: Int

    /// bench/results.json. A row whose run failed carries an infinite figure (a FAIL whatever it
    /// measured): JSON has no number for it, so it is written as the string "inf" rather than
    /// ending the bench with an encoding error.
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}

/// Counts system calls of two virtual-time runs (1,000 and 1,000,000 timers) with `strace -c -f`:
/// virtual time makes no system call per dispatch, so both totals must be the same size.
struct SyscallCheck: Codable {
    let small: Int
    let large: Int
    let smallCount: Int
    let largeCount: Int

    var pass: Bool { large <= small + small / 10 + 5 }
    var summary: String {
        "system calls: \(small) for \(smallCount) virtual timers, \(large) for \(largeCount): " +
            (pass ? "PASS (does not grow with the count)" : "FAIL (grows with the count)")
    }

    static func measure() throws -> SyscallCheck {
        let smallCount = 1_000, largeCount = 1_000_000
        return SyscallCheck(small: try count(smallCount), large: try count(largeCount), smallCount: smallCount, largeCount: largeCount)
    }

    static func count(_ n: Int) throws -> Int {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-strace-\(getpid())-\(n).txt")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        p.arguments = ["-c", "-f", "-o", out.path, CommandLine.arguments[0], "virtual-timers", "\(n)"]
        try p.run()
        p.waitUntilExit()
        let text = try String(contentsOf: out, encoding: .utf8)
        // The summary's last line: "100.00 <seconds> <usecs/call> <calls> <errors> total".
        guard let total = text.split(separator: "\n").last(where: { $0.hasSuffix("total") }) else {
            throw ValidationError("strace printed no total line:\n\(text)")
        }
        let fields = total.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 4, let calls = Int(fields[3]) else { throw ValidationError("unreadable strace total: \(total)") }
        return calls
    }
}
