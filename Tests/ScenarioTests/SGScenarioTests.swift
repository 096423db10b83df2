import Foundation
import Glibc
import Scenario
import Testing

/// Scenario files selecting scatter-gather mode (`mode: sg-receive`): their keys, their located
/// errors, and the faults of the scatter-gather engine, each taking effect or failing the verdict.
@Suite("Scatter-gather scenarios")
struct SGScenarioTests {
    /// The fault, and the expectations that show it did what it says (the engine halts; the driver
    /// reaps what completed before, resets and goes on).
    static let kinds: [(fault: String, expect: String)] = [
        ("stale-descriptor", "errors: { SGIntErr: 1 }\n  recoveries: 1"),
        ("descriptor-slave-error", "errors: { SGSlvErr: 1 }\n  recoveries: 1"),
        ("descriptor-decode-error", "errors: { SGDecErr: 1 }\n  recoveries: 1"),
        // The rest of the packet is dropped with its reason; the descriptor's STATUS has the error.
        ("slave-error", "errors: { DMASlvErr: 1 }\n  recoveries: 1\n  bytes-dropped: { transfer-error: 4096 }"),
        ("decode-error", "errors: { DMADecErr: 1 }\n  recoveries: 1"),
    ]

    static func scenario(_ fault: String, expect: String, driver: String = "{ ring: 8, coalesce: { threshold: 2, delay: 10 } }") -> String {
        """
        board: p2020-fpga
        duration: 2ms
        mode: sg-receive
        driver: \(driver)
        timeline:
          - at: 1ms
            inject: \(fault)
        expect:
          \(expect)
          mismatched-bytes: 0
          driver-state: running
          after-last-step: { completions: ">= 80" }
        """
    }

    @Test("each scatter-gather fault takes effect, is recovered from, and leaves every byte accounted for", arguments: kinds.indices)
    func faultTakesEffect(index: Int) throws {
        let kind = Self.kinds[index]
        let outcome = play(Self.scenario(kind.fault, expect: kind.expect), file: repositoryRoot.appendingPathComponent("scenarios/sg.yaml").path)
        #expect(outcome.passed, "\(kind.fault): \(outcome.failures)")
        #expect(outcome.faults.count == 1 && outcome.faults[0].evidence.tookEffect, "\(kind.fault): \(outcome.faults.map(\.evidence))")
    }

    @Test("a stale-descriptor fault in cyclic BD mode never takes effect (Cmplt is ignored there), and the verdict says so at its step")
    func staleInCyclicFails() throws {
        let text = Self.scenario("stale-descriptor", expect: "errors: 0", driver: "{ ring: 8, cyclic: true }")
        let outcome = play(text, file: repositoryRoot.appendingPathComponent("scenarios/sg.yaml").path)
        #expect(!outcome.passed)
        #expect(outcome.failures.contains { $0.location.line == 6 && $0.message.contains("never took effect") && $0.message.contains("cyclic BD mode") },
                "\(outcome.failures)")
    }

    @Test("mode: sg-receive builds the driver's AXI DMA with scatter-gather; coalesce and cyclic reach DMACR")
    func keysReachTheCore() throws {
        let text = """
            board: p2020-fpga
            duration: 200us
            mode: sg-receive
            driver: { ring: 4, buffer-size: 2 KiB, coalesce: { threshold: 3, delay: 9 }, cyclic: true }
            """
        guard case let .success(spec) = parse(text) else { Issue.record("does not parse"); return }
        #expect(spec.mode == .sgReceive)
        #expect(spec.workload.driver.coalescing.threshold == 3 && spec.workload.driver.coalescing.delay == 9 && spec.workload.driver.cyclic)
        let w = try SGReceiveWorkload(profile: board(for: spec), configuration: spec.workload)
        try w.start()
        w.run(for: .microseconds(100))
        #expect(w.channel.scatterGather)
        #expect(w.channel.dmacr >> 16 & 0xFF == 3 && w.channel.dmacr >> 24 == 9 && w.channel.dmacr & (1 << 4) != 0)
        #expect(w.completions > 0)
        w.finish()
    }

    @Test("the scatter-gather keys' errors are located, with what was expected")
    func locatedErrors() {
        let text = """
            board: p2020-fpga
            duration: 1ms
            driver: { coalesce: { threshold: 2 }, cyclic: true }
            timeline:
              - at: 100us
                inject: descriptor-slave-error
            """
        guard case let .failure(d) = parse(text, file: "direct.yaml") else {
            Issue.record("coalescing for the direct driver parsed")
            return
        }
        let found = d.all.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(found.contains { $0.hasPrefix("3:21 'coalesce' configures the scatter-gather receive driver: expected mode: sg-receive") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("3:47 'cyclic' configures the scatter-gather receive driver") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("6:13 inject: descriptor-slave-error acts on the scatter-gather engine's descriptor fetch") }, "\(found)")
        let sg = """
            board: p2020-fpga
            duration: 1ms
            mode: sg-receive
            driver:
              ring: 1
              coalesce: { threshold: 0, delay: 256, count: 3 }
              bug: never-reenable
            """
        guard case let .failure(e) = parse(sg, file: "sg.yaml") else {
            Issue.record("bad SG keys parsed")
            return
        }
        let messages = e.all.map { "\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(messages.contains { $0.hasPrefix("5:9 expected a ring size in descriptors from 2 to 256, found 1") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("6:26 expected an interrupt threshold in packets (DMACR.IRQThreshold) from 1 to 255, found 0") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("6:36 expected an interrupt delay") && $0.contains("found 256") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("6:41 unknown key 'count'") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("7:8 expected a planted bug of the scatter-gather driver: 'descriptor-byte-order'") }, "\(messages)")
    }

    @Test("uioemu validate and play refuse a bad scatter-gather key with its file:line:column and exit 2")
    func cliExit2() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml").path
        try "board: p2020-fpga\nduration: 1ms\nmode: sg-receive\ndriver: { coalesce: { threshold: 300 } }\n".write(toFile: file, atomically: true, encoding: .utf8)
        for command in ["validate", "play"] {
            let (status, _, err) = try runUIOEmu([command, "--boards-dir", "boards", file].filter { command == "play" || $0 != "--boards-dir" && $0 != "boards" })
            #expect(status == 2, "\(command): \(err)")
            #expect(err.contains("\(file):4:34: error: expected an interrupt threshold in packets"), "\(command): \(err)")
        }
    }

    @Test("a direct-mode driver on a core built with scatter-gather is refused as input, exit 2")
    func directDriverOnSGCore() throws {
        let (status, _, err) = try runUIOEmu(["run", "scenarios/boards/p2020-fpga-sg.yaml", "--duration", "1ms"])
        #expect(status == 2, "\(err)")
        #expect(err.contains("is built with scatter-gather") && err.contains("mode: sg-receive"), "\(err)")
    }
}
