import CBenchFloors
import Foundation

/// The attach rows of `make bench`: a user's C driver on the emulated board, against the raw
/// cross-process floors (C, measured in this run) and the built-in driver. They run the release
/// `uioemu` (next to this executable) with the example programs `make examples` built
/// (.build/examples), from the repository root.
enum AttachRows {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static var uioemu: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("uioemu").path
    }

    /// Runs `uioemu arguments...`; wall seconds and standard output.
    static func run(_ arguments: [String]) throws -> (seconds: Double, output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: uioemu)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let start = Date()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (Date().timeIntervalSince(start), String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    /// The number after `label` in `text` (`label` ends with a space or is followed by one).
    static func number(after label: String, in text: String) -> Double? {
        guard let range = text.range(of: label) else { return nil }
        let digits = text[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }

    static func rows(builtInNanosecondsPerCompletion: Double?, repeats: Int, scale: Double) throws -> [Row] {
        guard FileManager.default.fileExists(atPath: ".build/examples/dmasr-poll") else {
            throw Failure(description: "the attach rows need the example programs: run `make examples` first (make bench does)")
        }
        func best(_ body: () throws -> Double) rethrows -> Double { try (0..<max(1, min(repeats, 3))).map { _ in try body() }.min()! }
        var rows: [Row] = []
        let iterations = max(Int(200_000 * scale), 1_000)
        let socket = best { floor_unix_socket_round_trip_ns(iterations) }
        let shared = best { floor_shared_futex_round_trip_ns(iterations) }
        let floor = min(socket, shared)
        rows.append(Row(id: "att-floor-sock", name: "raw cross-process round trip over a Unix socket (C)", c: nil, swift: socket, target: nil))
        rows.append(Row(id: "att-floor-shm", name: "raw cross-process round trip over shared memory + futex, spin first (C)", c: nil, swift: shared, target: nil))
        let sleeping = best { floor_shared_futex_round_trip_spin_ns(iterations, 0) }
        rows.append(Row(id: "att-floor-futex", name: "raw cross-process round trip over shared memory + futex, no spin (C)", c: nil, swift: sleeping, target: nil))
        // What every trap-per-access design pays before any transport: the kernel's SIGSEGV delivery
        // and sigreturn. With the spinning floor below a microsecond, this alone decides the target.
        let trap = best { floor_trapped_load_ns(iterations) }
        rows.append(Row(id: "att-floor-trap", name: "one trapped load completed in its SIGSEGV handler, no transport (C)", c: nil, swift: trap, target: nil))

        // One register access: a C program reading DMASR N times, minus the same program reading it
        // 0 times (start-up, connection, exit), divided by N.
        let accesses = max(Int(200_000 * scale), 2_000)
        for time in ["virtual", "realtime"] {
            let perAccess = try best {
                let full = try run(["attach", "p2020-fpga", "--time", time, "--", ".build/examples/dmasr-poll", "--count", "\(accesses)"])
                let empty = try run(["attach", "p2020-fpga", "--time", time, "--", ".build/examples/dmasr-poll", "--count", "0"])
                guard full.status == 0, empty.status == 0 else { throw Failure(description: "dmasr-poll under attach failed:\n\(full.output)") }
                return max(0, full.seconds - empty.seconds) * 1e9 / Double(accesses)
            }
            rows.append(Row(id: time == "virtual" ? "att-reg" : "att-reg-rt",
                            name: "one register access from a C program under attach (\(time) time: a trapped load, decoded, answered), vs the faster raw round trip",
                            c: floor, swift: perAccess, target: .ratioAtMost(2)))
            if time == "virtual" && trap > 0 {
                // The part of an access beyond its two unavoidable costs (the trap, one round trip):
                // decoding, the request, the board's reply, the reactor.
                rows.append(Row(id: "att-reg-parts", name: "the same access vs one trapped load + the faster raw round trip (its two unavoidable parts)",
                                c: trap + floor, swift: perAccess, target: nil))
            }
        }

        // The C example in virtual time: 4 KiB completions, every byte checked by the program.
        let completions = max(Int(20_000 * scale), 500)
        let perCompletion = try best {
            let full = try run(["attach", "p2020-fpga", "--", ".build/examples/axidma-rx", "--count", "\(completions)"])
            let empty = try run(["attach", "p2020-fpga", "--", ".build/examples/axidma-rx", "--count", "1"])
            guard full.status == 0, empty.status == 0 else { throw Failure(description: "axidma-rx under attach failed:\n\(full.output)") }
            return max(0, full.seconds - empty.seconds) * 1e9 / Double(completions - 1)
        }
        rows.append(Row(id: "att-e2e", name: "the C example under attach, 4 KiB completions (virtual time), vs the built-in driver's e2e row",
                        c: builtInNanosecondsPerCompletion, swift: perCompletion, target: nil))

        // Real time: 1,000 packets per second for a second; every byte the source dropped must be
        // one the program saw missing (a gap in the counter), so no drop is unexplained.
        let paced = try run(["play", "--no-trace-hash", "bench/attach/realtime-1k.yaml"])
        let dropped = number(after: "dropped", in: paced.output.replacingOccurrences(of: " KiB", with: "")) ?? -1
        let lost = number(after: "0 mismatches,", in: paced.output) ?? -1
        let unexplained = dropped < 0 || lost < 0 ? Double.infinity : abs(dropped * 1024 - lost)
        rows.append(Row(id: "att-rt-pace", name: String(format: "real-time attach, 1,000 packets/s: bytes dropped that the program did not see missing (dropped %.1f KiB, seen %.0f B; %@)",
                                                        dropped, lost, paced.status == 0 ? "PASS" : "the scenario failed"),
                        c: nil, swift: paced.status == 0 ? unexplained : .infinity, target: .valueAtMost(0)))
        return rows
    }
}
