import Foundation
import Glibc
import Reactor
import Scenario
import Testing

@Suite("Playing scenarios")
struct ScenarioRunnerTests {
    @Test("each shipped scenario passes", arguments: try shippedScenarioFiles())
    func shippedScenarioPasses(file: String) throws {
        let spec = try ScenarioParser.load(path: file)
        let outcome = try ScenarioRunner(spec: spec, profile: board(for: spec)).run()
        #expect(outcome.passed, "\(outcome.failures)")
    }

    @Test("an expectation written to fail fails, naming its location, the expected and the actual value")
    func failingExpectation() {
        let outcome = play("""
            board: p2020-fpga
            duration: 1ms
            expect:
              completions: ">= 999999"
              mismatched-bytes: 0
            """)
        #expect(!outcome.passed)
        #expect(outcome.failures.count == 1)
        let failure = outcome.failures[0]
        #expect(failure.location.line == 4 && failure.location.column == 16)
        #expect(failure.message == "expected completions >= 999999, found \(outcome.completions)")
    }

    @Test("the same scenario and seed give the same figures; another seed can change them")
    func deterministic() {
        let text = """
            board: p2020-fpga
            duration: 2ms
            stream:
              pattern: prbs31
              packet-size: { min: 64 B, max: 4 KiB }
              rate: 300 MB/s
            """
        let a = play(text), b = play(text), c = play(text, seed: 2)
        #expect(a.completions == b.completions && a.bytesDelivered == b.bytesDelivered)
        #expect(a.bytesDelivered != c.bytesDelivered)
    }

    @Test("a traced play gives the same hash twice; another seed gives another; a wrong expected hash fails")
    func traceHashes() throws {
        let text = """
            board: p2020-fpga
            duration: 1ms
            stream:
              pattern: prbs31
              packet-size: { min: 64 B, max: 4 KiB }
            """
        guard case let .success(spec) = parse(text) else { Issue.record("did not parse"); return }
        func hash(_ seed: UInt64) throws -> String? {
            try ScenarioRunner(spec: spec, profile: board(for: spec), seed: seed).run(trace: .init()).traceHash
        }
        let a = try hash(1), b = try hash(1), c = try hash(2)
        #expect(a != nil && a?.count == 64)
        #expect(a == b)
        #expect(a != c)
        let wrong = play(text + "\nexpect:\n  trace-hash: 0000\n")
        #expect(wrong.failures.first?.message == "expected trace-hash 0000, found \(a!)")
    }

    @Test("source steps: pause stops delivery, resume and set-rate bring it back, data still verified")
    func sourceSteps() {
        let outcome = play("""
            board: p2020-fpga
            duration: 3ms
            stream:
              rate: 200 MB/s
            timeline:
              - at: 1ms
                do: pause-source
              - at: 2ms
                do: resume-source
              - at: 2500us
                set-rate: unlimited
            expect:
              mismatched-bytes: 0
              bytes-dropped: 0
            """)
        #expect(outcome.passed, "\(outcome.failures)")
        // Paused for a third of the run: fewer bytes than 3 ms at 200 MB/s, more than 1.5 ms worth.
        #expect(outcome.bytesDelivered < 600_000 && outcome.bytesDelivered > 300_000)
    }

    @Test("restart-driver, consumer-stall, advance and stop do what they say")
    func driverSteps() {
        let outcome = play("""
            board: p2020-fpga
            duration: 10ms
            timeline:
              - at: 500us
                consumer-stall: 300us
              - at: 1ms
                do: restart-driver
              - advance: 1ms
              - do: stop
            expect:
              mismatched-bytes: 0
              driver-state: running
            """)
        #expect(outcome.passed, "\(outcome.failures)")
        #expect(abs(outcome.virtualSeconds - 0.002) < 1e-9)  // stopped right after 1 ms + 1 ms
    }

    @Test("a transmit scenario with time: realtime runs in real time; the same in virtual time does not wait",
          arguments: ["realtime", "virtual"])
    func transmitFollowsTimeMode(mode: String) {
        // 100 ms of board time at a 4 MB/s sink: about 100 buffers, a few milliseconds of work.
        let start = Date()
        let outcome = play("""
            board: p2020-fpga
            mode: transmit
            time: \(mode)
            duration: 100ms
            stream:
              sink-rate: 4 MB/s
            expect:
              completions: ">= 50"
              mismatched-bytes: 0
            """)
        let wall = Date().timeIntervalSince(start)
        #expect(outcome.passed, "\(outcome.failures)")
        if mode == "realtime" {
            #expect(wall >= 0.095, "100 ms of board time took \(wall) s of wall time")
        } else {
            #expect(wall < 0.05, "100 ms of virtual board time took \(wall) s of wall time")
        }
    }

    @Test("a failing register step is reported at its line with the decoded value")
    func scriptFailure() {
        let outcome = play("""
            board: p2020-fpga
            mode: script
            duration: 1ms
            timeline:
              - read: { register: S2MM_DMASR, expect: 0 }
            expect:
              script-failures: 0
            """)
        #expect(outcome.failures.count == 2)
        #expect(outcome.failures[0].location.line == 5)
        #expect(outcome.failures[0].message.hasPrefix("read S2MM_DMASR: expected 0x0 under mask 0xffffffff, found 0x1"))
    }

    @Test("SIGINT during a run stops it cleanly: the outcome is still produced")
    func interrupted() {
        let outcome = play("""
            board: p2020-fpga
            duration: 3600s
            """, handleSignals: true, prepare: { reactor in
                reactor.schedule(after: .milliseconds(1)) { kill(getpid(), SIGINT) }
            })
        // Any SIGINT stops every reactor that handles signals (another test's may come first).
        #expect(outcome.stoppedBySignal)
        #expect(outcome.virtualSeconds < 3600)
    }

    @Test("--shard slices are disjoint and together cover the list, in a stable order")
    func shards() {
        let items = Array(0..<23)
        for n in 1...5 {
            let slices = (1...n).map { ScenarioShard("\($0)/\(n)")!.slice(items) }
            #expect(slices.flatMap { $0 }.sorted() == items)
            #expect(Set(slices.flatMap { $0 }).count == items.count)
        }
        #expect(ScenarioShard("0/3") == nil && ScenarioShard("4/3") == nil && ScenarioShard("x") == nil)
    }
}

@Suite("uioemu play and validate (the executable)", .serialized)
struct PlayCommandTests {
    @Test("exit 0 when every scenario passes, with one PASS line each")
    func passes() throws {
        let r = try runUIOEmu(["play", "scenarios/steady-stream.yaml", "scenarios/spurious-interrupt.yaml"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.split(separator: "\n").filter { $0.hasPrefix("PASS") }.count == 2)
    }

    @Test("exit 1 when an expectation fails, with expected vs actual and the reproduce line")
    func fails() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-fail-\(getpid()).yaml")
        try "board: p2020-fpga\nduration: 1ms\nseed: 5\nexpect:\n  completions: \">= 999999\"\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try runUIOEmu(["play", file.path])
        #expect(r.status == 1)
        #expect(r.out.contains("FAIL"))
        #expect(r.out.contains("\(file.path):5:16: expected completions >= 999999, found "))
        #expect(r.out.contains("reproduce: uioemu play \(file.path) --seed 5"))
    }

    @Test("the reproduce line quotes a path a shell would split, so it can be pasted as it is")
    func reproduceQuotes() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu fail's \(getpid()).yaml")
        try "board: p2020-fpga\nduration: 1ms\nseed: 5\nexpect:\n  completions: \">= 999999\"\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try runUIOEmu(["play", file.path])
        #expect(r.status == 1)
        let quoted = "'" + file.path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        #expect(r.out.contains("reproduce: uioemu play \(quoted) --seed 5"), "\(r.out)")
    }

    @Test("exit 2 for invalid input, with located errors on stderr")
    func invalid() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-bad-\(getpid()).yaml")
        try "board: p2020-fpga\nduration: soon\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try runUIOEmu(["play", file.path])
        #expect(r.status == 2)
        #expect(r.err.contains("\(file.path):2:11: error: expected a duration"))
        #expect(try runUIOEmu(["validate", file.path]).status == 2)
        #expect(try runUIOEmu(["play", "scenarios/steady-stream.yaml", "--shard", "3/2"]).status == 2)
    }

    @Test("--json gives one object per scenario with the documented keys")
    func json() throws {
        let r = try runUIOEmu(["play", "--json", "scenarios/steady-stream.yaml"])
        let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        for key in ["scenario", "result", "completions", "bytes_delivered", "bytes_dropped", "lost_irqs", "spurious_irqs",
                    "recoveries", "violations", "wall_seconds", "virtual_seconds"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
        #expect(object?["result"] as? String == "pass")
    }
}

@Suite("uioemu-bench (the executable)", .serialized)
struct BenchCommandTests {
    @Test("bad options exit 2 with the option, what was expected and what was found; nothing runs")
    func invalidOptions() throws {
        let cases: [([String], String)] = [
            (["floors", "--repeats", "0"], "--repeats: expected 1 or more, found 0"),
            (["floors", "--scale=-1"], "--scale: expected a positive number, found -1.0"),
            (["virtual-timers", "0"], "<count>: expected 1 or more, found 0"),
            (["virtual-timers", "10", "--case", "fleet", "--channels", "0"], "--channels: expected 1 or more, found 0"),
            (["virtual-timers", "10", "--case", "bogus"], "'bogus' is invalid for '--case <case>'"),
            (["realtime", "--milliseconds", "0"], "--milliseconds: expected 1 or more, found 0"),
        ]
        for (arguments, message) in cases {
            let r = try runUIOEmu(arguments, executable: "uioemu-bench")
            #expect(r.status == 2, "\(arguments): \(r.err)")
            #expect(r.err.contains(message), "\(arguments): \(r.err)")
            #expect(r.out.isEmpty, "\(arguments) ran: \(r.out)")
        }
    }
}
