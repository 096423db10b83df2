import Board
import Devices
import Reactor
import Testing

/// Stream sources and sinks: patterns, FIFO, drops with reasons, back-pressure, byte accounting.
@Suite struct StreamTests {
    /// A driver that re-arms S2MM into consecutive buffers every `period`, collecting what landed.
    final class SlowDriver {
        let bench: Bench
        var received: [UInt8] = []
        init(_ bench: Bench) { self.bench = bench }

        /// Arms, waits `period`, collects if done; `rounds` times. Checks the accounting every step.
        func run(rounds: Int, period: TimeSpan, length: UInt32 = 4096) {
            bench.write(.DMACR, .s2mm, Bench.runWithInterrupts)
            for _ in 0..<rounds {
                bench.write(.address, .s2mm, UInt32(Bench.buffer.rawValue))
                bench.write(.LENGTH, .s2mm, length)
                for _ in 0..<10 {
                    bench.advance(by: TimeSpan(nanoseconds: period.nanoseconds / 10))
                    #expect(bench.s2mm.accounting.balances, "produced = delivered + held + dropped at \(bench.reactor.now)")
                }
                guard bench.status(.s2mm) & DMASR.IOC_Irq != 0 else { continue }
                let count = Int(bench.read(.LENGTH, .s2mm))
                received += bench.memory(at: Bench.buffer, count: count)
                bench.write(.DMASR, .s2mm, DMASR.IOC_Irq)
            }
        }
    }

    @Test("packets of a counter source arrive in memory in stream order across transfers")
    func counterInOrder() throws {
        let bench = try Bench()
        bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .range(1...700)))
        let driver = SlowDriver(bench)
        driver.run(rounds: 20, period: .microseconds(10), length: 1024)
        #expect(bench.s2mm.accounting.deliveredPackets == 20)
        #expect(driver.received == patternBytes(.counter, count: driver.received.count))
        #expect(bench.s2mm.accounting.dropped.total == 0)
    }

    @Test("overflow with a slow consumer drops whole packets, counted as fifo-overflow, and the accounting balances")
    func overflowAccounting() throws {
        let bench = try Bench(fifoDepth: "4 KiB")
        // 1 KiB packets at 100 MB/s: one every 10.24 µs. The driver takes one every 100 µs.
        bench.s2mm.attach(StreamSource(pattern: .counter, packetSize: .fixed(1024), rateBytesPerSecond: 100_000_000))
        let driver = SlowDriver(bench)
        driver.run(rounds: 10, period: .microseconds(100), length: 1024)
        let accounting = bench.s2mm.accounting
        #expect(accounting.dropped[.fifoOverflow] > 0)
        #expect(accounting.dropped[.fifoOverflow] % 1024 == 0, "whole packets")
        #expect(accounting.heldBytes <= 4096)
        #expect(accounting.balances)
        #expect(accounting.producedBytes == accounting.deliveredBytes + accounting.heldBytes + accounting.dropped.total)
        #expect(accounting.deliveredBytes == 10 * 1024)
        // A dropped packet keeps its place in the pattern: the gap is visible to a checker.
        #expect(driver.received != patternBytes(.counter, count: driver.received.count))
        #expect(Array(driver.received.prefix(1024)) == patternBytes(.counter, count: 1024))
    }

    @Test("a back-pressured source stalls instead of dropping")
    func backPressure() throws {
        let bench = try Bench(fifoDepth: "4 KiB")
        bench.s2mm.attach(StreamSource(pattern: .prbs31(), packetSize: .fixed(1024), rateBytesPerSecond: 100_000_000, backPressure: true))
        let driver = SlowDriver(bench)
        driver.run(rounds: 10, period: .microseconds(100), length: 1024)
        let accounting = bench.s2mm.accounting
        #expect(accounting.dropped.total == 0)
        #expect(accounting.stalls > 0)
        #expect(accounting.balances)
        #expect(driver.received == patternBytes(.prbs31(), count: 10 * 1024), "every byte, in order")
    }

    @Test("a rate-limited source's packets arrive at bytes / rate, exactly")
    func sourceRate() throws {
        let bench = try Bench(fifoDepth: "64 KiB")
        // 1000-byte packets at 3 MB/s: 333_333.33 ns each; 3 packets take exactly 1 ms.
        bench.s2mm.attach(StreamSource(packetSize: .fixed(1000), rateBytesPerSecond: 3_000_000))
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 999_999))
        #expect(bench.s2mm.accounting.producedPackets == 2)
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 1_000_000))
        #expect(bench.s2mm.accounting.producedPackets == 3)
        #expect(bench.s2mm.accounting.heldBytes == 3000, "waiting in the FIFO, no transfer armed")
    }

    @Test("PRBS-31 is verified end to end: memory → MM2S → sink, and a corrupted byte is counted")
    func prbsEndToEnd() throws {
        let bench = try Bench()
        let length = 100_000  // more than one 64 KiB chunk
        bench.fill(Bench.buffer, with: patternBytes(.prbs31(), count: 3 * length))
        bench.mm2s.attach(StreamSink(pattern: .prbs31()))
        for k in 0..<3 {
            if k == 2 { try bench.mm2s.inject(.corruptByte(offset: 70_000)) }
            bench.start(.mm2s, address: Bench.buffer + UInt64(k * length), length: UInt32(length))
            bench.advance(by: .microseconds(300))
            #expect(bench.status(.mm2s) & DMASR.IOC_Irq != 0)
            bench.write(.DMASR, .mm2s, DMASR.IOC_Irq)
            if k == 1 { #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 0) }
        }
        #expect(bench.mm2s.sinkStatistics.verifiedBytes == UInt64(3 * length))
        #expect(bench.mm2s.sinkStatistics.mismatchedBytes == 1)
        #expect(bench.mm2s.sinkStatistics.packets == 3)
    }

    @Test("a slow sink stretches an MM2S transfer to bytes / sink rate")
    func slowSink() throws {
        let bench = try Bench(setupCycles: 0)
        bench.mm2s.attach(StreamSink(pattern: .none, rateBytesPerSecond: 1_000_000))  // 1 byte per µs
        bench.start(.mm2s, length: 100)
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 99_999))
        #expect(bench.status(.mm2s) & DMASR.IOC_Irq == 0)
        bench.reactor.run(until: Instant(nanosecondsSinceStart: 100_000))
        #expect(bench.status(.mm2s) & DMASR.IOC_Irq != 0)
    }

    @Test("the none pattern moves no bytes but every register and interrupt step happens", arguments: DMADirection.allCases)
    func nonePattern(direction: DMADirection) throws {
        let bench = try Bench()
        if direction == .s2mm {
            bench.s2mm.attach(StreamSource(pattern: .none, packetSize: .fixed(3000)))
        } else {
            bench.mm2s.attach(StreamSink(pattern: .none))
        }
        bench.start(direction, length: 4096)
        bench.advance(by: .microseconds(20))
        #expect(bench.status(direction) == DMASR.IOC_Irq | DMASR.Idle)
        #expect(bench.pending(direction))
        #expect(bench.memory(at: Bench.buffer, count: 16) == [UInt8](repeating: 0, count: 16))
        if direction == .s2mm {
            #expect(bench.read(.LENGTH, .s2mm) == 3000)
            #expect(bench.s2mm.accounting.deliveredBytes == 3000)
        } else {
            #expect(bench.mm2s.sinkStatistics.bytes == 4096)
            #expect(bench.mm2s.sinkStatistics.verifiedBytes == 0)
        }
        // An unmapped address is still a decode error without data.
        bench.write(.DMASR, direction, DMASR.IOC_Irq)
        bench.start(direction, address: PhysicalAddress(0x9000_0000), length: 4096)
        bench.advance(by: .microseconds(20))
        #expect(bench.status(direction) & DMASR.DMADecErr != 0)
    }

    @Test("packet lengths drawn from a range depend only on the seed")
    func seededPacketSizes() throws {
        func lengths(seed: UInt64) throws -> [UInt32] {
            let bench = try Bench(seed: seed)
            bench.s2mm.attach(StreamSource(pattern: .none, packetSize: .range(1...4096)))
            var result: [UInt32] = []
            bench.write(.DMACR, .s2mm, DMACR.RS)
            for _ in 0..<8 {
                bench.write(.LENGTH, .s2mm, 4096)
                bench.advance(by: .microseconds(20))
                result.append(bench.read(.LENGTH, .s2mm))
            }
            return result
        }
        #expect(try lengths(seed: 7) == lengths(seed: 7))
        #expect(try lengths(seed: 7) != lengths(seed: 8))
    }

    @Test("file bytes repeat as the stream's content")
    func fileBytes() throws {
        let bench = try Bench()
        let file: [UInt8] = Array("uioemu!".utf8)
        bench.s2mm.attach(StreamSource(pattern: .bytes(file), packetSize: .fixed(20)))
        bench.start(.s2mm, length: 20)
        bench.advance(by: .microseconds(10))
        #expect(bench.memory(at: Bench.buffer, count: 20) == Array((file + file + file).prefix(20)))
    }
}

/// The pattern generators on their own.
@Suite struct PatternTests {
    @Test("PRBS-31 bits satisfy x[n] = x[n-31] XOR x[n-28]")
    func prbsRecurrence() {
        let bytes = patternBytes(.prbs31(seed: 0x1234_5678), count: 4096)
        let bits = bytes.flatMap { byte in (0..<8).map { (byte >> $0) & 1 } }
        #expect(bits.contains(1) && bits.contains(0))
        #expect((31..<bits.count).allSatisfy { bits[$0] == bits[$0 - 31] ^ bits[$0 - 28] })
    }

    @Test("a pattern is the same however the stream is cut", arguments: [StreamPattern.counter, .prbs31(), .bytes([1, 2, 3, 4, 5])])
    func cutsDoNotMatter(pattern: StreamPattern) {
        let whole = patternBytes(pattern, count: 1000)
        var generator = PatternGenerator(pattern)
        var pieces: [UInt8] = []
        for size in [1, 3, 7, 64, 5, 2, 918] {
            var piece = [UInt8](repeating: 0, count: size)
            piece.withUnsafeMutableBytes { generator.fill($0) }
            pieces += piece
        }
        #expect(pieces == whole)
        #expect(patternBytes(pattern, count: 500, skipping: 333) == Array(whole[333..<833]), "skip keeps the place")
    }

    @Test("the word-wise comparison counts each differing byte once")
    func mismatchCount() {
        var a = [UInt8](repeating: 0xAA, count: 37)
        let b = a
        a[0] ^= 0xFF
        a[9] ^= 0x80
        a[36] ^= 1
        let count = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in countMismatchedBytes(pa, pb) } }
        #expect(count == 3)
    }

    @Test("checking against the generator counts and advances exactly as fill + compare", arguments: [StreamPattern.counter, .prbs31()])
    func generatorCheck(pattern: StreamPattern) {
        var reference = PatternGenerator(pattern)
        var checker = PatternGenerator(pattern)
        var scratch = [UInt8](repeating: 0, count: 4099)
        // Word-aligned and not, matching and corrupted, so the fast path and the fallback both run.
        for (round, length) in [4096, 4096, 3, 4096, 1024, 4099, 8].enumerated() {
            var data = [UInt8](repeating: 0, count: length)
            data.withUnsafeMutableBytes { reference.fill($0) }
            if round % 2 == 1 { data[length / 2] ^= 0x10; data[length - 1] ^= 0xFF }
            let got = data.withUnsafeBytes { d in scratch.withUnsafeMutableBytes { checker.countMismatches(in: d, scratch: $0) } }
            #expect(got == (round % 2 == 1 ? 2 : 0), "round \(round), \(length) bytes")
        }
        // Both generators are at the same place.
        var a = [UInt8](repeating: 0, count: 64), b = a
        a.withUnsafeMutableBytes { reference.fill($0) }
        b.withUnsafeMutableBytes { checker.fill($0) }
        #expect(a == b)
    }
}
