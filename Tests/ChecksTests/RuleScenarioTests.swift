import Checks
import Foundation
import Scenario
import Testing

/// One shipped scenario per rule (`scenarios/checks/`), each breaking it in as few steps as it
/// takes, and the same scenario with the mistake fixed.
struct RuleCase: CustomTestStringConvertible, Sendable {
    let file: String
    /// The rules the scenario plants (each with at least one finding) and nothing else.
    let rules: [ProtocolRule]
    /// The mistake, as written in the file, and the correct sequence in its place.
    let mistake: String
    let fix: String

    var testDescription: String { file }
    var path: String { repositoryRoot.appendingPathComponent("scenarios/checks/\(file)").path }

    static let all: [RuleCase] = [
        RuleCase(file: "len-halted.yaml", rules: [.lengthWhileHalted],
                 mistake: "  - write: { register: S2MM_DA, value: 0x3c000000 }\n",
                 fix: "  - write: { register: S2MM_DMACR, value: 0x00001001 }\n  - advance: 40ns\n  - write: { register: S2MM_DA, value: 0x3c000000 }\n"),
        RuleCase(file: "len-before-running.yaml", rules: [.lengthBeforeRunning],
                 mistake: "  - write: { register: S2MM_DA, value: 0x3c000000 }\n",
                 fix: "  - read: { register: S2MM_DMASR, expect: 1, mask: 1 }\n  - advance: 40ns\n  - read: { register: S2MM_DMASR, expect: 0, mask: 1 }\n  - write: { register: S2MM_DA, value: 0x3c000000 }\n"),
        RuleCase(file: "len-before-addr.yaml", rules: [.addressAfterLength],
                 mistake: "  - write: { register: S2MM_LENGTH, value: 4096 }    # the bug: LENGTH first\n  - write: { register: S2MM_DA, value: 0x3c000000 }\n",
                 fix: "  - write: { register: S2MM_DA, value: 0x3c000000 }\n  - write: { register: S2MM_LENGTH, value: 4096 }\n"),
        RuleCase(file: "len-while-busy.yaml", rules: [.lengthWhileBusy],
                 mistake: "  - write: { register: S2MM_LENGTH, value: 8192 }    # the bug: the first is still in progress\n",
                 fix: "  - wait-irq: { channel: s2mm, within: 20us }\n  - write: { register: S2MM_DMASR, value: 0x1000 }\n  - write: { register: S2MM_LENGTH, value: 8192 }\n"),
        RuleCase(file: "len-truncated.yaml", rules: [.lengthTruncated],
                 mistake: "value: 16384 }", fix: "value: 16383 }"),
        RuleCase(file: "reset-not-done.yaml", rules: [.writeDuringReset],
                 mistake: "  - write: { register: S2MM_DMACR, value: 0x00001001 }   # the bug: Reset still reads 1\n",
                 fix: "  - read: { register: S2MM_DMACR, expect: 4, mask: 4 }\n  - advance: 320ns\n  - read: { register: S2MM_DMACR, expect: 0, mask: 4 }\n  - write: { register: S2MM_DMACR, value: 0x00001001 }\n"),
        RuleCase(file: "uio-enable-cause.yaml", rules: [.enableWithCause],
                 mistake: "  - uio-write: 1                                     # the bug: IOC_Irq is still set\n",
                 fix: "  - write: { register: S2MM_DMASR, value: 0x1000 }\n  - uio-write: 1\n"),
        RuleCase(file: "uio-never-reenabled.yaml", rules: [.neverReenabled],
                 mistake: "  # the bug: no uio-write: 1 here\n", fix: "  - uio-write: 1\n"),
        RuleCase(file: "uio-missed-irq.yaml", rules: [.missedInterrupts],
                 mistake: "  - uio-read: { file: 1, expect: 2 }\n",
                 fix: "  - uio-read: { file: 1, expect: 2 }\n  - uio-read: { file: 0, expect: 2 }\n"),
        RuleCase(file: "irq-storm.yaml", rules: [.interruptStorm, .enableWithCause],
                 mistake: "  - uio-write: { value: 1, repeat: 1000 }           # the bug: IOC_Irq is never cleared\n",
                 fix: "  - write: { register: S2MM_DMASR, value: 0x1000 }\n  - uio-write: 1\n"),
        RuleCase(file: "reg-byte-order.yaml", rules: [.byteOrder], mistake: ", byte-order: big", fix: ""),
        RuleCase(file: "cpu-read-no-sync.yaml", rules: [.cpuReadWithoutSync], mistake: "  bug: no-sync-for-cpu\n", fix: "  ring: 8\n"),
        RuleCase(file: "mm2s-no-sync.yaml", rules: [.sendWithoutSync], mistake: "  bug: no-sync-for-device\n", fix: "  ring: 8\n"),
        RuleCase(file: "dma-outside-buffers.yaml", rules: [.dmaOutsideBuffers], mistake: "  bug: virtual-address\n", fix: ""),
        RuleCase(file: "dma-freed-buffer.yaml", rules: [.dmaFreedBuffer], mistake: "    free-buffer: 3\n", fix: "    advance: 1us\n"),
        RuleCase(file: "addr-unaligned.yaml", rules: [.unalignedWithoutDRE],
                 mistake: "value: 0x3c000002 }   # the bug: 2 bytes off the 4-byte width", fix: "value: 0x3c000000 }"),
        // The engine reads the swapped BUFFER_ADDRESS too: the guard refuses it (DMA-OUTSIDE-BUFFERS).
        RuleCase(file: "sg-desc-byte-order.yaml", rules: [.descriptorByteOrder, .dmaOutsideBuffers], mistake: "  bug: descriptor-byte-order\n", fix: ""),
        RuleCase(file: "sg-curdesc-running.yaml", rules: [.currentWhileRunning],
                 mistake: "  - write: { register: S2MM_CURDESC, value: 0x3c000040 }  # the bug: the channel runs\n", fix: ""),
        RuleCase(file: "sg-desc-pointer.yaml", rules: [.descriptorPointer], mistake: "value: 0x3c000020 }  # the bug: 0x20 apart",
                 fix: "value: 0x3c000000 }"),
    ]
}

@Suite("each rule fires on a minimal scenario that breaks it, and stays silent on the correct sequence")
struct RuleScenarioTests {
    @Test("every rule of the catalogue has its scenario in scenarios/checks")
    func everyRuleHasAScenario() throws {
        let covered = Set(RuleCase.all.flatMap(\.rules))
        #expect(covered == Set(ProtocolRule.allCases), "no scenario for \(Set(ProtocolRule.allCases).subtracting(covered))")
        let shipped = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("scenarios/checks").path)
            .filter { $0.hasSuffix(".yaml") }
        #expect(Set(shipped) == Set(RuleCase.all.map(\.file)), "every scenario in scenarios/checks is one of these cases")
    }

    @Test("the scenario passes under --strict with findings of its rules and no other", arguments: RuleCase.all)
    func fires(_ rule: RuleCase) throws {
        let outcome = try play(try String(contentsOfFile: rule.path, encoding: .utf8), file: rule.path, strict: true)
        #expect(outcome.passed, "\(outcome.failures)")
        #expect(Set(outcome.findings.byRule.map(\.rule)) == Set(rule.rules), "\(outcome.findings.lines)")
        for finding in outcome.findings.findings {
            #expect(!finding.device.isEmpty && !finding.values.isEmpty, "a finding says where and with which values: \(finding)")
        }
    }

    @Test("the same scenario with the mistake fixed has no finding", arguments: RuleCase.all)
    func silentWhenFixed(_ rule: RuleCase) throws {
        let text = try String(contentsOfFile: rule.path, encoding: .utf8)
        #expect(text.contains(rule.mistake), "the mistake is no longer written this way in \(rule.file): update the case")
        let fixed = text.replacingOccurrences(of: rule.mistake, with: rule.fix)
        let outcome = try play(fixed, file: rule.path)
        #expect(outcome.findings.isEmpty, "\(outcome.findings.lines)")
    }
}
