import Board
import Devices
import Reactor
import Testing

@Suite("MM2S looped back into S2MM through the fabric")
struct LoopbackTests {
    static let tx = Bench.buffer
    static let rx = Bench.buffer + 0x10_0000

    /// Words `first`, `first + 1`, ... as little-endian bytes.
    func words(from first: UInt32, count: Int) -> [UInt8] {
        (0..<count).flatMap { i -> [UInt8] in
            let w = first &+ UInt32(i)
            return [UInt8(truncatingIfNeeded: w), UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w >> 16), UInt8(truncatingIfNeeded: w >> 24)]
        }
    }

    @Test("an MM2S transfer arrives at the armed S2MM transfer as one packet of the same length, each word plus the constant")
    func packetComesBack() throws {
        let bench = try Bench()
        bench.mm2s.connectLoopback(to: bench.s2mm, StreamLoopback(transform: .addToWords(7)))
        bench.fill(Self.tx, with: words(from: 100, count: 256))
        bench.start(.s2mm, address: Self.rx, length: 4096)  // longer than the packet: LENGTH says what came
        bench.start(.mm2s, address: Self.tx, length: 1024)
        bench.advance(by: .microseconds(100))
        #expect(bench.status(.mm2s) & DMASR.IOC_Irq != 0)
        #expect(bench.status(.s2mm) & DMASR.IOC_Irq != 0)
        #expect(bench.read(.LENGTH, .s2mm) == 1024)
        #expect(bench.memory(at: Self.rx, count: 1024) == words(from: 107, count: 256))
        #expect(bench.s2mm.accounting.deliveredBytes == 1024)
        #expect(bench.s2mm.accounting.balances)
    }

    @Test("packets sent before S2MM is armed wait in its FIFO, boundaries kept, and a full FIFO drops with a reason")
    func packetsWaitAndOverflow() throws {
        let bench = try Bench(fifoDepth: "2 KiB")
        bench.mm2s.connectLoopback(to: bench.s2mm, StreamLoopback())
        bench.fill(Self.tx, with: words(from: 0, count: 1024))
        for n in 0..<3 {  // 3 × 1 KiB into a 2 KiB FIFO: the third is dropped
            bench.write(.DMASR, .mm2s, DMASR.IOC_Irq)
            bench.start(.mm2s, address: Self.tx + UInt64(n * 1024), length: 1024)
            bench.advance(by: .microseconds(100))
        }
        #expect(bench.s2mm.accounting.dropped[.fifoOverflow] == 1024)
        for n in 0..<2 {
            bench.write(.DMASR, .s2mm, DMASR.IOC_Irq)
            bench.start(.s2mm, address: Self.rx, length: 4096)
            bench.advance(by: .microseconds(100))
            #expect(bench.read(.LENGTH, .s2mm) == 1024)
            #expect(bench.memory(at: Self.rx, count: 1024) == words(from: UInt32(n * 256), count: 256))
        }
        #expect(bench.s2mm.accounting.balances)
        #expect(bench.s2mm.accounting.producedBytes == 3 * 1024)
    }
}
