/// The strings of one trace, numbered 1, 2, 3… in the order they first appear, by their UTF-8
/// bytes (not by Swift's `==`, which equates canonically equivalent Unicode: a reimplementation of
/// the record stream compares bytes). Each keeps its bytes and its JSON form (quoted and escaped),
/// so an encoder copies them instead of walking the string again.
///
/// Looking a string up by content costs a hash of its bytes; an event names two or three strings,
/// and the same few (device, channel, register and driver names) come back on every completion. So
/// the lookup goes first through a small cache keyed by the `String`'s own 16 bytes (its inline
/// UTF-8, or its storage's address and count): equal bits are the same string as long as the cache
/// keeps that string alive, which it does (a string's storage is immutable while shared, and cannot
/// be freed and reused while the cache holds it). A miss (a new string, or a copy built anew each
/// time, such as a fault's description) takes the content path and replaces a cache entry.
struct TraceStrings {
    /// Cache entries, `slots` of them; an entry's `id` is 0 while empty.
    private struct Entry {
        var bits: (UInt64, UInt64)
        var id: Int32
        /// Keeps the string, and so its storage, alive while `bits` names it.
        var string: String
    }

    private static let slots = 1024
    /// Entries looked at from the hashed one on: enough that the dozen strings of a run do not evict
    /// each other, few enough that a miss stays cheap.
    private static let probes = 4
    private let cache: UnsafeMutablePointer<Entry>
    private var byContent: [[UInt8]: Int32] = [:]
    /// Every string's UTF-8 bytes and then its JSON form (`"axi-dma0"`, escapes included), one after
    /// the other; `spans[id - 1]` says where. Raw memory: reading a span or its bytes per event
    /// retains nothing.
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity = 4096
    static let arenaSlack = 8
    private var arenaCount = 0
    private var spans: UnsafeMutablePointer<Span>
    private var spanCapacity = 64
    private(set) var count = 0
    private var nextVictim = 0
    /// The trace string of each `TraceName` met so far, by the name's number (0: not met yet).
    private var byName: UnsafeMutablePointer<Int32>
    private var byNameCapacity = 256

    private struct Span {
        var utf8Start: Int
        var utf8Count: Int
        var jsonStart: Int
        var jsonCount: Int
    }

    init() {
        cache = .allocate(capacity: Self.slots)
        cache.initialize(repeating: Entry(bits: (0, 0), id: 0, string: ""), count: Self.slots)
        arena = .allocate(capacity: arenaCapacity)
        arena.initialize(repeating: 0, count: arenaCapacity)  // the slack is read (and ignored)
        spans = .allocate(capacity: spanCapacity)
        byName = .allocate(capacity: byNameCapacity)
        byName.initialize(repeating: 0, count: byNameCapacity)
    }

    /// Frees the memory. Called once, by the owner's `deinit` (a struct has none).
    func deallocate() {
        cache.deinitialize(count: Self.slots)
        cache.deallocate()
        arena.deallocate()
        spans.deallocate()
        byName.deallocate()
    }

    /// The name's number in this trace (1-based) and whether this lookup added it.
    @inline(__always)
    mutating func id(of name: TraceName) -> (id: Int32, isNew: Bool) {
        let number = Int(name.number)
        if number < byNameCapacity {
            let id = byName[number]
            if id != 0 { return (id, false) }
        }
        return miss(name)
    }

    /// `name`'s JSON form (valid until the next new string). The span is read here, not through
    /// `json(_:)`: a non-mutating call from here copies the struct (its dictionary retained).
    @inline(__always)
    mutating func jsonForm(of name: TraceName) -> UnsafeRawBufferPointer {
        // The id first: a new name may move `spans`, and `spans[...]` reads its base before its index.
        let id = id(of: name).id
        let span = spans[Int(id) - 1]
        return UnsafeRawBufferPointer(start: arena + span.jsonStart, count: span.jsonCount)
    }

    @inline(never)
    private mutating func miss(_ name: TraceName) -> (id: Int32, isNew: Bool) {
        let number = Int(name.number)
        if number >= byNameCapacity {
            let capacity = max(number + 1, 2 * byNameCapacity)
            let grown = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
            grown.initialize(repeating: 0, count: capacity)
            grown.update(from: byName, count: byNameCapacity)
            byName.deallocate()
            byName = grown
            byNameCapacity = capacity
        }
        let bytes = name.utf8()
        var isNew = false
        let id: Int32
        if let known = byContent[bytes] {
            id = known
        } else {
            id = add(bytes)
            byContent[bytes] = id
            isNew = true
        }
        byName[number] = id
        return (id, isNew)
    }

    /// `string`'s JSON form (valid until the next new string). Mutating, like `id(of:)`: reading
    /// through a non-mutating method of a class's stored struct would copy the struct.
    @inline(__always)
    mutating func jsonForm(of string: String) -> UnsafeRawBufferPointer {
        let id = id(of: string).id  // first, as above
        let span = spans[Int(id) - 1]
        return UnsafeRawBufferPointer(start: arena + span.jsonStart, count: span.jsonCount)
    }

    /// String `id`'s UTF-8 bytes (valid until the next new string).
    @inline(__always)
    func utf8(_ id: Int32) -> UnsafeRawBufferPointer {
        let span = spans[Int(id) - 1]
        return UnsafeRawBufferPointer(start: arena + span.utf8Start, count: span.utf8Count)
    }

    /// String `id` as JSON: quoted, escaped (valid until the next new string).
    @inline(__always)
    func json(_ id: Int32) -> UnsafeRawBufferPointer {
        let span = spans[Int(id) - 1]
        return UnsafeRawBufferPointer(start: arena + span.jsonStart, count: span.jsonCount)
    }

    private mutating func add(_ bytes: [UInt8]) -> Int32 {
        let json = Self.jsonForm(bytes)
        let needed = arenaCount + bytes.count + json.count
        // `arenaSlack` bytes stay readable after the last form: `CanonicalLine` copies a form a
        // word at a time.
        if needed + Self.arenaSlack > arenaCapacity {
            let capacity = max(needed + Self.arenaSlack, 2 * arenaCapacity)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: arena, count: arenaCount)
            (grown + arenaCount).initialize(repeating: 0, count: capacity - arenaCount)
            arena.deallocate()
            arena = grown
            arenaCapacity = capacity
        }
        if count == spanCapacity {
            let grown = UnsafeMutablePointer<Span>.allocate(capacity: 2 * spanCapacity)
            grown.update(from: spans, count: count)
            spans.deallocate()
            spans = grown
            spanCapacity *= 2
        }
        let span = Span(utf8Start: arenaCount, utf8Count: bytes.count, jsonStart: arenaCount + bytes.count, jsonCount: json.count)
        for (k, b) in bytes.enumerated() { arena[span.utf8Start + k] = b }  // bounded by the string
        for (k, b) in json.enumerated() { arena[span.jsonStart + k] = b }  // bounded by its JSON form
        arenaCount = needed
        spans[count] = span
        count += 1
        return Int32(count)
    }

    /// The string's number (1-based) and whether this lookup added it.
    @inline(__always)
    mutating func id(of string: String) -> (id: Int32, isNew: Bool) {
        let bits = unsafeBitCast(string, to: (UInt64, UInt64).self)
        let mixed = ((bits.0 &* 0x9E37_79B9_7F4A_7C15) ^ bits.1) &* 0xBF58_476D_1CE4_E5B9
        let hash = Int(truncatingIfNeeded: mixed >> 54)
        var slot = hash & (Self.slots - 1)
        for _ in 0..<Self.probes {  // bounded: `probes` entries
            let entry = cache + slot
            if entry.pointee.id != 0 && entry.pointee.bits == bits { return (entry.pointee.id, false) }
            slot = (slot + 1) & (Self.slots - 1)
        }
        return miss(string, bits: bits, hash: hash)
    }

    @inline(never)
    private mutating func miss(_ string: String, bits: (UInt64, UInt64), hash: Int) -> (id: Int32, isNew: Bool) {
        let bytes = Array(string.utf8)
        var isNew = false
        let id: Int32
        if let known = byContent[bytes] {
            id = known
        } else {
            id = add(bytes)
            byContent[bytes] = id
            isNew = true
        }
        // An empty entry among the probed ones, else the next victim of them in turn.
        var slot = hash & (Self.slots - 1)
        var chosen = -1
        for k in 0..<Self.probes where cache[(slot + k) & (Self.slots - 1)].id == 0 {  // bounded: `probes` entries
            chosen = (slot + k) & (Self.slots - 1)
            break
        }
        if chosen < 0 {
            slot = (slot + nextVictim) & (Self.slots - 1)
            nextVictim = (nextVictim + 1) % Self.probes
            chosen = slot
        }
        cache[chosen] = Entry(bits: bits, id: id, string: string)
        return (id, isNew)
    }

    /// RFC 8259 string: `"` and `\` escaped, control characters as `\u00XX`, everything else
    /// (UTF-8 included) as is; in quotes.
    static func jsonForm(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [UInt8(ascii: "\"")]
        result.reserveCapacity(bytes.count + 2)
        for b in bytes {  // bounded by the string
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                result.append(UInt8(ascii: "\\"))
                result.append(b)
            case 0..<0x20:
                result += Array("\\u00".utf8)
                result.append(hexDigit(b >> 4))
                result.append(hexDigit(b & 0xF))
            default:
                result.append(b)
            }
        }
        result.append(UInt8(ascii: "\""))
        return result
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
}
