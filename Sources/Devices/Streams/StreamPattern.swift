import CStreamKernels

/// The content of an AXI4-Stream: a checkable byte sequence, continuous across packets, so every
/// byte that reaches memory or a sink can be verified against the same generator.
public enum StreamPattern: Sendable, Hashable, CustomStringConvertible {
    /// 32-bit little-endian words 0, 1, 2, …: stream byte n is byte n % 4 of word n / 4.
    case counter
    /// PRBS-31 (ITU-T O.150: x^31 + x^28 + 1), generated 32 bits at a time; bit k of the sequence is
    /// bit k % 32 of little-endian word k / 32. `seed` is the initial 31-bit register (0 is not
    /// allowed: the all-zero state never leaves itself; it is replaced by all ones).
    case prbs31(seed: UInt32 = 0x7FFF_FFFF)
    /// The given bytes (a file's, handed in by whoever loaded it), repeated.
    case bytes([UInt8])
    /// Packets with lengths but no bytes: every register, interrupt and driver step happens, no
    /// byte is generated, copied or checked. For fast control-only runs.
    case none

    public var description: String {
        switch self {
        case .counter: "counter"
        case .prbs31(let seed): seed == 0x7FFF_FFFF ? "prbs31" : "prbs31(seed: \(seed))"
        case .bytes(let bytes): "bytes(\(bytes.count))"
        case .none: "none"
        }
    }

    /// Whether the pattern has bytes at all.
    public var carriesData: Bool { self != .none }
}

/// Produces a `StreamPattern` byte by byte in stream order, a word at a time. Two generators made
/// from the same pattern produce the same bytes however the stream is cut into calls.
///
/// Every pattern is a pure function of the stream offset, so a generator can also be placed at any
/// offset (`seek(to:)`): in O(1) for counter and bytes, in O(log n) for PRBS-31 (a jump-ahead of
/// its linear register, `PRBS31.swift`). The S2MM device uses that to write a packet's bytes
/// straight into memory at the transfer, from the packet's offset alone.
public struct PatternGenerator: Sendable {
    enum Kind: UInt8 { case counter, prbs31, bytes, none }

    let kind: Kind
    private var counterWord: UInt32 = 0
    private var prbsState: UInt32 = 0
    /// The PRBS register at stream offset 0 (for a seek backwards).
    private var prbsSeedState: UInt32 = 0
    private let bytes: [UInt8]
    private var byteOffset = 0
    /// Bytes of the current word not handed out yet (low byte first) and how many.
    private var pending: UInt32 = 0
    private var pendingCount = 0
    /// Stream offset of the next byte this generator produces (bytes produced or skipped so far).
    public private(set) var position: UInt64 = 0

    public init(_ pattern: StreamPattern) {
        switch pattern {
        case .counter:
            kind = .counter
            bytes = []
        case .prbs31(let seed):
            kind = .prbs31
            let state = seed & 0x7FFF_FFFF
            prbsState = state == 0 ? 0x7FFF_FFFF : state
            prbsSeedState = prbsState
            bytes = []
        case .bytes(let content):
            kind = content.isEmpty ? .none : .bytes
            bytes = content
        case .none:
            kind = .none
            bytes = []
        }
    }

    /// Fills `buffer` with the next `buffer.count` bytes of the stream (nothing for `none`).
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let start = buffer.baseAddress, kind != .none else { return }
        fill(start, buffer.count)
    }

    /// Fills `count` bytes at `start` with the next bytes of the stream (nothing for `none`).
    public mutating func fill(_ start: UnsafeMutableRawPointer, _ count: Int) {
        guard kind != .none, count > 0 else { return }
        var p = start
        var n = count
        position &+= UInt64(count)
        if kind == .bytes {
            fillFromBytes(p, n)
            return
        }
        while n > 0 && pendingCount > 0 {
            p.storeBytes(of: takePendingByte(), as: UInt8.self)
            p += 1
            n -= 1
        }
        let words = n >> 2
        switch kind {
        case .counter:
            // A vectorised loop (AVX2 or AVX-512 where the CPU has them): CStreamKernels.
            uioemu_fill_counter(p, words, counterWord)
            counterWord &+= UInt32(truncatingIfNeeded: words)
        default:
            // The register makes the first 32 words (bit by bit: ~2.4 ns a word); from there the
            // buffer continues itself with whole-word XORs (CStreamKernels, 0.8 µs per 64 KiB
            // against 40), and the register is read back from the last 31 bits.
            let stepped = words >= 64 ? 32 : words
            for i in 0..<stepped {
                p.storeBytes(of: nextPRBSWord().littleEndian, toByteOffset: i << 2, as: UInt32.self)
            }
            if stepped < words {
                uioemu_prbs31_extend(p, words)
                prbsState = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: (words - 1) << 2, as: UInt32.self)) >> 1
            }
        }
        p += words << 2
        n &= 3
        if n > 0 {
            pending = nextWord()
            pendingCount = 4
            while n > 0 {
                p.storeBytes(of: takePendingByte(), as: UInt8.self)
                p += 1
                n -= 1
            }
        }
    }

    /// Compares `data` with the next `data.count` bytes of the stream and advances past them;
    /// returns `countMismatchedBytes(data, those bytes)`. `scratch` (at least `data.count` bytes)
    /// receives the expected bytes when they have to be materialised. At a word boundary a counter
    /// stream is checked in one pass against the words it would generate, and a PRBS-31 stream in
    /// one pass against its own recurrence, without writing anything.
    public mutating func countMismatches(in data: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Int {
        if kind == .prbs31, pendingCount == 0, data.count >= 8, let p = data.baseAddress {
            // One pass without generating: every bit must be the XOR of the bits 31 and 28 before
            // it, the first ones continuing the register. By induction that holds exactly when
            // the data equals the stream; the register is then the data's last 31 bits.
            let words = data.count >> 3
            if uioemu_prbs31_difference(p, words, UInt64(prbsState) << 33) == 0 {
                let checked = words << 3
                prbsState = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: checked - 4, as: UInt32.self)) >> 1
                position &+= UInt64(checked)
                guard checked < data.count else { return 0 }
                return countMismatches(in: UnsafeRawBufferPointer(rebasing: data[checked...]), scratch: scratch)
            }
        }
        if kind == .counter, pendingCount == 0, data.count & 3 == 0, let p = data.baseAddress {
            let words = data.count >> 2
            // A vectorised loop (AVX2 or AVX-512 where the CPU has them): CStreamKernels.
            if uioemu_counter_difference(p, words, counterWord) == 0 {
                counterWord &+= UInt32(truncatingIfNeeded: words)
                position &+= UInt64(data.count)
                return 0
            }
        }
        let reference = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<data.count])
        fill(reference)
        return countMismatchedBytes(data, UnsafeRawBufferPointer(reference))
    }

    /// Advances the stream by `count` bytes without producing them (a dropped packet still used
    /// its place in the pattern, so a checker sees the gap).
    public mutating func skip(_ count: Int) {
        guard kind != .none, count > 0 else { return }
        seek(to: position &+ UInt64(count))
    }

    /// Places the generator at stream offset `offset` (forwards or backwards): the next byte it
    /// produces is the stream's byte `offset`.
    public mutating func seek(to offset: UInt64) {
        guard kind != .none, offset != position else { return }
        // Words the register has produced so far: the one holding pending bytes included.
        let producedWords = (position &+ 3) >> 2
        let word = offset >> 2
        position = offset
        pendingCount = 0
        switch kind {
        case .counter:
            counterWord = UInt32(truncatingIfNeeded: word)
        case .prbs31:
            prbsState = word >= producedWords
                ? PRBS31.advance(prbsState, words: word - producedWords)
                : PRBS31.advance(prbsSeedState, words: word)
        case .bytes:
            byteOffset = Int(offset % UInt64(bytes.count))
            return
        case .none:
            return
        }
        let within = Int(offset & 3)
        if within > 0 {
            pending = nextWord() >> (8 * within)
            pendingCount = 4 - within
        }
    }

    @inline(__always)
    private mutating func takePendingByte() -> UInt8 {
        let byte = UInt8(truncatingIfNeeded: pending)
        pending >>= 8
        pendingCount -= 1
        return byte
    }

    @inline(__always)
    private mutating func nextWord() -> UInt32 {
        if kind == .counter {
            defer { counterWord &+= 1 }
            return counterWord
        }
        return nextPRBSWord()
    }

    @inline(__always)
    private mutating func nextPRBSWord() -> UInt32 {
        PRBS31.step(&prbsState)
    }

    private mutating func fillFromBytes(_ start: UnsafeMutableRawPointer, _ count: Int) {
        var p = start
        var n = count
        bytes.withUnsafeBytes { source in
            while n > 0 {
                let run = min(n, source.count - byteOffset)
                p.copyMemory(from: source.baseAddress! + byteOffset, byteCount: run)
                p += run
                n -= run
                byteOffset += run
                if byteOffset == source.count { byteOffset = 0 }
            }
        }
    }
}

/// The number of byte positions where `a` and `b` differ, compared eight bytes at a time without
/// branches (the loop the DESIGN's hot-path measurements assume). Both must have the same count.
public func countMismatchedBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    precondition(a.count == b.count)
    guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
    let words = a.count >> 3
    // Fast path: OR all differences together (a vectorised loop, AVX2 or AVX-512 where the CPU has
    // them, no popcount: CStreamKernels); only a buffer with some difference pays for the per-byte
    // count below.
    let difference = uioemu_difference(pa, pb, a.count)
    var mismatches = 0
    for i in 0..<(difference == 0 ? 0 : words) {
        let d = pa.loadUnaligned(fromByteOffset: i << 3, as: UInt64.self) ^ pb.loadUnaligned(fromByteOffset: i << 3, as: UInt64.self)
        // Fold each byte onto its low bit, then count the bytes that had any bit set.
        var t = d | (d >> 4)
        t |= t >> 2
        t |= t >> 1
        mismatches &+= (t & 0x0101_0101_0101_0101).nonzeroBitCount
    }
    for i in (words << 3)..<a.count where pa.load(fromByteOffset: i, as: UInt8.self) != pb.load(fromByteOffset: i, as: UInt8.self) {
        mismatches += 1
    }
    return mismatches
}
