import Devices
import Foundation
import Scenario
import Testing

/// A scenario passes only when its timeline did what it says: every step ran (unless it may not:
/// `optional: true`) and every injected fault took effect, at a board time it records.
@Suite("Steps that never ran and faults that never fired")
struct TimelineEvidenceTests {
    @Test("a step whose time comes after the run ended fails the scenario, naming the step by file:line")
    func stepAfterTheEnd() {
        let outcome = play("""
            board: p2020-fpga
            duration: 1ms
            timeline:
              - at: 5ms
                inject: slave-error
            """)
        #expect(!outcome.passed)
        let failure = outcome.failures.first
        #expect(failure?.location.line == 4)
        #expect(failure?.message.hasPrefix("`at: 5ms` never ran: the run ended at 1ms") == true, "\(outcome.failures)")
    }

    @Test("optional: true lets the run end before the step")
    func optionalStep() {
        let outcome = play("""
            board: p2020-fpga
            duration: 1ms
            timeline:
              - at: 5ms
                inject: slave-error
                optional: true
            """)
        #expect(outcome.passed, "\(outcome.failures)")
    }

    @Test("a completion count never reached fails with the count there was; the step after it never ran either")
    func completionCountNeverReached() {
        let outcome = play("""
            board: p2020-fpga
            duration: 1ms
            timeline:
              - after: 1000000 completions
                do: pause-source
              - do: resume-source
            """)
        #expect(outcome.failures.count == 2)
        #expect(outcome.failures[0].message.hasPrefix("`after: 1000000 completions` never ran: the run ended at 1ms with \(outcome.completions) completions"))
        #expect(outcome.failures[1].location.line == 6)
        #expect(outcome.failures[1].message.hasPrefix("this step never ran: the step before it (line 4) never ran"))
    }

    @Test("steps after a stop never ran, and say the stop ended the run")
    func stepsAfterStop() {
        let outcome = play("""
            board: p2020-fpga
            duration: 10ms
            timeline:
              - at: 1ms
                do: stop
              - at: 2ms
                do: pause-source
            """)
        #expect(outcome.failures.map(\.message) == ["`at: 2ms` never ran: `do: stop` at line 4 ended the run at 1ms first (write optional: true if the run may end first)"])
    }

    @Test("a slave error aimed at an idle channel never takes effect: the scenario fails with what it waited for")
    func faultOnIdleChannel() {
        let outcome = play("""
            board: p2020-fpga
            duration: 2ms
            timeline:
              - at: 1ms
                inject: { fault: slave-error, channel: mm2s }
            """)
        #expect(!outcome.passed)
        #expect(outcome.failures.first?.location.line == 4)
        #expect(outcome.failures.first?.message.contains("`inject: slave-error` on mm2s (injected at 1ms) never took effect: it waited for the next transfer to end") == true,
                "\(outcome.failures)")
        #expect(outcome.faults.first?.evidence.outcome == .pending)
    }

    @Test("a lost-interrupt fault that met no edge (the source paused) fails the scenario")
    func lostInterruptWithoutEdge() {
        let outcome = play("""
            board: boards/p2020-fpga-edge.yaml
            duration: 3ms
            stream: { rate: 100 MB/s }
            timeline:
              - at: 1ms
                do: pause-source
              - at: 1100us
                inject: lost-interrupt
            """, file: repositoryRoot.appendingPathComponent("scenarios/x.yaml").path)
        #expect(outcome.failures.map(\.message).contains { $0.contains("`inject: lost-interrupt` on s2mm (injected at 1100us) never took effect: it waited for the line's next assertion") },
                "\(outcome.failures)")
    }

    @Test("a corruption beyond the packet is missed, with the reason; optional: true accepts that")
    func corruptionBeyondThePacket() {
        let text = """
            board: p2020-fpga
            duration: 2ms
            stream: { packet-size: 4 KiB }
            timeline:
              - at: 1ms
                inject: { fault: corrupt-byte, offset: 5000 }
            """
        let outcome = play(text)
        #expect(outcome.failures.first?.message.contains("never took effect: at ") == true, "\(outcome.failures)")
        #expect(outcome.failures.first?.message.contains("the transfer moved 4096 bytes: offset 5000 is beyond it") == true)
        #expect(play(text + "\n    optional: true\n").passed)
    }

    @Test("a fault that took effect records when: after it was injected, before the run ended")
    func evidenceOfAFaultThatFired() throws {
        let outcome = play("""
            board: p2020-fpga
            duration: 3ms
            timeline:
              - at: 1ms
                inject: slave-error
            expect:
              errors: { DMASlvErr: 1 }
            """)
        #expect(outcome.passed, "\(outcome.failures)")
        let fault = try #require(outcome.faults.first)
        guard case let .tookEffect(at) = fault.evidence.outcome else { Issue.record("\(fault.evidence.outcome)"); return }
        #expect(at > fault.evidence.injectedAt && at < outcome.boardTime)
    }

    @Test("a correct mask, mask, unmask from another process is neither a storm nor an enable with the cause asserted")
    func maskMaskUnmask() {
        let outcome = play("""
            board: p2020-fpga
            duration: 3ms
            timeline:
              - at: 1ms
                do: mask-irq
              - at: 1050us
                do: mask-irq
              - at: 1200us
                do: unmask-irq
            expect:
              storms: 0
              enables-with-cause-asserted: 0
              mismatched-bytes: 0
              after-last-step: { completions: ">= 150" }
            """)
        #expect(outcome.passed, "\(outcome.failures)")
    }

    @Test("script mode counts its completed transfers, so after: N completions waits for them")
    func scriptCompletions() {
        let outcome = play("""
            board: p2020-fpga
            mode: script
            duration: 1ms
            stream: { packet-size: 256 B }
            timeline:
              - write: { register: S2MM_DMACR, value: 0x1001 }
              - advance: 1us                          # Halted drops a few cycles after RS=1
              - write: { register: S2MM_DA, value: 0x3c000000 }
              - write: { register: S2MM_LENGTH, value: 4096 }
              - after: 1 completions
                read: { register: S2MM_LENGTH, expect: 256 }
            expect:
              completions: 1
              script-failures: 0
            """)
        #expect(outcome.passed, "\(outcome.failures)")
        #expect(outcome.completions == 1)
    }

    @Test("an expectation on a figure the mode does not measure fails instead of comparing against an uncounted zero")
    func unmeasuredFigure() {
        let outcome = play("""
            board: p2020-fpga
            mode: script
            duration: 1ms
            expect:
              errors: 0
              latency-p99: "<= 10us"
            """)
        #expect(outcome.failures.map(\.message) == [
            "expected errors == 0, but this run does not measure errors: mode: script has no driver",
            "expected latency-p99 <= 10000, but this run does not measure latency-p99: mode: script has no driver",
        ])
    }
}
