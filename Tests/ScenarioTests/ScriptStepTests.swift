import Board
import Scenario
import Testing

/// The script steps for what the datasheet (PG021) and the kernel's UIO driver promise, played on
/// the P2020 (its AXI DMA's window is 64 KiB at 0xf_ffb0_0000; the DMA pool starts at 0x3c00_0000).
@Suite("script steps: registers anywhere in the window, the line, memory and the UIO node")
struct ScriptStepTests {
    static let header = """
        board: p2020-fpga
        mode: script
        duration: 200us
        stream: { pattern: counter, packet-size: 256 B }
        timeline:

        """

    /// Starts an S2MM transfer of 4096 bytes into the pool and lets it complete (one 256-byte packet).
    static let transfer = """
          - write: { register: S2MM_DMACR, value: 0x1001 }
          - advance: 40ns
          - write: { register: S2MM_DA, value: 0x3c000000 }
          - write: { register: S2MM_LENGTH, value: 4096 }
          - advance: 20us

        """

    func failures(_ timeline: String) -> [String] {
        play(Self.header + timeline).failures.map(\.message)
    }

    @Test("reserved offsets inside the window read 0 and ignore writes; an offset past the window fails the step")
    func reservedOffsets() {
        #expect(failures("""
              - write: { register: 0x38, value: 0xffffffff }
              - read: { register: 0x38, expect: 0 }
              - read: { register: 0xfffc, expect: 0 }
            """) == [])
        #expect(failures("  - read: { register: 0x10000, expect: 0 }\n") == ["offset 0x10000 is outside fpga-dma's window (65536 bytes)"])
        guard case let .failure(d) = parse(Self.header + "  - read: { register: 0x3a, expect: 0 }\n") else {
            Issue.record("an unaligned offset parsed"); return
        }
        #expect(d.all.first?.message.contains("4-aligned") == true)
    }

    @Test("expect-line asserts the level now: low before, high with IOC_Irq set and enabled, low after the W1C")
    func expectLine() {
        #expect(failures("  - expect-line: { channel: s2mm, level: low }\n" + Self.transfer + """
              - expect-line: { channel: s2mm, level: high }
              - write: { register: S2MM_DMASR, value: 0x1000 }
              - expect-line: { channel: s2mm, level: low }
            """) == [])
        #expect(failures("  - expect-line: { channel: s2mm, level: high }\n") == ["expect-line s2mm: line 2 is low, expected high"])
    }

    @Test("read-memory checks what DMA wrote against the stream pattern or given bytes, and names the first difference")
    func readMemory() {
        #expect(failures(Self.transfer + """
              - read-memory: { address: 0x3c000000, bytes: 256, expect: counter }
              - read-memory: { address: 0x3c000000, bytes: 8, expect: [0, 0, 0, 0, 1, 0, 0, 0] }
              - read-memory: { address: 0x3c000004, bytes: 4, expect: counter, stream-offset: 4 }
            """) == [])
        #expect(failures(Self.transfer + "  - read-memory: { address: 0x3c000000, bytes: 8, expect: \"00 00 00 00 02 00 00 00\" }\n")
            == ["read-memory 0x3c000000 +8: 1 byte(s) differ, the first at +4: expected 0x2, found 0x1"])
        #expect(failures("  - read-memory: { address: 0x3c000000, bytes: 16, expect: prbs31 }\n").first?.contains("differ from prbs31") == true)
    }

    @Test("uio-read: EAGAIN when non-blocking with nothing new, EINVAL for other than 4 bytes, else the count; each file its own")
    func uioRead() {
        #expect(failures("""
              - uio-read: { nonblocking: true, expect: EAGAIN }
              - uio-read: { bytes: 2, expect: EINVAL }
              - uio-read: { file: 1, nonblocking: true, expect: EAGAIN }

            """ + Self.transfer + """
              - uio-read: { expect: 1 }
              - uio-read: { nonblocking: true, expect: EAGAIN }
              - uio-read: { file: 1, nonblocking: true, expect: 1 }
              - uio-read: { file: 2, nonblocking: true, expect: EAGAIN }
            """) == [])
        #expect(failures("  - uio-read: { nonblocking: true, expect: 3 }\n") == ["uio-read file 0: expected count 3, found EAGAIN"])
    }

    @Test("a blocking uio-read waits for the next interrupt, and one that never comes fails at the end of the run instead of hanging")
    func blockingRead() {
        #expect(failures("""
              - write: { register: S2MM_DMACR, value: 0x1001 }
              - advance: 40ns
              - write: { register: S2MM_DA, value: 0x3c000000 }
              - write: { register: S2MM_LENGTH, value: 4096 }
              - uio-read: { expect: 1 }
              - read: { register: S2MM_DMASR, expect: 0x1000, mask: 0x1000 }
            """) == [])
        let never = failures("  - uio-read: { expect: 1 }\n")
        #expect(never.count == 1 && never[0].contains("no interrupt came before the run ended"), "\(never)")
    }

    @Test("uio-write 0 keeps a completion from being delivered; 1 with the cause still set fires again; a 2-byte write is EINVAL")
    func uioWrite() {
        #expect(failures("""
              - uio-write: 0
              - uio-write: { value: 1, bytes: 2, expect: EINVAL }

            """ + Self.transfer + """
              - uio-read: { nonblocking: true, expect: EAGAIN }
              - write: { register: S2MM_DMASR, value: 0x1000 }
              - write: { register: S2MM_DMASR, value: 0 }
              - uio-write: 1
              - uio-read: { nonblocking: true, expect: EAGAIN }
            """) == [])
        // The file opens at its first step, after the first interrupt: it has seen count 1 already.
        // Enabling while IOC_Irq is still set fires the level line again at once.
        #expect(failures(Self.transfer + """
              - uio-write: 0
              - uio-read: { nonblocking: true, expect: EAGAIN }
              - uio-write: 1
              - uio-read: { nonblocking: true, expect: 2 }
            """) == [])
    }

    @Test("uio steps belong to mode: script: in receive mode the parser refuses them at their line")
    func uioStepsNeedScript() {
        guard case let .failure(d) = parse("board: p2020-fpga\nduration: 1ms\ntimeline:\n  - uio-read: { expect: 1 }\n") else {
            Issue.record("parsed"); return
        }
        #expect(d.all.first?.location.line == 4)
        #expect(d.all.first?.message.contains("mode: script") == true)
    }
}
