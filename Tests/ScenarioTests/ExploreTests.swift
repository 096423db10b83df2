import Board
import Devices
import Foundation
import Glibc
import Reactor
import Testing
import Scenario

/// `uioemu explore`: the planted bugs it must find (each a classic mistake of a UIO DMA driver),
/// the reproducers it writes, and the command as a user runs it.
@Suite("uioemu explore")
struct ExploreTests {
    /// A planted bug, the base scenario it is explored on, and the failure kind it must show.
    struct PlantedCase: CustomStringConvertible, Sendable {
        let bug: String
        let board: String
        let kind: String
        var description: String { bug }

        var scenario: String { "board: \(board)\nseed: 1\nduration: 10ms\ndriver: { bug: \(bug) }\n" }
    }

    static let planted: [PlantedCase] = [
        // Unmask (write 1) before clearing the cause: the level line fires again at once.
        PlantedCase(bug: "enable-before-clear", board: "p2020-fpga", kind: "findings.UIO-ENABLE-CAUSE"),
        // No sync_for_cpu on the non-coherent PPC440: the CPU reads stale cache lines.
        PlantedCase(bug: "no-sync-for-cpu", board: "ml507-ppc440", kind: "findings.CPU-READ-NO-SYNC"),
        // The ring full (a consumer stall), the buffer the consumer holds is armed anyway.
        PlantedCase(bug: "rearm-held-buffer", board: "p2020-fpga", kind: "invariant: each buffer has one owner"),
        // An error interrupt taken for a completion that never came: the channel stays halted.
        PlantedCase(bug: "ignore-error-bits", board: "p2020-fpga", kind: "no-progress"),
        // Each transfer lands one page past its buffer: the buffer read holds other bytes.
        PlantedCase(bug: "dma-address-page-off", board: "p2020-fpga", kind: "mismatched-bytes"),
        // After an error's reset the line stays masked: the retried transfer is never heard.
        PlantedCase(bug: "no-reenable-after-error", board: "p2020-fpga", kind: "findings.UIO-NEVER-REENABLED"),
    ]

    static func spec(_ text: String, file: String = "explore-test.yaml") throws -> ScenarioSpec {
        try ScenarioParser.parse(text, file: file, testOnlyBugs: true)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-explore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("explore finds each planted bug within 200 runs of seed 1, shrinks it to at most 3 faults, the same faults without the bug pass, and the reproducer it writes plays to the same failure",
          arguments: planted)
    func findsPlantedBug(_ c: PlantedCase) throws {
        let base = try Self.spec(c.scenario)
        let exploration = try Exploration(spec: base, profile: board(for: base))
        var found: Exploration.Run? = nil
        for index in 0..<200 {  // bounded: the 200 runs the claim allows
            let run = try exploration.play(exploration.perturbation(seed: 1, run: index))
            if run.failureKinds.contains(c.kind) {
                found = run
                break
            }
        }
        let failing = try #require(found, "\(c.bug): no run of 200 failed with \(c.kind)")
        let shrunk = try exploration.shrink(failing, kind: c.kind)
        #expect(shrunk.run.failureKinds.contains(c.kind))
        #expect(shrunk.run.perturbation.faults.count <= 3, "\(c.bug): \(shrunk.run.perturbation.faults)")
        #expect(shrunk.run.perturbation.faults.count <= failing.perturbation.faults.count)

        // The failure is the bug's: the driver without it passes the same perturbation.
        var fixed = base
        fixed.workload.driver.plantedBug = nil
        let control = try Exploration(spec: fixed, profile: board(for: fixed)).play(shrunk.run.perturbation)
        #expect(control.failureKinds.isEmpty, "\(c.bug) fixed still fails: \(control.failureKinds) \(control.outcome.failures)")

        // The reproducer, written and read back as `uioemu play` reads it, fails the same way.
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(Exploration.reproducerName(seed: shrunk.run.perturbation.seed)).path
        try Data(exploration.reproducer(shrunk.run.scenario, in: directory.path, header: ["test"]).utf8).write(to: URL(fileURLWithPath: file))
        let replayed = try ScenarioParser.load(path: file, testOnlyBugs: true)
        let outcome = try ScenarioRunner(spec: replayed, profile: board(for: replayed)).run()
        #expect(outcome.verdict == .fail)
        #expect(ExploreOracle.failureKinds(outcome, spec: replayed).contains(c.kind), "\(c.bug): \(outcome.failures)")
        #expect(outcome.seed == shrunk.run.perturbation.seed)
    }

    @Test("the CLI explores a planted bug to exit 1, prints the reproduce command, and uioemu play of the written file fails the same way (and refuses it without UIOEMU_TEST_ONLY_BUGS=1)")
    func cliFindsAndReplays() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenario = directory.appendingPathComponent("rearm.yaml").path
        try Data(Self.planted[2].scenario.utf8).write(to: URL(fileURLWithPath: scenario))
        let out = directory.appendingPathComponent("out").path
        let gate = ["UIOEMU_TEST_ONLY_BUGS": "1"]
        let explored = try runUIOEmu(["explore", scenario, "--runs", "200", "--seed", "1", "--out", out], environment: gate)
        #expect(explored.status == 1, "\(explored.out)\(explored.err)")
        #expect(explored.out.contains("invariant: each buffer has one owner"))
        let line = try #require(explored.out.split(separator: "\n").first { $0.contains("reproduce: ") }, "\(explored.out)")
        let command = line.components(separatedBy: "reproduce: ")[1]
        #expect(command.hasPrefix("UIOEMU_TEST_ONLY_BUGS=1 uioemu play \(out)/repro-"), "\(command)")
        let repro = String(command.split(separator: " ").last!)
        #expect(FileManager.default.fileExists(atPath: repro))
        #expect(explored.out.contains("\nFAIL (200 run(s), seed 1, shard 1/1)\n"))

        let played = try runUIOEmu(["play", "--json", repro], environment: gate)
        #expect(played.status == 1, "\(played.out)\(played.err)")
        #expect(played.out.contains("each buffer has one owner: the consumer gave back"), "\(played.out)")
        let refused = try runUIOEmu(["play", repro])
        #expect(refused.status == 2)
        #expect(refused.err.contains("error: bug: rearm-held-buffer is a test-only planted bug"), "\(refused.err)")
        #expect(refused.err.contains("\(repro):"), "the error is located: \(refused.err)")
    }

    @Test("the built-in driver passes 100 runs of the whole catalogue (make explore runs 2,000)")
    func builtInDriverPasses() throws {
        let spec = try ScenarioParser.load(path: repositoryRoot.appendingPathComponent("scenarios/explore/receive-p2020.yaml").path)
        let exploration = try Exploration(spec: spec, profile: board(for: spec))
        #expect(exploration.catalogue.kinds.count == 14, "every kind but lost-interrupt (level lines): \(exploration.catalogue.kinds)")
        var kinds = Set<String>()
        for index in 0..<100 {  // bounded: 100 runs
            let run = try exploration.play(exploration.perturbation(seed: 7, run: index))
            #expect(run.failureKinds.isEmpty, "run \(index): \(run.failureKinds) \(run.outcome.failures) \(run.perturbation.faults)")
            kinds.formUnion(run.perturbation.faults.map(\.kind))
        }
        #expect(kinds.count == 14, "every kind was drawn: \(kinds.sorted())")
    }

    @Test("a run past the wall-time limit is stopped, not waited for: it ends long before its board duration and fails as hang.wall-time")
    func wallLimitStopsTheRun() throws {
        guard case let .success(spec) = parse("board: p2020-fpga\nduration: 60s\n") else { Issue.record("did not parse"); return }
        var exploration = try Exploration(spec: spec, profile: board(for: spec))
        exploration.wallLimitSeconds = 0.05
        let run = try exploration.play(exploration.perturbation(seed: 1, run: 0))
        #expect(run.failureKinds.contains("hang.wall-time"), "\(run.failureKinds)")
        // A minute of board time is about six million completions, some seconds of wall time even in
        // a release build: stopped at 50 ms, the run saw a small part of it.
        #expect(run.outcome.boardTime < .start + .seconds(30), "\(run.outcome.boardTime)")
        #expect(run.wallSeconds < 20, "\(run.wallSeconds)")
    }

    @Test("explore runs an attached C driver (driver: { command: [...] }) and its runs pass")
    func attachedDriver() throws {
        let spec = try ScenarioParser.load(path: repositoryRoot.appendingPathComponent("scenarios/explore/attached-c-driver.yaml").path)
        let exploration = try Exploration(spec: spec, profile: board(for: spec))
        #expect(!exploration.catalogue.kinds.contains(.restartDriver) && !exploration.catalogue.kinds.contains(.corruptByte))
        for index in 0..<2 {  // bounded: 2 runs (make explore runs 200)
            let run = try exploration.play(exploration.perturbation(seed: 1, run: index))
            #expect(run.failureKinds.isEmpty, "run \(index): \(run.failureKinds) \(run.outcome.failures)")
            #expect(run.endState == "stopped", "the program ended on its own")
            #expect(run.outcome.completions >= 500)
        }
    }

    @Test("the shrinker keeps only what the failure needs: the one fault it depends on, no jitter, moved to the end of the window, made as small as it still fails; within its budget")
    func shrinkerAlone() throws {
        let end = TimeSpan.milliseconds(6)
        let faults = [
            ExploreFault(at: .microseconds(700), action: .inject(.slaveError)),
            ExploreFault(at: .microseconds(1_500), action: .consumerStall(.microseconds(800))),
            ExploreFault(at: .microseconds(2_100), action: .inject(.shortPacket(bytes: 3_000))),
            ExploreFault(at: .microseconds(4_000), action: .restartDriver),
        ]
        let failing = Perturbation(seed: 9, faults: faults, jitter: [1_234, -77])
        // A failure that needs a consumer stall of at least 100 µs, and nothing else.
        func fails(_ p: Perturbation) -> Bool {
            p.faults.contains { if case let .consumerStall(span) = $0.action { return span >= .microseconds(100) } else { return false } }
        }
        var shrinker = Shrinker(budget: 150, windowEnd: end)
        let smallest = shrinker.shrink(failing, stillFails: fails)
        #expect(smallest.faults == [ExploreFault(at: end, action: .consumerStall(.microseconds(100)))], "\(smallest.faults)")
        #expect(smallest.jitter.allSatisfy { $0 == 0 } && smallest.seed == 9)
        #expect(shrinker.runs <= 150)

        var tight = Shrinker(budget: 3, windowEnd: end)
        let partly = tight.shrink(failing, stillFails: fails)
        // Three runs: the restart and the short packet go, the stall stays (the third run fails without it).
        #expect(tight.runs == 3 && fails(partly) && partly.faults.map(\.kind) == ["slave-error", "consumer-stall"], "\(partly.faults)")
    }

    @Test("found by explore: a restart while a completion waits unheard (the line masked by another process) abandons that transfer with a counted reason, so the consumer's gap is explained")
    func restartWithCompletionUnheard() throws {
        let outcome = play("""
            board: p2020-fpga
            duration: 3ms
            timeline:
              - at: 1ms
                do: mask-irq
              - at: 1100us
                do: restart-driver
              - at: 1200us
                do: unmask-irq
            expect:
              mismatched-bytes: 0
              driver-state: running
              after-last-step: { completions: ">= 100" }
            """)
        #expect(outcome.passed, "\(outcome.failures)")
    }

    @Test("the scatter-gather driver passes 40 runs of its whole catalogue, the descriptor faults included (make explore runs 2,000)")
    func sgDriverPasses() throws {
        let spec = try ScenarioParser.load(path: repositoryRoot.appendingPathComponent("scenarios/explore/sg-receive-p2020.yaml").path)
        let exploration = try Exploration(spec: spec, profile: board(for: spec))
        #expect(exploration.catalogue.kinds.count == 16, "every kind but stall (no watchdog) and lost-interrupt (level lines): \(exploration.catalogue.kinds)")
        var kinds = Set<String>()
        for index in 0..<40 {  // bounded: 40 runs
            let run = try exploration.play(exploration.perturbation(seed: 1, run: index))
            #expect(run.failureKinds.isEmpty, "run \(index): \(run.failureKinds) \(run.outcome.failures) \(run.perturbation.faults)")
            kinds.formUnion(run.perturbation.faults.map(\.kind))
        }
        #expect(kinds.count == 16, "every kind was drawn: \(kinds.sorted())")
    }

    /// `scenarios/sg-steady-stream.yaml`, the scenario explore found the two bugs below on.
    static let sgSteadyStream = """
        board: p2020-fpga
        duration: 10ms
        mode: sg-receive
        driver:
          ring: 16
          buffer-size: 4096
          max-retries: 3
          coalesce: { threshold: 4, delay: 10 }
        stream:
          pattern: counter
          packet-size: 4096
          rate: unlimited

        """

    @Test("found by explore (sg-steady-stream, restart-driver): a restart abandons the descriptors in the chain, three of them completed unreaped below the threshold, with a counted reason, so the consumer's gap is explained, and the driver comes back")
    func sgRestartAbandonsChain() throws {
        let outcome = play(Self.sgSteadyStream + """
            seed: 10043205694874202455
            timeline:
              - at: 6ms
                do: restart-driver
            expect:
              mismatched-bytes: 0
              errors: 0
              violations: 0
              findings: 0
              driver-state: running
              after-last-step: { completions: ">= 300" }
            """)
        // Before the fix: "1 gap(s) in the stream with no counted reason ... 12288 bytes are missing".
        #expect(outcome.passed, "\(outcome.failures)")
        #expect(outcome.measures.bytesDropped == 4096, "the packet in flight, flushed by the reset and counted by the device")
    }

    @Test("found by explore (sg-steady-stream, free-buffer 4): a buffer freed after the engine filled it and before the reap is read through the stale handle as a use after free, which explore's oracle does not hold against the run (the fault's own consequence); the stale address then fails every retry, the documented failed end")
    func sgFreedBufferIsTheFaults() throws {
        let spec = try Self.spec(Self.sgSteadyStream)
        let exploration = try Exploration(spec: spec, profile: board(for: spec))
        let run = try exploration.play(Perturbation(seed: 4958866241143383897, faults: [
            ExploreFault(at: .microseconds(4480), action: .freeBuffer(slot: 4)),
        ]))
        // Before the fix: violations.cpu-access-while-device-owned (the freed buffer's sync refused, the heap took the read for a missing sync).
        #expect(run.failureKinds.isEmpty, "\(run.failureKinds) \(run.outcome.failures)")
        #expect(run.outcome.measures.findings["cpu-access-after-free"] == 1, "\(run.outcome.measures.findings)")
        #expect(run.outcome.measures.findings["cpu-access-while-device-owned"] == nil, "\(run.outcome.measures.findings)")
        #expect(run.endState.hasPrefix("failed: DMADecErr"), "\(run.endState)")
        // Without the fault the same run passes and ends running.
        let clean = try exploration.play(Perturbation(seed: 4958866241143383897, faults: []))
        #expect(clean.failureKinds.isEmpty && clean.endState.hasPrefix("running"), "\(clean.failureKinds) \(clean.endState)")
    }

    @Test("a run is a function of the explore seed and its number: the same perturbation every time, another for another run or seed")
    func deterministic() throws {
        let spec = try ScenarioParser.load(path: repositoryRoot.appendingPathComponent("scenarios/explore/receive-p2020.yaml").path)
        let exploration = try Exploration(spec: spec, profile: board(for: spec))
        #expect(exploration.perturbation(seed: 3, run: 5) == exploration.perturbation(seed: 3, run: 5))
        #expect(exploration.perturbation(seed: 3, run: 5) != exploration.perturbation(seed: 3, run: 6))
        #expect(exploration.perturbation(seed: 3, run: 5) != exploration.perturbation(seed: 4, run: 5))
        let a = try exploration.play(exploration.perturbation(seed: 3, run: 5))
        let b = try exploration.play(exploration.perturbation(seed: 3, run: 5))
        #expect(a.outcome.completions == b.outcome.completions && a.outcome.bytesDelivered == b.outcome.bytesDelivered)
        for fault in exploration.perturbation(seed: 3, run: 5).faults {
            #expect(fault.at >= exploration.catalogue.windowStart && fault.at < exploration.catalogue.windowEnd)
        }
    }

    @Test("--shard i/n splits the runs: the shards' --json outputs concatenated hold every run exactly once, the same as one unsharded run")
    func shardsConcatenate() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func runs(_ extra: [String]) throws -> [String] {
            let r = try runUIOEmu(["explore", "scenarios/steady-stream.yaml", "--runs", "6", "--seed", "11", "--json", "--out", directory.path] + extra)
            #expect(r.status == 0, "\(r.out)\(r.err)")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.last?.contains("\"record\":\"summary\"") == true)
            // Run records without their wall time (the one figure that differs between processes).
            return lines.filter { $0.contains("\"record\":\"run\"") }.map { $0.replacingOccurrences(of: #""wall_seconds":[0-9.e-]+"#, with: "", options: .regularExpression) }
        }
        let whole = try runs([])
        let sharded = try runs(["--shard", "1/2"]) + runs(["--shard", "2/2"])
        #expect(whole.count == 6)
        #expect(Set(sharded) == Set(whole) && sharded.count == whole.count)
    }

    @Test("SIGINT ends explore between runs or in one: INTERRUPTED with the summary of the runs until then, exit 130, no reproducer left behind")
    func interrupted() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = try SpawnedUIOEmu(["explore", "scenarios/steady-stream.yaml", "--runs", "100000", "--out", directory.path])
        #expect(process.waitForStopSignalHandlers())
        kill(process.pid, SIGINT)
        let r = process.wait()
        #expect(r.exited && r.status == 130, "\(r)")
        #expect(r.out.contains("INTERRUPTED by SIGINT after "), "\(r.out)")
        #expect(r.out.contains("failures by kind: none"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("bad arguments and inputs exit 2 with a located error", arguments: [
        (["explore", "scenarios/steady-stream.yaml", "--runs", "0"], "--runs: expected a positive count, found 0"),
        (["explore", "scenarios/steady-stream.yaml", "--shard", "3/2"], "--shard: expected i/n with 1 ≤ i ≤ n"),
        (["explore", "scenarios/steady-stream.yaml", "--seed", "-1"], "must be ≥ 0, found -1"),
        (["explore", "scenarios/s2mm-register-conformance.yaml"], "scenarios/s2mm-register-conformance.yaml: error: explore needs a driver"),
        (["explore", "scenarios/nope.yaml"], "scenarios/nope.yaml:1:1: error: cannot open a scenario"),
    ])
    func badArguments(_ arguments: [String], _ says: String) throws {
        let r = try runUIOEmu(arguments)
        #expect(r.status == 2, "\(arguments): \(r.out)\(r.err)")
        #expect(r.err.contains(says), "\(arguments): \(r.err)")
    }

    @Test("a test-only planted bug in a scenario file is a located error unless the parse allows it")
    func testOnlyBugRefused() throws {
        let text = "board: p2020-fpga\nduration: 1ms\ndriver:\n  bug: ignore-error-bits\n"
        guard case let .failure(diagnostics) = parse(text) else {
            Issue.record("a test-only bug parsed without being allowed")
            return
        }
        #expect(diagnostics.description.contains("test.yaml:4:8: error: bug: ignore-error-bits is a test-only planted bug"), "\(diagnostics)")
        #expect(try Self.spec(text).workload.driver.plantedBug != nil)
        // The checker's planted bugs stay scenario keys.
        #expect(try ScenarioParser.parse("board: p2020-fpga\nduration: 1ms\ndriver: { bug: no-sync-for-cpu }\n", file: "t.yaml", testOnlyBugs: false)
            .workload.driver.plantedBug != nil)
    }

    @Test("the scenario writer's file reads back to the same scenario (written again, the same text) that plays the same, for every shipped scenario")
    func writerRoundTrip() throws {
        let files = try shippedScenarioFiles() + scenarioFiles(in: repositoryRoot.appendingPathComponent("scenarios/checks"))
            + scenarioFiles(in: repositoryRoot.appendingPathComponent("scenarios/explore"))
        for file in files {
            let spec = try ScenarioParser.load(path: file)
            let text = ScenarioWriter.yaml(spec, board: spec.board, header: ["a header: with a colon"])
            let again = try ScenarioParser.parse(text, file: file)
            #expect(ScenarioWriter.yaml(again, board: again.board, header: ["a header: with a colon"]) == text, "\(file)")
            #expect(again.timeline.count == spec.timeline.count && again.expectations.count == spec.expectations.count, "\(file)")
            #expect(again.seed == spec.seed && again.duration == spec.duration && again.mode == spec.mode, "\(file)")
            // And it plays the same: the same figures, the same failures and findings.
            guard spec.mode != .attached, spec.workload.clock == .virtual else { continue }
            let a = try ScenarioRunner(spec: spec, profile: board(for: spec)).run()
            let b = try ScenarioRunner(spec: again, profile: board(for: again)).run()
            #expect(a.completions == b.completions && a.bytesDelivered == b.bytesDelivered && a.bytesDropped == b.bytesDropped, "\(file)")
            #expect(a.failures.map(\.message) == b.failures.map(\.message) && a.findings.counts == b.findings.counts, "\(file)")
        }
        #expect(ScenarioWriter.quoted("a \"b\"\n\u{7}\\") == #""a \"b\"\n\x07\\""#)
        #expect(ScenarioWriter.word("true") == "\"true\"" && ScenarioWriter.word("12") == "\"12\"" && ScenarioWriter.word("p2020-fpga") == "p2020-fpga")
    }
}
