import Testing
@testable import uioemu_bench

/// What `make bench` calls PASS: a row whose figure meets its target on a run whose invariants
/// held; the hot-path gate reads call counts from callgrind's own file.
@Suite("Benchmark verdicts")
struct BenchVerdictTests {
    @Test("a row whose run broke an invariant fails, however good its figure")
    func invariantsGateTheRow() {
        var row = Row(id: "e2e", name: "end to end", c: 300, swift: 100, target: .speedupAtLeast(2), invariantsHeld: true)
        #expect(row.verdict.hasPrefix("PASS"))
        row.invariantsHeld = false
        #expect(row.verdict == "FAIL (the run's invariants did not hold)")
        let floor = Row(id: "d", name: "virtual timer dispatch", c: nil, swift: 8, target: .rateAtLeast(30e6))
        #expect(floor.invariantsHeld == nil && floor.verdict.hasPrefix("PASS"), "a reactor floor has no run invariants")
    }

    @Test("results.json is written when a row's run failed with an infinite figure: the figure reads \"inf\", the row FAIL")
    func infiniteFigureIsWritten() throws {
        let failed = Row(id: "att-rt-pace", name: "real-time attach", c: nil, swift: .infinity, target: .valueAtMost(0))
        #expect(failed.verdict.hasPrefix("FAIL"))
        let data = try Report(rows: [failed], syscalls: nil, callgrind: nil, scale: 1, repeats: 1).json()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"swift\" : \"inf\""), "\(text)")
    }

    /// A callgrind file in its compressed form: names defined once as `(n) name`, then `(n)`.
    static let profile = """
        version: 1
        creator: callgrind-3.19.0
        events: Ir
        fl=(1) ???
        fn=(1) main
        0 100
        cfn=(2) swift_retain
        calls=40 0
        0 200
        cfn=(3) posix_memalign
        calls=3 0
        0 90
        fn=(4) loop
        0 50
        cfn=(2)
        calls=10 0
        0 50
        cfn=(5) swift_release'2
        calls=7 0
        0 21
        totals: 511
        """

    @Test("the profile's calls are counted per callee, through name compression and recursion suffixes")
    func readsCalls() throws {
        let profile = try CallgrindProfile(text: Self.profile)
        #expect(profile.totalInstructions == 511)
        #expect(profile.callsByFunction["swift_retain"] == 50)
        #expect(profile.callsByFunction["swift_release"] == 7)
        #expect(profile.calls(of: CallgrindGate.watched) == ["swift_retain": 50, "swift_release": 7, "posix_memalign": 3])
    }

    @Test("the gate passes below one extra watched call per hundred dispatches and fails at it, naming the function")
    func gateTolerance() {
        let steady = CallgrindGate.Case(name: "e2e", instructionsPerDispatch: 4600, callsSmall: ["swift_retain": 500, "malloc": 80],
                                        callsLarge: ["swift_retain": 500 + 87, "malloc": 80], extraDispatches: 88_000)
        #expect(steady.pass)
        let growing = CallgrindGate.Case(name: "e2e", instructionsPerDispatch: 4600, callsSmall: ["swift_retain_n": 500],
                                         callsLarge: ["swift_retain_n": 500 + 880, "aligned_alloc": 1], extraDispatches: 88_000)
        #expect(!growing.pass)
        #expect(growing.growing == ["swift_retain_n"])
        for function in ["swift_retain_n", "swift_bridgeObjectRetain", "swift_allocObject", "posix_memalign", "aligned_alloc", "memalign"] {
            #expect(CallgrindGate.watched.contains(function), "the gate does not watch \(function)")
        }
    }
}

/// The traced rows of issue 17: what they run.
@Suite("Traced rows")
struct TracedRowTests {
    @Test("the play rows' scenario is the shipped steady stream, stopped after N completions, with no pinned hash")
    func steadyStreamScenario() throws {
        let shipped = try String(contentsOfFile: "scenarios/steady-stream.yaml", encoding: .utf8)
        let derived = try TracedRows.steadyStream(completions: 12_345)
        let lines = derived.split(separator: "\n").map(String.init)
        #expect(lines.contains("duration: 1h"))
        #expect(derived.contains("timeline:\n  - after: 12345 completions\n    do: stop\nexpect:\n  completions: \">= 12345\"\n"))
        #expect(!derived.contains("trace-hash") && !derived.contains("latency-p99"))
        // Everything that makes the job (board, seed, driver, stream) is the shipped file's.
        for key in ["board:", "seed:", "driver:", "  ring:", "  buffer-size:", "stream:", "  pattern:", "  packet-size:", "  rate:"] {
            let line = try #require(shipped.split(separator: "\n").first { $0.hasPrefix(key) })
            #expect(lines.contains(String(line)), "\(line)")
        }
    }

    @Test("the callgrind gate profiles the traced paths as well as the untraced one")
    func gateCases() {
        #expect(CallgrindGate.caseNames.contains("e2e"))
        #expect(CallgrindGate.caseNames.contains("e2e-trace"))
        #expect(CallgrindGate.caseNames.contains("e2e-trace-file"))
        for name in CallgrindGate.caseNames { #expect(VirtualTimers.Case(rawValue: name) != nil, "no virtual-timers case \(name)") }
    }
}
