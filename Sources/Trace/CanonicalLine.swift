/// The canonical form of one trace event: one JSON object on one line, keys in a fixed order
/// (`t`, `ev`, then the event's fields in declaration order), integers in decimal, booleans as 0/1,
/// strings with the minimal JSON escapes, no spaces, `\n` at the end. Nothing in it depends on the
/// build, the platform or the wall clock, so the same events give the same bytes and the same hash
/// in debug and release builds.
///
/// `{"t":1250,"ev":"register","device":"axi-dma0","register":"S2MM_DMASR","offset":52,"value":4098,"access":"read"}`
///
/// Lines are appended to one reusable block (the JSON-lines file is written a block at a time);
/// `bytes` is the line just encoded, for a sink that reads each event's line.
public final class CanonicalLine {
    /// Raw memory rather than `[UInt8]`: appending byte by byte to an array checks its uniqueness
    /// each time. Reused for every event, so recording allocates nothing once the block and the
    /// strings are there.
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    /// Bytes in the block.
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var lineStart = 0
    /// Each string's JSON form, made once.
    @exclusivity(unchecked) private var strings = TraceStrings()
    /// The decimal tables, held here so that the writer reads them as plain pointers (a `static
    /// let` is reached through `swift_once` at every use: measured 1,000 instructions a completion).
    private let decimals = DecimalTables()

    /// A block is handed on once it holds this many bytes.
    public static let blockBytes = 256 << 10
    /// Room for a line's keys and numbers (never 256 bytes together); strings make their own.
    static let keysAndNumbers = 256

    init() {
        capacity = Self.blockBytes + 4 * Self.keysAndNumbers
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
        strings.deallocate()
        decimals.deallocate()
    }

    /// The line just encoded, with its newline (valid until the next `encode` or `clear`).
    @inline(__always)
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage + lineStart, count: count - lineStart) }

    /// Every line since the last `clear()`.
    var block: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    /// Whether the block should be handed on (and cleared) before the next event.
    @inline(__always)
    var isFull: Bool { count >= Self.blockBytes }

    func clear() {
        count = 0
        lineStart = 0
    }

    func encode(_ event: TraceEvent, at nanoseconds: Int64) {
        if capacity - count < Self.keysAndNumbers { grow(to: count + Self.keysAndNumbers) }
        lineStart = count
        var w = LineWriter(line: .passUnretained(self), cursor: storage + count, decimals: decimals)
        w.literal("{\"t\":")
        w.integer(nanoseconds)
        w.literal(",\"ev\":\"")
        w.ascii(event.kindName)
        w.byte(UInt8(ascii: "\""))
        event.fields(into: &w)
        w.byte(UInt8(ascii: "}"))
        w.byte(UInt8(ascii: "\n"))
        count = w.cursor - storage
    }

    /// Writes `string`'s JSON form at `cursor` (growing the block if it does not fit with the
    /// rest of a line's keys and numbers); returns the new cursor.
    @inline(__always)
    fileprivate func string(_ string: String, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let json = strings.jsonForm(of: string)
        var cursor = start
        if (storage + capacity) - cursor < json.count + Self.keysAndNumbers {
            let used = cursor - storage
            grow(to: used + json.count + Self.keysAndNumbers)
            cursor = storage + used
        }
        Self.copy(json, to: cursor)
        return cursor + json.count
    }

    /// The same for a name.
    @inline(__always)
    fileprivate func string(_ name: TraceName, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let json = strings.jsonForm(of: name)
        var cursor = start
        if (storage + capacity) - cursor < json.count + Self.keysAndNumbers {
            let used = cursor - storage
            grow(to: used + json.count + Self.keysAndNumbers)
            cursor = storage + used
        }
        Self.copy(json, to: cursor)
        return cursor + json.count
    }

    /// A string's JSON form, copied 8 bytes at a time (a name is a few words: a `memmove` call costs
    /// more). Reads up to 7 bytes past the form (`TraceStrings` keeps that much slack after its
    /// arena's last form) and writes up to 7 past it, inside the room every line has
    /// (`keysAndNumbers`), overwritten next.
    @inline(__always)
    private static func copy(_ json: UnsafeRawBufferPointer, to cursor: UnsafeMutablePointer<UInt8>) {
        let source = json.baseAddress!
        let target = UnsafeMutableRawPointer(cursor)
        var k = 0
        while k < json.count {  // bounded: the form's length / 8
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
            k += 8
        }
    }

    @inline(never)
    private func grow(to needed: Int) {
        guard needed > capacity else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(needed, capacity + capacity / 2))
        grown.update(from: storage, count: capacity)
        storage.deallocate()
        storage = grown
        capacity = max(needed, capacity + capacity / 2)
    }
}

/// Writes into memory `CanonicalLine` made big enough: no bounds or uniqueness checks.
private struct LineWriter: CanonicalFieldWriter {
    /// Unretained: the writer lives inside `line.encode` (a strong reference cost a retain and a
    /// release per event).
    let line: Unmanaged<CanonicalLine>
    var cursor: UnsafeMutablePointer<UInt8>
    let decimals: DecimalTables

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        cursor.pointee = b
        cursor += 1
    }

    /// A key or the line's start: a few bytes, copied inline in word-sized pieces (a `memmove`
    /// call, or a byte at a time, costs more). The length is a constant once inlined, so only one
    /// branch remains; the last piece overlaps the one before it rather than reading past the text.
    @inline(__always)
    mutating func literal(_ text: StaticString) {
        let source = UnsafeRawPointer(text.utf8Start)
        let target = UnsafeMutableRawPointer(cursor)
        let count = text.utf8CodeUnitCount
        if count >= 8 {
            var k = 0
            while k + 8 <= count {  // bounded: a literal's length / 8
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
                k += 8
            }
            if k < count {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
            }
        } else if count >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4, as: UInt32.self)
        } else {
            for k in 0..<count { cursor[k] = source.load(fromByteOffset: k, as: UInt8.self) }  // bounded: < 4
        }
        cursor += count
    }

    /// A string known to need no escape (an event kind).
    @inline(__always)
    mutating func ascii(_ text: StaticString) { literal(text) }

    /// `,"key":`
    @inline(__always)
    mutating func key(_ name: StaticString) {
        byte(UInt8(ascii: ","))
        byte(UInt8(ascii: "\""))
        literal(name)
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: ":"))
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        let at = cursor
        cursor = line._withUnsafeGuaranteedRef { $0.string(value, at: at) }
    }

    @inline(__always)
    mutating func field(_ name: StaticString, name value: TraceName) {
        key(name)
        let at = cursor
        cursor = line._withUnsafeGuaranteedRef { $0.string(value, at: at) }
    }

    @inline(__always)
    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        integer(value)
    }

    @inline(__always)
    mutating func field(_ name: StaticString, unsigned value: UInt64) {
        key(name)
        unsigned(value)
    }

    @inline(__always)
    mutating func integer(_ value: Int64) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            unsigned(value.magnitude)
        } else {
            unsigned(UInt64(value))
        }
    }

    /// Decimal digits, most significant first (UInt64 has at most 20), two at a time from a table
    /// of the pairs "00" to "99"; the digit count from the bit length (log10 2 ≈ 1233 / 4096) and
    /// one comparison with a power of ten. Inlined: a call per number cost about a tenth of a line.
    @inline(__always)
    mutating func unsigned(_ value: UInt64) {
        if value < 10 {
            byte(UInt8(ascii: "0") + UInt8(value))
            return
        }
        let bits = 64 - value.leadingZeroBitCount
        var digits = (bits &* 1233) >> 12
        if value >= decimals.powersOfTen[digits] { digits += 1 }
        var rest = value
        var end = cursor + digits
        let pairs = decimals.pairs
        while rest >= 100 {  // bounded: 10 pairs
            let pair = Int(truncatingIfNeeded: rest % 100)
            rest /= 100
            end -= 2
            UnsafeMutableRawPointer(end).storeBytes(of: pairs[pair], as: UInt16.self)
        }
        if rest >= 10 {
            UnsafeMutableRawPointer(cursor).storeBytes(of: pairs[Int(truncatingIfNeeded: rest)], as: UInt16.self)
        } else {
            cursor.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
        }
        cursor += digits
    }
}

/// Tables for writing decimals: made with the line, read-only after.
private struct DecimalTables {
    /// 10^0 … 10^19 (10^digits for the `digits` that the bit length estimates, 0 … 19).
    let powersOfTen: UnsafePointer<UInt64>
    /// The two ASCII digits of 0 … 99, as they lie in memory.
    let pairs: UnsafePointer<UInt16>

    init() {
        let powers = UnsafeMutablePointer<UInt64>.allocate(capacity: 20)
        var power: UInt64 = 1
        for k in 0..<20 {  // bounded: 20 powers
            powers[k] = power
            if k < 19 { power &*= 10 }
        }
        powersOfTen = UnsafePointer(powers)
        let digits = UnsafeMutableRawPointer.allocate(byteCount: 200, alignment: 2)
        for k in 0..<100 {  // bounded: 100 pairs
            digits.storeBytes(of: UInt8(ascii: "0") + UInt8(k / 10), toByteOffset: 2 * k, as: UInt8.self)
            digits.storeBytes(of: UInt8(ascii: "0") + UInt8(k % 10), toByteOffset: 2 * k + 1, as: UInt8.self)
        }
        pairs = UnsafePointer(digits.assumingMemoryBound(to: UInt16.self))
    }

    func deallocate() {
        powersOfTen.deallocate()
        pairs.deallocate()
    }
}
