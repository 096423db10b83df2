import Board
import Checks
import Devices
import Driver
import Foundation
import Reactor
import Scenario
import Testing
import Trace

/// A sink that keeps what it is given, to see what the checker records and in which order.
final class RecordingSink: TraceSink {
    var events: [TraceEvent] = []
    var lineBytes: [Int] = []
    let needsLines: Bool
    init(needsLines: Bool = true) { self.needsLines = needsLines }
    var needsCanonicalLine: Bool { needsLines }
    func declare(_ track: TraceTrack) {}
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        events.append(event)
        lineBytes.append(line.count)
    }
    func close() throws(TraceError) {}
}

@Suite("the protocol checker")
struct CheckerTests {
    @Test("every rule has an id, an explanation and a fix, and the README's catalogue lists each with both")
    func catalogue() throws {
        let readme = try repositoryText("README.md")
        let section = try #require(readme.range(of: "## Protocol checker").map { String(readme[$0.lowerBound...]) })
        #expect(Set(ProtocolRule.allCases.map(\.id)).count == ProtocolRule.allCases.count)
        for rule in ProtocolRule.allCases {
            #expect(!rule.explanation.isEmpty && !rule.fix.isEmpty)
            #expect(section.contains("`\(rule.id)`"), "README's Protocol checker section lists \(rule.id)")
        }
    }

    @Test("a finding is recorded into the trace right after the event that caused it, with the device, register and values")
    func findingFollowsItsCause() throws {
        let profile = try shippedBoard("p2020-fpga")
        let checker = ProtocolChecker(profile: profile)
        let recorder = RecordingSink()
        let reactor = Reactor(clock: .virtual)  // the tracer holds it unowned
        let tracer = Tracer(reactor: reactor, sinks: [checker, recorder])
        let write = TraceEvent.register(device: "fpga-dma", register: "S2MM_LENGTH", offset: 0x58, value: 4096, access: .write)
        tracer.record(write)
        tracer.record(.interruptLine(line: 2, high: false))
        withExtendedLifetime(reactor) {}
        #expect(recorder.events.count == 3)
        #expect(recorder.events[0] == write)
        #expect(recorder.events[1] == .protocolFinding(rule: "LEN-HALTED", device: "fpga-dma.s2mm", register: "S2MM_LENGTH",
                                                       values: "wrote 4096 while DMACR is 0x10002 (RS=0) and DMASR 0x1"))
        #expect(checker.report.counts == ["LEN-HALTED": 1])
        let finding = try #require(checker.report.findings.first)
        #expect(finding.rule == .lengthWhileHalted && finding.register == "S2MM_LENGTH" && finding.nanoseconds == 0)
    }

    /// The p2020's S2MM channel and its UIO node, driven by hand-written events.
    final class Script {
        let reactor = Reactor(clock: .virtual)
        let checker: ProtocolChecker
        let tracer: Tracer
        init() throws {
            checker = ProtocolChecker(profile: try shippedBoard("p2020-fpga"))
            tracer = Tracer(reactor: reactor, sinks: [checker])
        }
        func status(_ dmasr: UInt32, control: UInt32 = 0x5003) {
            tracer.record(.channelStatus(channel: "fpga-dma.s2mm", control: control, status: dmasr))
        }
        func handler(_ count: Int32) { tracer.record(.uioInterrupt(device: "axi-dma-s2mm", count: count)) }
        func enable(_ on: Bool) { tracer.record(.uioEnable(device: "axi-dma-s2mm", enabled: on)) }
        func read(_ count: Int32, after previous: Int32) {
            tracer.record(.uioRead(device: "axi-dma-s2mm", count: count, previous: previous))
        }
        var counts: [String: Int] {
            checker.finish()
            return checker.report.counts
        }
    }

    @Test("a cause that became pending while another file had the line disabled is delivered correctly by the enable: no finding")
    func pendingWhileMaskedIsNotAFinding() throws {
        let s = try Script()
        s.status(0x1002)  // completion: IOC_Irq
        s.handler(1)
        s.read(1, after: 0)
        s.status(0x0002)  // the driver clears the cause
        s.enable(true)
        s.enable(false)   // another process masks
        s.status(0x1002)  // the next completion, while masked
        s.enable(true)    // the other process unmasks: the pending interrupt is delivered
        s.handler(2)
        s.read(2, after: 1)
        s.status(0x0002)
        s.enable(true)
        #expect(s.counts == [:])
    }

    @Test("a jump of the UIO count is a finding unless the driver accounts for it")
    func countJumps() throws {
        let unaccounted = try Script()
        unaccounted.read(3, after: 1)
        #expect(unaccounted.counts == ["UIO-MISSED-IRQ": 1])
        #expect(unaccounted.checker.report.findings.first?.values == "read count 3 after 1: 1 interrupt(s) not seen")
        let accounted = try Script()
        accounted.read(3, after: 1)
        accounted.tracer.record(.lostInterrupts(driver: "receive-driver", count: 1))
        #expect(accounted.counts == [:])
    }

    @Test("a spurious interrupt (no cause) re-enabled at once is not UIO-ENABLE-CAUSE")
    func spuriousEnable() throws {
        let s = try Script()
        s.status(0x0002)
        s.handler(1)
        s.read(1, after: 0)
        s.enable(true)
        #expect(s.counts == [:])
    }

    @Test("a tracer whose only sink is the checker encodes no canonical line")
    func checkerAloneEncodesNothing() throws {
        let profile = try shippedBoard("p2020-fpga")
        let lineless = RecordingSink(needsLines: false)
        let reactor = Reactor(clock: .virtual)  // the tracers hold it unowned
        let tracer = Tracer(reactor: reactor, sinks: [ProtocolChecker(profile: profile), lineless])
        tracer.record(.uioEnable(device: "axi-dma-s2mm", enabled: true))
        #expect(lineless.lineBytes == [0])
        let withLines = RecordingSink()
        let traced = Tracer(reactor: reactor, sinks: [ProtocolChecker(profile: profile), withLines])
        traced.record(.uioEnable(device: "axi-dma-s2mm", enabled: true))
        #expect(withLines.lineBytes.first ?? 0 > 0)
        withExtendedLifetime(reactor) {}
    }

    @Test("the built-in receive driver waits for a slow core: no finding with a 5 µs Halted lag and a 50 µs reset")
    func builtInDriverWaitsForASlowCore() throws {
        let text = try repositoryText("boards/p2020-fpga.yaml")
            .replacingOccurrences(of: "    setup-cycles: 16", with: "    setup-cycles: 16\n    halt-lag-cycles: 500\n    reset-cycles: 5000")
        let profile = try BoardProfile.parse(text, file: "slow-core.yaml", registry: DeviceKinds.standard)
        #expect(profile.device(named: "fpga-dma")?.parameters(as: AXIDMAParameters.self)?.resetCycles == 5000)
        let spec = try ScenarioParser.parse("""
            board: p2020-fpga
            duration: 2ms
            timeline:
              - at: 1ms
                inject: slave-error
            expect:
              recoveries: 1
              completions: ">= 150"
              mismatched-bytes: 0
            """, file: "slow-core-scenario.yaml")
        let outcome = try ScenarioRunner(spec: spec, profile: profile, strict: true).run()
        #expect(outcome.passed, "\(outcome.failures)")
        #expect(outcome.findings.isEmpty, "\(outcome.findings.lines)")
    }

    @Test("the built-in drivers have no finding in any shipped scenario (play scenarios/*.yaml --strict)", arguments: shippedScenarios())
    func shippedScenariosAreClean(file: String) throws {
        let outcome = try play(try String(contentsOfFile: file, encoding: .utf8), file: file, strict: true)
        let planted = outcome.findings.byRule.map(\.rule.id)
        // A scenario that plants a bug names its rule in findings:; strict fails on any other.
        #expect(!outcome.failures.contains { $0.message.hasPrefix("--strict") }, "\(outcome.findings.lines)")
        if !planted.isEmpty {
            #expect(try String(contentsOfFile: file, encoding: .utf8).contains("findings:"), "\(file) plants \(planted)")
        }
    }

    @Test("the receive driver told to re-enable before clearing the cause breaks UIO-ENABLE-CAUSE on every interrupt")
    func enableBeforeClear() throws {
        let outcome = try play("""
            board: p2020-fpga
            duration: 200us
            driver: { bug: enable-before-clear }
            """, file: "enable-before-clear.yaml")
        let count = outcome.findings.counts["UIO-ENABLE-CAUSE"] ?? 0
        #expect(count > 0 && count >= outcome.completions, "\(outcome.findings.lines)")
    }

    @Test("the receive driver that never re-enables after its first completion gets one interrupt ever, and UIO-NEVER-REENABLED")
    func neverReenabled() throws {
        let outcome = try play("""
            board: p2020-fpga
            duration: 200us
            driver: { bug: never-reenable }
            """, file: "never-reenable.yaml")
        #expect(outcome.completions == 1)
        #expect(outcome.findings.counts == ["UIO-NEVER-REENABLED": 1], "\(outcome.findings.lines)")
    }

    @Test("--strict fails a scenario on a finding its expectations do not name, with the rule, the first finding and the fix")
    func strictNamesTheRule() throws {
        let path = repositoryRoot.appendingPathComponent("scenarios/checks/len-halted.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "  findings: { LEN-HALTED: 1 }\n", with: "")
        #expect(try play(text, file: path).passed, "without --strict a finding alone fails nothing")
        let strict = try play(text, file: path, strict: true)
        #expect(!strict.passed)
        let message = try #require(strict.failures.first?.message)
        #expect(message.contains("LEN-HALTED") && message.contains("t+0ns") && message.contains("fix:"), "\(message)")
    }

    @Test("findings: expectations count one rule or all of them")
    func findingsExpectations() throws {
        let path = repositoryRoot.appendingPathComponent("scenarios/checks/len-halted.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let wrong = try play(text.replacingOccurrences(of: "findings: { LEN-HALTED: 1 }", with: "findings: { LEN-HALTED: 0 }"), file: path)
        #expect(wrong.failures.map(\.message) == ["expected findings.LEN-HALTED == 0, found 1"])
        let total = try play(text.replacingOccurrences(of: "findings: { LEN-HALTED: 1 }", with: "findings: \">= 1\""), file: path)
        #expect(total.passed, "\(total.failures)")
        #expect {
            _ = try ScenarioParser.parse(text.replacingOccurrences(of: "LEN-HALTED: 1", with: "LEN-HALTD: 1"), file: path)
        } throws: { error in
            (error as? Diagnostics)?.all.first?.suggestion == "LEN-HALTED"
        }
    }
}

/// The shipped scenarios (`scenarios/*.yaml`), sorted; a missing directory is a failure, not zero cases.
func shippedScenarios() -> [String] {
    let dir = repositoryRoot.appendingPathComponent("scenarios")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? ["(scenarios/ is missing)"]
    return names.filter { $0.hasSuffix(".yaml") || $0.hasPrefix("(") }.sorted().map { dir.appendingPathComponent($0).path }
}

@Suite("the protocol checker's UIO rules and new causes")
struct NewCauseTests {
    @Test("a cause that rises between the driver's DMASR read and its W1C is a new one: clearing the reported cause and re-enabling is no UIO-ENABLE-CAUSE, and the new cause is delivered at once")
    func newCauseBeforeTheEnable() throws {
        let text = """
            board: p2020-fpga
            seed: 1
            mode: script
            duration: 200us
            stream: { pattern: counter, packet-size: 256 B }
            timeline:
              - write: { register: S2MM_DMACR, value: 0x00003001 }
              - advance: 40ns
              - write: { register: S2MM_DA, value: 0x3c000000 }
              - write: { register: S2MM_LENGTH, value: 4096 }
              - uio-read: { expect: 1 }
              - read: { register: S2MM_DMASR, expect: 0x1000, mask: 0x7000 }
              - inject: delay-interrupt
              - write: { register: S2MM_DMASR, value: 0x1000 }
              - uio-write: 1
              - uio-read: { nonblocking: true, expect: 2 }
            expect:
              script-failures: 0
              findings: 0
            """
        let outcome = try play(text, file: repositoryRoot.appendingPathComponent("scenarios/checks/new-cause.yaml").path, strict: true)
        #expect(outcome.passed, "\(outcome.failures) \(outcome.findings.lines)")
        // Without the W1C the reported IOC is still set: the rule fires.
        let unclear = text.replacingOccurrences(of: "  - write: { register: S2MM_DMASR, value: 0x1000 }\n", with: "")
        let buggy = try play(unclear, file: repositoryRoot.appendingPathComponent("scenarios/checks/new-cause.yaml").path)
        #expect(buggy.findings.counts["UIO-ENABLE-CAUSE"] == 1, "\(buggy.findings.lines)")
    }
}
