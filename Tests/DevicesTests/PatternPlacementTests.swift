import Board
import CStreamKernels
import Devices
import Reactor
import Testing

/// Stream byte `n` of the counter pattern, straight from its definition (byte n % 4 of the
/// little-endian 32-bit word n / 4), one byte at a time.
func counterReference(count: Int, from start: Int = 0) -> [UInt8] {
    (start..<(start + count)).map { n in UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: n / 4) >> (8 * UInt32(n % 4))) }
}

/// The PRBS-31 stream straight from its recurrence, one bit at a time: the register's initial
/// bits 0 … 30 are x[-31] … x[-1], x[n] = x[n-31] ^ x[n-28], and bit k of the stream is bit k % 8
/// of byte k / 8.
func prbsReference(seed: UInt32, count: Int) -> [UInt8] {
    let state = seed & 0x7FFF_FFFF == 0 ? 0x7FFF_FFFF : seed & 0x7FFF_FFFF
    // history[m + 31] is x[m].
    var history = (0..<31).map { UInt8((state >> UInt32($0)) & 1) }
    history.reserveCapacity(31 + count * 8)
    var bytes = [UInt8](repeating: 0, count: count)
    for n in 0..<(count * 8) {
        let bit = history[n] ^ history[n + 3]
        history.append(bit)
        bytes[n / 8] |= bit << UInt8(n % 8)
    }
    return bytes
}

/// Placing a generator at a stream offset (what the S2MM device does for every packet, since its
/// FIFO holds packet offsets rather than bytes).
@Suite struct PatternPlacementTests {
    static let patterns: [StreamPattern] = [.counter, .prbs31(), .prbs31(seed: 0x1234_5678), .bytes([9, 8, 7, 6, 5, 4, 3])]

    static func reference(_ pattern: StreamPattern, count: Int) -> [UInt8] {
        switch pattern {
        case .counter: counterReference(count: count)
        case .prbs31(let seed): prbsReference(seed: seed, count: count)
        case .bytes(let content): (0..<count).map { content[$0 % content.count] }
        case .none: []
        }
    }

    @Test("the word-wise generator equals the byte-wise definition", arguments: patterns)
    func generatorMatchesDefinition(pattern: StreamPattern) {
        #expect(patternBytes(pattern, count: 20_000) == Self.reference(pattern, count: 20_000))
    }

    @Test("a generator placed at any offset, forwards or backwards, produces the stream from there", arguments: patterns)
    func seekAnywhere(pattern: StreamPattern) {
        let total = 72_000
        let whole = Self.reference(pattern, count: total)
        var generator = PatternGenerator(pattern)
        // Aligned and not, far jumps and short ones, backwards, the same place twice.
        let offsets = [0, 1, 3, 4, 5, 4095, 4097, 65_535, 70_001, 7, 7, 40_000, 2, 65_536, 12_345, 0]
        for offset in offsets {
            generator.seek(to: UInt64(offset))
            #expect(generator.position == UInt64(offset))
            let count = min(1_999, total - offset)
            var got = [UInt8](repeating: 0, count: count)
            got.withUnsafeMutableBytes { generator.fill($0) }
            #expect(got == Array(whole[offset..<(offset + count)]), "\(pattern) at \(offset)")
            #expect(generator.position == UInt64(offset + count))
        }
    }

    @Test("skip and seek agree with generating and throwing away, at a distance of megabytes", arguments: [StreamPattern.counter, .prbs31()])
    func farJump(pattern: StreamPattern) {
        let distance = 3 * 1024 * 1024 + 3
        var walked = PatternGenerator(pattern)
        var discard = [UInt8](repeating: 0, count: 1024 * 1024 + 1)
        var done = 0
        while done < distance {
            let n = min(discard.count, distance - done)
            discard.withUnsafeMutableBytes { walked.fill(UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
            done += n
        }
        var jumped = PatternGenerator(pattern)
        jumped.seek(to: UInt64(distance))
        var skipped = PatternGenerator(pattern)
        skipped.skip(5)
        skipped.skip(distance - 5)
        var a = [UInt8](repeating: 0, count: 4099), b = a, c = a
        a.withUnsafeMutableBytes { walked.fill($0) }
        b.withUnsafeMutableBytes { jumped.fill($0) }
        c.withUnsafeMutableBytes { skipped.fill($0) }
        #expect(a == b)
        #expect(a == c)
    }

    /// Runs every kernel check with the variant `level` (0: baseline, 1: AVX2, 2: AVX-512) in effect,
    /// and checks that it is the one that ran.
    func kernelsAgree(level: Int32) {
        // The level is process-wide: the other variants compute the same results, so tests running
        // meanwhile are unaffected; `KernelVariantTests` is serialised so its cases do not overlap.
        defer { _ = uioemu_stream_kernels_use(2) }
        #expect(uioemu_stream_kernels_use(level) == level, "variant \(level) is not the one in effect")
        #expect(patternBytes(.counter, count: 4099, skipping: 5) == counterReference(count: 4099, from: 5), "variant \(level)")
        counterCheckCatchesEveryByte()
        prbsFillAndCheckAtEveryLength()
        var a = [UInt8](repeating: 7, count: 333), b = a
        b[329] = 8  // in the last 8-byte word the block compare covers
        let mismatches = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in countMismatchedBytes(pa, pb) } }
        #expect(mismatches == 1, "variant \(level)")
        a[332] = 9  // in the tail after the 8-byte words
        #expect(a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in countMismatchedBytes(pa, pb) } } == 2)
        #expect(uioemu_stream_kernels_use(level) == level, "variant \(level) stayed in effect")
    }

    /// PRBS-31 filled in place (register words, then whole-word recurrences) equals the bit-wise
    /// definition around each switch-over, and the one-pass check finds one wrong bit anywhere:
    /// first word, middle, the last 31 bits (which become the register), the tail after 8-byte words.
    func prbsFillAndCheckAtEveryLength() {
        let seed: UInt32 = 0x2468_ACE1
        let reference = prbsReference(seed: seed, count: 9_000)
        var scratch = [UInt8](repeating: 0, count: 9_000)
        for start in [0, 4, 40] {
            for count in [8, 12, 252, 256, 260, 3_964, 3_968, 3_972, 3_976, 8_000, 8_004] {
                var generator = PatternGenerator(.prbs31(seed: seed))
                generator.seek(to: UInt64(start))
                var bytes = [UInt8](repeating: 0, count: count)
                bytes.withUnsafeMutableBytes { generator.fill($0) }
                #expect(bytes == Array(reference[start..<(start + count)]), "fill of \(count) at \(start)")
                for wrong in Set([0, 3, count / 2, count - 4, count - 1]) {
                    var data = bytes
                    data[wrong] ^= 0x08
                    var checker = PatternGenerator(.prbs31(seed: seed))
                    checker.seek(to: UInt64(start))
                    let mismatches = data.withUnsafeBytes { d in scratch.withUnsafeMutableBytes { checker.countMismatches(in: d, scratch: $0) } }
                    #expect(mismatches == 1, "\(count) at \(start), byte \(wrong) wrong")
                }
                var checker = PatternGenerator(.prbs31(seed: seed))
                checker.seek(to: UInt64(start))
                let clean = bytes.withUnsafeBytes { d in scratch.withUnsafeMutableBytes { checker.countMismatches(in: d, scratch: $0) } }
                #expect(clean == 0)
                // Both continue where the stream does.
                var next = [UInt8](repeating: 0, count: 12), after = next
                next.withUnsafeMutableBytes { checker.fill($0) }
                after.withUnsafeMutableBytes { generator.fill($0) }
                #expect(next == Array(reference[(start + count)..<(start + count + 12)]))
                #expect(after == next)
            }
        }
    }

    /// One wrong byte of a counter buffer is found anywhere, at every length and alignment.
    func counterCheckCatchesEveryByte() {
        var storage = [UInt8](repeating: 0, count: 4 * 80 + 3)
        var scratch = [UInt8](repeating: 0, count: storage.count)
        // Lengths around the vector loop's steps (32 words per step with AVX2) and its tail.
        for words in [1, 7, 8, 31, 32, 33, 64, 79] {
            for alignment in 0..<4 {
                let count = words * 4
                for wrong in Set([0, 1, count / 2, count - 5, count - 1]) where wrong >= 0 {
                    let start = UInt64(4 * (words + alignment))
                    storage.withUnsafeMutableBytes { raw in
                        var generator = PatternGenerator(.counter)
                        generator.seek(to: start)
                        generator.fill(UnsafeMutableRawBufferPointer(rebasing: raw[alignment..<(alignment + count)]))
                    }
                    storage[alignment + wrong] ^= 0x20
                    var checker = PatternGenerator(.counter)
                    checker.seek(to: start)
                    let mismatches = storage.withUnsafeBytes { raw in
                        scratch.withUnsafeMutableBytes { checker.countMismatches(in: UnsafeRawBufferPointer(rebasing: raw[alignment..<(alignment + count)]), scratch: $0) }
                    }
                    #expect(mismatches == 1, "\(words) words at alignment \(alignment), byte \(wrong) wrong")
                    #expect(checker.position == start + UInt64(count))
                }
            }
        }
    }

    @Test("PRBS-31 repeats every 2^31 − 1 words, so word 2^31 is word 1")
    func prbsPeriod() {
        // Two hops of 2^30 words each (neither reaches the period, so the jump reduces nothing)
        // must land where the stream's word 1 is, if the register really has period 2^31 − 1.
        let pattern = StreamPattern.prbs31(seed: 0x0BAD_CAFE)
        var hopped = PatternGenerator(pattern)
        hopped.seek(to: UInt64(1) << 32)
        hopped.seek(to: UInt64(1) << 33)
        var direct = PatternGenerator(pattern)
        direct.seek(to: UInt64(1) << 33)
        var a = [UInt8](repeating: 0, count: 64), b = a
        a.withUnsafeMutableBytes { hopped.fill($0) }
        b.withUnsafeMutableBytes { direct.fill($0) }
        let wordOne = Array(Self.reference(pattern, count: 68)[4...])
        #expect(a == wordOne)
        #expect(b == wordOne)
    }
}

/// The S2MM device generates each packet's bytes into memory at the transfer from the packet's
/// stream offset; memory must hold exactly the bytes a FIFO of bytes would have delivered.
@Suite struct S2MMDataPlacementTests {
    /// Arms one transfer after another into `buffer`, each `period` apart, and checks every delivered
    /// buffer against the pattern at the stream offset the channel reports.
    static func deliverAndCheck(_ bench: Bench, pattern: StreamPattern, rounds: Int, period: TimeSpan, length: UInt32,
                                buffer: PhysicalAddress = Bench.buffer, corruptRound: Int? = nil) -> (checked: Int, mismatched: Int, received: [UInt8]) {
        var checked = 0, mismatched = 0
        var received: [UInt8] = []
        bench.write(.DMACR, .s2mm, Bench.runWithInterrupts)
        for round in 0..<rounds {
            if round == corruptRound { try? bench.s2mm.inject(.corruptByte(offset: 3, mask: 0x40)) }
            bench.write(.address, .s2mm, UInt32(buffer.rawValue))
            bench.write(.LENGTH, .s2mm, length)
            bench.advance(by: period)
            #expect(bench.s2mm.accounting.balances)
            guard bench.status(.s2mm) & DMASR.IOC_Irq != 0 else { continue }
            let count = Int(bench.read(.LENGTH, .s2mm))
            let got = bench.memory(at: buffer, count: count)
            var expected = PatternGenerator(pattern)
            expected.seek(to: bench.s2mm.lastCompletedStreamOffset)
            var want = [UInt8](repeating: 0, count: count)
            want.withUnsafeMutableBytes { expected.fill($0) }
            mismatched += zip(got, want).filter { $0 != $1 }.count
            checked += count
            received += got
            bench.write(.DMASR, .s2mm, DMASR.IOC_Irq)
        }
        return (checked, mismatched, received)
    }

    @Test("packets that waited, with drops between them, land as the stream's bytes at their offsets",
          arguments: PatternPlacementTests.patterns)
    func dropsKeepPlaces(pattern: StreamPattern) throws {
        let bench = try Bench(fifoDepth: "4 KiB")
        // Odd-sized packets faster than the driver takes them: the FIFO fills and drops whole packets.
        bench.s2mm.attach(StreamSource(pattern: pattern, packetSize: .range(1...1500), rateBytesPerSecond: 100_000_000))
        let result = Self.deliverAndCheck(bench, pattern: pattern, rounds: 30, period: .microseconds(50), length: 2048)
        #expect(bench.s2mm.accounting.dropped[.fifoOverflow] > 0, "the test must drop packets")
        #expect(result.checked > 0)
        #expect(UInt64(result.checked) == bench.s2mm.accounting.deliveredBytes)
        #expect(result.mismatched == 0)
    }

    @Test("the FIFO's descriptor ring wraps many times and every packet still lands as the stream's bytes")
    func descriptorRingWraps() throws {
        // 64 bytes of FIFO: room for 66 descriptors; tiny packets arriving faster than the driver
        // takes them keep it full (the source waits: back-pressure, nothing dropped), so the ring
        // goes round again and again and memory must hold the stream without a gap, in order.
        let bench = try Bench(fifoDepth: "64 B")
        bench.s2mm.attach(StreamSource(pattern: .prbs31(), packetSize: .range(1...5), rateBytesPerSecond: 50_000_000, backPressure: true))
        let result = Self.deliverAndCheck(bench, pattern: .prbs31(), rounds: 400, period: .microseconds(1), length: 8)
        #expect(bench.s2mm.accounting.deliveredPackets > 3 * 66, "the ring must wrap")
        #expect(bench.s2mm.accounting.stalls > 0)
        #expect(bench.s2mm.accounting.dropped.total == 0)
        #expect(result.mismatched == 0)
        #expect(result.received == patternBytes(.prbs31(), count: result.received.count), "every byte, in order")
    }

    @Test("a corrupted byte is the only difference from the pattern")
    func corruptionLands() throws {
        let bench = try Bench(fifoDepth: "4 KiB")
        bench.s2mm.attach(StreamSource(pattern: .prbs31(), packetSize: .fixed(1000), rateBytesPerSecond: 100_000_000))
        let result = Self.deliverAndCheck(bench, pattern: .prbs31(), rounds: 6, period: .microseconds(20), length: 1000, corruptRound: 2)
        #expect(result.checked == 6000)
        #expect(result.mismatched == 1)
        #expect(bench.s2mm.counters.corruptedBytes == 1)
    }

    @Test("a packet longer than LENGTH: the buffer gets its head, the next packet starts after its tail")
    func truncatedPacketKeepsPlace() throws {
        let bench = try Bench(fifoDepth: "16 KiB")
        bench.s2mm.attach(StreamSource(pattern: .prbs31(), packetSize: .fixed(1000)))
        bench.start(.s2mm, length: 600)
        bench.advance(by: .microseconds(10))
        #expect(bench.memory(at: Bench.buffer, count: 600) == patternBytes(.prbs31(), count: 600))
        bench.write(.DMACR, .s2mm, DMACR.Reset)
        bench.start(.s2mm, length: 1000)
        bench.advance(by: .microseconds(10))
        #expect(bench.status(.s2mm) & DMASR.IOC_Irq != 0)
        let offset = bench.s2mm.lastCompletedStreamOffset
        #expect(offset >= 1000 && offset % 1000 == 0)
        #expect(bench.memory(at: Bench.buffer, count: 1000) == patternBytes(.prbs31(), count: 1000, skipping: Int(offset)))
    }

    @Test("outside the contiguous DMA pool (pages not yet resident, a page boundary, more than 64 KiB) the bytes are the same",
          arguments: [StreamPattern.counter, .prbs31()])
    func pagedMemory(pattern: StreamPattern) throws {
        let bench = try Bench(fifoDepth: "4 KiB")
        let length = 150_000
        bench.s2mm.attach(StreamSource(pattern: pattern, packetSize: .fixed(length)))
        // Plain DDR, 100 bytes before a 64 KiB page boundary; nothing there has been written yet.
        let buffer = PhysicalAddress(0x0100_0000 - 100)
        let result = Self.deliverAndCheck(bench, pattern: pattern, rounds: 3, period: .microseconds(500),
                                          length: UInt32(length), buffer: buffer)
        #expect(result.checked == 3 * length)
        #expect(result.mismatched == 0)
        #expect(bench.memory(at: buffer, count: length) == patternBytes(pattern, count: length, skipping: 2 * length))
    }
}

/// Each vector variant of the stream kernels, tested where the CPU has it: a variant the CPU lacks
/// is reported as skipped with the reason, so the log says which ones ran.
@Suite(.serialized) struct KernelVariantTests {
    static let detected = uioemu_stream_kernels_detected()

    @Test("the baseline kernels fill and check patterns exactly, finding one wrong byte anywhere")
    func baseline() { PatternPlacementTests().kernelsAgree(level: 0) }

    @Test("the AVX2 kernels fill and check patterns exactly, finding one wrong byte anywhere",
          .enabled(if: detected >= 1, "this CPU has no AVX2"))
    func avx2() { PatternPlacementTests().kernelsAgree(level: 1) }

    @Test("the AVX-512 kernels fill and check patterns exactly, finding one wrong byte anywhere",
          .enabled(if: detected >= 2, "this CPU has no AVX-512 F+VL"))
    func avx512() { PatternPlacementTests().kernelsAgree(level: 2) }
}
