import Foundation
import Glibc
import Reactor
import Scenario
import Testing

@Suite("The progress line of a long run")
struct ProgressLineTests {
    @Test("the line shows board time against the goal, completions, the rate by the wall clock and the time left at it")
    func lineAgainstBoardTime() {
        let text = ProgressText(label: "steady", goal: .boardTime(.start + .milliseconds(4000)))
        let sample = RunProgress.Sample(boardTime: .start + .milliseconds(1000), completions: 1_234_567)
        // A quarter of the board time in 2 s of wall time: 6 s more at that pace.
        #expect(text.line(sample, wallSeconds: 2) == "steady: board 1.000 s of 4.000 s (25.0%) · 1,234,567 completions · 617.3 k/s · ETA 6s")
    }

    @Test("with a completion goal the line counts against it and the time left follows the completions")
    func lineAgainstCompletions() {
        let text = ProgressText(label: "p2020-fpga", goal: .completions(10_000_000))
        let sample = RunProgress.Sample(boardTime: .start + .milliseconds(250), completions: 2_500_000)
        #expect(text.line(sample, wallSeconds: 100) == "p2020-fpga: 2,500,000 of 10,000,000 completions (25.0%) · board 250.000 ms · 25.0 k/s · ETA 5m00s")
    }

    @Test("a progress probe leaves the run as it was: the same trace hash, and a sample every millisecond of board time")
    func probeDoesNotChangeTheRun() throws {
        let text = """
            board: p2020-fpga
            duration: 5ms
            stream:
              pattern: prbs31
              packet-size: { min: 64 B, max: 4 KiB }
            timeline:
              - at: 2ms
                inject: slave-error
            """
        guard case let .success(spec) = parse(text) else { Issue.record("did not parse"); return }
        let plain = try ScenarioRunner(spec: spec, profile: board(for: spec)).run(trace: .init())
        var samples: [RunProgress.Sample] = []
        let probed = try ScenarioRunner(spec: spec, profile: board(for: spec)).run(trace: .init(), progress: { samples.append($0) })
        #expect(plain.traceHash != nil && plain.traceHash == probed.traceHash)
        #expect(plain.completions == probed.completions && plain.passed == probed.passed)
        // Every whole millisecond before the end (the run stops at 5 ms, before a sample there).
        #expect(samples.map(\.boardTime.nanosecondsSinceStart) == (1..<5).map { Int64($0) * 1_000_000 })
        #expect(samples.map(\.completions) == samples.map(\.completions).sorted() && samples.last!.completions > 0)
    }

    @Test("a probe does not keep a run alive: with nothing else pending the reactor stops after one sample")
    func probeDoesNotKeepTheRunAlive() throws {
        guard case let .success(spec) = parse("board: p2020-fpga\nduration: 1ms\n") else { Issue.record("did not parse"); return }
        let profile = board(for: spec)
        let workload = try ReceiveWorkload(profile: profile, seed: 1, configuration: WorkloadConfiguration())
        #expect(!workload.reactor.hasPendingWork)
        var samples = 0
        let probe = RunProgress(workload: workload) { _ in samples += 1 }
        workload.reactor.run()
        #expect(samples == 1)
        #expect(!workload.reactor.hasPendingWork)
        probe.cancel()
    }

    @Test("run on a terminal shows the progress line on stderr; redirected or with --json it does not")
    func terminalOnly() throws {
        // `script` gives the command a pseudo-terminal; a run long enough to pass the first half second.
        let uioemu = uioemuExecutable.path
        let tty = try runShellLine("script -qec \(shellQuoted(uioemu + " run p2020-fpga --duration 2s")) /dev/null </dev/null")
        #expect(tty.status == 0)
        #expect(tty.out.contains("p2020-fpga: board ") && tty.out.contains(" of 2.000 s (") && tty.out.contains("ETA"))
        let piped = try runUIOEmu(["run", "p2020-fpga", "--duration", "2s"])
        #expect(piped.status == 0 && !piped.err.contains("ETA") && !piped.out.contains("ETA"))
        let json = try runShellLine("script -qec \(shellQuoted(uioemu + " run p2020-fpga --duration 2s --json")) /dev/null </dev/null")
        #expect(json.status == 0 && !json.out.contains("ETA"))
    }
}
