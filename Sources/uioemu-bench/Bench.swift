import ArgumentParser
import CBenchFloors
import Foundation
import Reactor

/// `make bench`: the reactor's figures next to raw C floors measured in the same process run.
/// Every target is a ratio against a floor from this run, or a rate; PASS/FAIL rows say where we
/// stand, and the exit status is 0 either way.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uioemu-bench",
        abstract: "Reactor benchmark floors: Swift against C libevent, measured in one run.",
        subcommands: [Floors.self, VirtualTimers.self, RealTimeRun.self, Soak.self],
        defaultSubcommand: Floors.self
    )

    /// Parses and runs like `ParsableCommand.main()`, except that bad input exits with 2, as `uioemu`
    /// does (the project's convention), not ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Glibc.exit(2)
        }
    }
}

struct Floors: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "floors", abstract: "Measure and print the table.")

    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Flag(help: "Count system calls of virtual-time runs with strace -c -f (needs strace).") var strace = false
    @Flag(help: "Check the hot-path gate with valgrind --tool=callgrind (needs valgrind).") var callgrind = false
    @Option(help: "Repetitions per figure; the best is kept.") var repeats = 5
    @Option(help: "Scale all iteration counts (e.g. 0.1 for a quick look).") var scale = 1.0
    @Flag(name: .customLong("skip-end-to-end"), help: "Only the reactor floors.") var skipEndToEnd = false
    @Flag(help: "Also run uioemu attach with the example C programs (needs `make examples` and the release uioemu).") var attach = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats: expected 1 or more, found \(repeats)") }
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale: expected a positive number, found \(scale)") }
    }

    /// uioemu end to end against the peers (bench/peers/results.json, when `bench/peers/run` ran).
    func endToEndRows(memcpy64k: Double?, n: (Int) -> Int) throws -> [Row] {
        let profile = try EndToEnd.peerProfile()
        let peers = PeerResults.load()
        func ns(_ perSecond: Double?) -> Double? { perSecond.map { 1e9 / $0 } }
        var rows: [Row] = []
        // Each end-to-end figure is the best of up to three runs, like the floors' best of `repeats`:
        // one run of a fraction of a second on a shared 2-core machine moves by 10-20%.
        let runs = max(1, min(repeats, 3))
        func best(_ measure: () throws -> EndToEnd.Result) throws -> EndToEnd.Result {
            var results: [EndToEnd.Result] = []
            for _ in 0..<runs { results.append(try measure()) }
            let fastest = results.min { $0.nanosecondsPerCompletion < $1.nanosecondsPerCompletion }!
            return EndToEnd.Result(completions: fastest.completions, wallSeconds: fastest.wallSeconds, bytes: fastest.bytes,
                                   invariantsHeld: results.allSatisfy(\.invariantsHeld))
        }
        /// The best figure of `runs` runs, and whether every run's invariants held.
        func best(_ measure: () throws -> (ns: Double, invariantsHeld: Bool)) throws -> (ns: Double, invariantsHeld: Bool) {
            var figures: [(ns: Double, invariantsHeld: Bool)] = []
            for _ in 0..<runs { figures.append(try measure()) }
            return (figures.map(\.ns).min()!, figures.allSatisfy(\.invariantsHeld))
        }
        let withSource = try best { try EndToEnd.measure(profile, source: .paced, pattern: .counter, bufferBytes: 4096, completions: n(1_000_000)) }
        rows.append(Row(id: "e2e", name: "end to end, source, 4 KiB written to the buffer + verified, vs SystemC", c: ns(peers?.systemcWithSource),
                        swift: withSource.nanosecondsPerCompletion, target: .speedupAtLeast(2), invariantsHeld: withSource.invariantsHeld))
        rows.append(Row(id: "e2e-simpy", name: "end to end, source, 4 KiB written to the buffer + verified, vs SimPy", c: ns(peers?.simpy),
                        swift: withSource.nanosecondsPerCompletion, target: .speedupAtLeast(40), invariantsHeld: withSource.invariantsHeld))
        rows += try TracedRows.rows(profile, untraced: withSource.nanosecondsPerCompletion, untracedInvariantsHeld: withSource.invariantsHeld,
                                    runs: runs, n: n)
        let noSource = try best { try EndToEnd.measure(profile, source: .unlimited, pattern: .counter, bufferBytes: 4096, completions: n(1_000_000)) }
        rows.append(Row(id: "e2e-nosrc", name: "end to end, no source, 4 KiB written to the buffer + verified, vs SystemC without source",
                        c: ns(peers?.systemcWithoutSource), swift: noSource.nanosecondsPerCompletion, target: nil, invariantsHeld: noSource.invariantsHeld))
        let control = try best { try EndToEnd.measure(profile, source: .paced, pattern: .none, bufferBytes: 4096, completions: n(2_000_000)) }
        rows.append(Row(id: "e2e-ctl", name: "end to end, control only (data: none), vs SystemC", c: ns(peers?.systemcWithSource),
                        swift: control.nanosecondsPerCompletion, target: .speedupAtLeast(3), invariantsHeld: control.invariantsHeld))
        let big = try best { try EndToEnd.measure(profile, source: .unlimited, pattern: .counter, bufferBytes: 65536, completions: n(100_000)) }
        // As a rate: bytes/s delivered (written to the buffer + verified) over memcpy's bytes/s at 64 KiB, both as ns per 64 KiB.
        rows.append(Row(id: "e2e-64k", name: "64 KiB buffers: ns per 64 KiB delivered vs ns per 64 KiB memcpy (speedup = fraction of memcpy)",
                        c: memcpy64k, swift: big.wallSeconds * 1e9 * 65536 / Double(big.bytes), target: .speedupAtLeast(0.5),
                        invariantsHeld: big.invariantsHeld))
        let mallocs = try EndToEnd.mallocsPerCompletion(profile, completions: n(100_000))
        rows.append(Row(id: "mallocs", name: "mallocs per completion after warm-up (value, not ns)", c: nil, swift: mallocs.mallocs,
                        target: .valueAtMost(0), invariantsHeld: mallocs.invariantsHeld))
        // Scale: independent channels in one reactor; the cost per completion must stay flat.
        let single = try best { try EndToEnd.fleet(channels: 1, completions: n(400_000)) }
        for channels in [1, 4, 16, 64] {
            let perCompletion = channels == 1 ? single : try best { try EndToEnd.fleet(channels: channels, completions: n(400_000)) }
            rows.append(Row(id: "scale-\(channels)", name: "\(channels) channel(s) in one reactor, ns per completion (1 channel in C column)",
                            c: single.ns, swift: perCompletion.ns, target: channels == 64 ? .ratioAtMost(1.3) : nil,
                            invariantsHeld: perCompletion.invariantsHeld))
        }
        rows += try ScaleRows.rows(singleChannel: single, runs: runs, n: n)
        // Real time: the driver's interrupt-to-handler latency against a raw libevent eventfd
        // wake-up measured the same way (a timer writes, a read watch takes it), and pacing.
        var p50 = 0.0, p99 = 0.0, p999 = 0.0
        _ = floor_eventfd_latency(Int(max(20_000 * scale, 1_000)), 20, &p50, &p99, &p999)
        let live = try EndToEnd.realTime(profile, boardTime: .milliseconds(Int64(max(1000 * scale, 50))))
        rows.append(Row(id: "rt-p50", name: "real time: interrupt -> handler p50 (raw eventfd wake-up p50 in C column)",
                        c: p50, swift: live.p50, target: nil, invariantsHeld: live.invariantsHeld))
        rows.append(Row(id: "rt-p99", name: "real time: interrupt -> handler p99, limit raw eventfd p99 + 10 us (value: ns over the raw p99)",
                        c: nil, swift: live.p99 - p99, target: .valueAtMost(10_000), invariantsHeld: live.invariantsHeld))
        rows.append(Row(id: "rt-p999", name: "real time: interrupt -> handler p99.9 (raw eventfd p99.9 in C column)",
                        c: p999, swift: live.p999, target: nil, invariantsHeld: live.invariantsHeld))
        rows.append(Row(id: "rt-pace", name: String(format: "real time: keeping up, %% of the %.0f completions the source implies in the %.4f s (wall) the run took that did not happen (%d did, in %.4f s of board time)",
                                                     live.expectedCompletions, live.wallSeconds, live.completions, live.boardSeconds),
                        c: nil, swift: live.shortfallPercent, target: .valueAtMost(1), invariantsHeld: live.invariantsHeld))
        let rss = try EndToEnd.residentSet(profile, scale: scale)
        rows.append(Row(id: "rss", name: "RSS growth (KiB) from \(rss.small) to \(rss.small + rss.large) completions (value, not ns)",
                        c: nil, swift: Double(rss.afterLarge - rss.afterSmall), target: .valueAtMost(1024), invariantsHeld: rss.invariantsHeld))
        return rows
    }

    func run() throws {
        var rows: [Row] = []
        func n(_ base: Int) -> Int { max(Int(Double(base) * scale), 100) }
        func best(_ body: () -> Double) -> Double { (0..<repeats).map { _ in body() }.min()! }

        let pingC = best { floor_eventfd_pingpong_ns(n(200_000)) }
        let pingS = best { ReactorCases.eventfdPingPong(iterations: n(200_000)) }
        rows.append(Row(id: "a", name: "eventfd ping-pong round trip (real time)", c: pingC, swift: pingS, target: .ratioAtMost(1.2)))

        let activeC = best { floor_event_active_ns(n(5_000_000)) }
        let postRT = best { ReactorCases.post(iterations: n(5_000_000), clock: .realTime) }
        rows.append(Row(id: "b", name: "event_active re-post vs post (real time)", c: activeC, swift: postRT, target: .ratioAtMost(3)))
        let postV = best { ReactorCases.post(iterations: n(10_000_000), clock: .virtual) }
        rows.append(Row(id: "b2", name: "post (virtual time) vs C event_active", c: activeC, swift: postV, target: nil))

        let timerC = best { floor_zero_timer_ns(n(2_000_000)) }
        let timerRT = best { ReactorCases.timer(iterations: n(2_000_000), clock: .realTime, delay: .zero) }
        rows.append(Row(id: "c", name: "zero-delay timer (real time)", c: timerC, swift: timerRT, target: .ratioAtMost(1.2)))

        let vt = best { ReactorCases.timer(iterations: n(20_000_000), clock: .virtual, delay: .nanoseconds(1)) }
        rows.append(Row(id: "d", name: "virtual timer dispatch, closure-free", c: nil, swift: vt, target: .rateAtLeast(30e6)))
        let vt64 = best { ReactorCases.timer(iterations: n(20_000_000), clock: .virtual, delay: .nanoseconds(64), concurrent: 64) }
        rows.append(Row(id: "d2", name: "virtual timer dispatch, 64 armed at once", c: nil, swift: vt64, target: nil))
        let vtc = best { ReactorCases.closureTimer(iterations: n(20_000_000)) }
        rows.append(Row(id: "d3", name: "virtual timer dispatch, closure path", c: nil, swift: vtc, target: nil))

        let bellIn = best { ReactorCases.doorbell(iterations: n(10_000_000), backing: .inProcess, clock: .virtual) }
        rows.append(Row(id: "e", name: "doorbell ring->watch, in-process vs C event_active", c: activeC, swift: bellIn, target: .ratioAtMost(1)))
        let bellFD = best { ReactorCases.doorbell(iterations: n(500_000), backing: .eventfd, clock: .realTime) }
        rows.append(Row(id: "e2", name: "doorbell ring->watch, eventfd-backed (real time)", c: nil, swift: bellFD, target: nil))

        for bytes in [4096, 65536] {
            let iters = n(bytes == 4096 ? 5_000_000 : 500_000)
            let cC = best { floor_memcpy_ns(bytes, iters) }
            let cS = best { ReactorCases.copy(bytes: bytes, iterations: iters) }
            rows.append(Row(id: "f-\(bytes / 1024)k", name: "memcpy \(bytes / 1024) KiB (\(String(format: "%.1f", Double(bytes) / cC)) GB/s in C)",
                            c: cC, swift: cS, target: nil))
        }

        if !skipEndToEnd { rows += try endToEndRows(memcpy64k: rows.first { $0.id == "f-64k" }?.c, n: n) }
        if attach {
            rows += try AttachRows.rows(builtInNanosecondsPerCompletion: rows.first { $0.id == "e2e" }?.swift, repeats: repeats, scale: scale)
        }

        var syscalls: SyscallCheck? = nil
        if strace { syscalls = try SyscallCheck.measure() }
        var gate: CallgrindGate? = nil
        if callgrind { gate = try CallgrindGate.measure() }

        print(Row.table(rows))
        if let syscalls { print(syscalls.summary) }
        if let gate { print(gate.summary) }
        if let json {
            let report = Report(rows: rows, syscalls: syscalls, callgrind: gate, scale: scale, repeats: repeats)
            try report.json().write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}

/// `uioemu-bench virtual-timers N [--case …]`: one hot loop and nothing else, for strace and callgrind.
struct VirtualTimers: ParsableCommand {
    enum Case: String, ExpressibleByArgument {
        case timer, doorbell, post, e2e, e2eControl = "e2e-ctl", e2e64k = "e2e-64k", fleet, e2eTrace = "e2e-trace", e2eTraceFile = "e2e-trace-file"
        case timerWheel = "timer-wheel", timerHeap = "timer-heap", ringFloor = "ring-floor"
    }
    static let configuration = CommandConfiguration(commandName: "virtual-timers", abstract: "Run N virtual-time dispatches.")
    @Argument var count: Int
    @Option(name: .customLong("case")) var which: Case = .timer
    @Option(help: "fleet, ring-floor: independent channels in one reactor; timer-wheel, timer-heap: timers armed.") var channels = 64
    @Flag(name: .customLong("control-only"), help: "fleet: data: none.") var controlOnly = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("<count>: expected 1 or more, found \(count)") }
        guard channels >= 1 else { throw ValidationError("--channels: expected 1 or more, found \(channels)") }
    }

    func run() throws {
        switch which {
        case .timer: _ = ReactorCases.timer(iterations: count, clock: .virtual, delay: .nanoseconds(1))
        case .doorbell: _ = ReactorCases.doorbell(iterations: count, backing: .inProcess, clock: .virtual)
        case .post: _ = ReactorCases.post(iterations: count, clock: .virtual)
        case .e2e, .e2eControl:
            // The whole emulator with the peers' parameters, 4 KiB written and checked (or control
            // only): n plus a warm-up of n/10 + 1 completions, like the reactor cases.
            let w = try EndToEnd.workload(EndToEnd.peerProfile(), source: .paced, pattern: which == .e2e ? .counter : .none,
                                          bufferBytes: 4096)
            try w.run(completions: count + count / 10 + 1)
        case .e2e64k:
            // The floors' e2e-64k row alone: 64 KiB buffers from an unlimited counter source,
            // written and checked, n plus a warm-up of n/10 + 1 completions.
            let w = try EndToEnd.workload(EndToEnd.peerProfile(), source: .unlimited, pattern: .counter, bufferBytes: 65536)
            try w.run(completions: count + count / 10 + 1)
        case .e2eTrace: try TracedRows.loop(.hash, completions: count)
        case .e2eTraceFile: try TracedRows.loop(.hashAndFile, completions: count)
        case .fleet:
            // The floors' scale-N row alone; prints ns per completion.
            let fleet = try EndToEnd.fleet(channels: channels, completions: count, pattern: controlOnly ? .none : .counter)
            print(String(format: "%d channel(s): %.1f ns per completion, invariants %@", channels, fleet.ns, fleet.invariantsHeld ? "hold" : "FAIL"))
        case .timerWheel, .timerHeap:
            // The timer structure alone (ScaleRows' timers-N rows), --channels timers armed.
            let r = TimerStructures.measure(which == .timerWheel ? .wheel : .heap, depth: channels, steps: count)
            print(String(format: "%@, %d armed: %.1f ns per pop + re-arm, checksum %llx", which.rawValue, channels, r.nanosecondsPerStep, r.checksum))
        case .ringFloor:
            // The fleet's data traffic alone in C (the scale-mem-N rows): --channels rings of 8 × 4 KiB,
            // N buffers written and verified in all.
            let ns = floor_ring_stream_ns(Int32(channels), 8, 4096, max(count / channels, 1))
            guard ns >= 0 else { throw BenchError("ring-floor: setup or a check failed") }
            print(String(format: "%d channel(s): %.1f ns per 4 KiB buffer written and verified", channels, ns))
        }
    }
}

/// `uioemu-bench realtime [--milliseconds N]`: the receive workload in real time alone (the rt-*
/// rows of `floors`), with what the board did, for looking into pacing and latency.
struct RealTimeRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "realtime", abstract: "Run the receive workload in real time and report pacing.")
    @Option(help: "Board time to run, in milliseconds.") var milliseconds = 1000

    func validate() throws {
        guard milliseconds >= 1 else { throw ValidationError("--milliseconds: expected 1 or more, found \(milliseconds)") }
    }
    func run() throws {
        let profile = try EndToEnd.peerProfile()
        let live = try EndToEnd.realTime(profile, boardTime: .milliseconds(Int64(milliseconds)))
        print(String(format: "board %.4f s in %.4f s wall, completions %d of %.0f expected (shortfall %.2f%%), latency p50 %.0f ns p99 %.0f ns p99.9 %.0f ns",
                     live.boardSeconds, live.wallSeconds, live.completions, live.expectedCompletions, live.shortfallPercent,
                     live.p50, live.p99, live.p999))
        print(live.detail)
        var p50 = 0.0, p99 = 0.0, p999 = 0.0
        _ = floor_eventfd_latency(20_000, 20, &p50, &p99, &p999)
        print(String(format: "raw libevent eventfd wake-up (C): p50 %.0f ns p99 %.0f ns p99.9 %.0f ns; rt-p99 row: %.0f ns over the raw p99 (limit 10000)",
                     p50, p99, p999, live.p99 - p99))
    }
}

