/// The canonical binary form of a trace: what the trace hash is the SHA-256 of. A compact,
/// deterministic re-encoding of exactly what the canonical JSON lines say, event by event, so
/// `uioemu trace hash FILE` recomputes a run's hash from its `--trace` file. (Hashing the JSON text
/// itself cost more than the emulation: about 2.3 KB a completion against about 180 bytes here.)
///
/// Format, version 1 (change it only with the pinned hashes, and say so):
/// - The trace is the concatenation of its events' records, in order, nothing before, between or
///   after them.
/// - A number is unsigned LEB128 (7 bits a byte, least significant group first, high bit set on
///   every byte but the last) of its 64-bit two's-complement pattern: 0 is `00`, 300 is `ac 02`,
///   -1 is `ff ff ff ff ff ff ff ff ff 01`.
/// - A string is a reference: the number n ≥ 1 names the trace's n-th distinct string (by UTF-8
///   bytes, in order of first appearance); the number 0 introduces a new one and is followed by
///   its byte count (a number) and its UTF-8 bytes, and that string becomes the next n.
/// - A record is: the kind (one byte, `TraceEvent.kindNumber`: register 1, irq 2, uio-read 3,
///   uio-enable 4, uio-irq 5, uio-storm 6, dma-start 7, dma-done 8, dma-error 9, dma-status 10,
///   driver-state 11, slot-owner 12, buffer-owner 13, buffer 14, buffer-sync 15, cpu-access 16,
///   byte-order 17, lost-irqs 18, fault 19, finding 20, protocol-finding 21, descriptor-fetch 22); the time `t` less the
///   previous record's (the first: less 0) as a number; then the values of the JSON line's other
///   keys, in the line's order, each a number (JSON integers, 0/1 booleans included) or a string
///   (JSON strings, unescaped).
///
/// Example: `{"t":1250,"ev":"irq","line":2,"level":1}` then `{"t":1300,"ev":"uio-irq","device":"u","count":7}`
/// are `02 e2 09 02 01` and `05 32 00 01 75 07`.
///
/// Encoded into one reusable block (no allocation per event once the block and the strings are
/// there); the tracer hands full blocks to the sinks that hash or keep them.
public final class CanonicalRecords {
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) private var previousTime: Int64 = 0
    @exclusivity(unchecked) private var strings = TraceStrings()

    /// A block is handed on once it holds this many bytes.
    public static let blockBytes = 64 << 10
    /// The most a record with only known strings takes: kind, time, six fields of up to 10 bytes.
    static let longestKnownRecord = 1 + 10 + 6 * 10

    public init() {
        capacity = Self.blockBytes + 1024
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
        strings.deallocate()
    }

    /// The bytes encoded since the last `clear()`.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    /// Whether the block should be handed on (and cleared) before the next event.
    @inline(__always)
    public var isFull: Bool { count >= Self.blockBytes }

    public func clear() { count = 0 }

    /// Appends `event`'s record. Inlined into `Tracer.record`, its one caller per event.
    @inline(__always)
    public func encode(_ event: TraceEvent, at nanoseconds: Int64) {
        var w = RecordWriter(records: self, cursor: storage + count)
        w.byte(event.kindNumber)
        w.number(UInt64(bitPattern: nanoseconds &- previousTime))
        previousTime = nanoseconds
        event.fields(into: &w)
        count = w.cursor - storage
    }

    /// Writes string `string`'s reference at `cursor`, and the string itself if it is new (making
    /// room first: `capacity - count` covers any record of known strings only); returns the new cursor.
    @inline(__always)
    fileprivate func reference(_ string: String, at cursor: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let (id, isNew) = strings.id(of: string)
        guard isNew else { return RecordWriter.number(UInt64(truncatingIfNeeded: id), at: cursor) }  // ids are ≥ 1
        return introduce(id, at: cursor)
    }

    /// The same for a name.
    @inline(__always)
    fileprivate func reference(_ name: TraceName, at cursor: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let (id, isNew) = strings.id(of: name)
        guard isNew else { return RecordWriter.number(UInt64(truncatingIfNeeded: id), at: cursor) }  // ids are ≥ 1
        return introduce(id, at: cursor)
    }

    @inline(never)
    private func introduce(_ id: Int32, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let utf8 = strings.utf8(id)  // a new string: rare, the copy of `strings` does not matter
        let used = start - storage
        let needed = used + 1 + 10 + utf8.count + Self.longestKnownRecord
        var cursor = start
        if needed > capacity {
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: needed)
            grown.update(from: storage, count: used)
            storage.deallocate()
            storage = grown
            capacity = needed
            cursor = storage + used
        }
        cursor = RecordWriter.number(0, at: cursor)
        cursor = RecordWriter.number(UInt64(utf8.count), at: cursor)
        if let base = utf8.baseAddress { cursor.update(from: base.assumingMemoryBound(to: UInt8.self), count: utf8.count) }
        return cursor + utf8.count
    }
}

/// Writes one record's fields; keys are the JSON line's business, not the record's.
private struct RecordWriter: CanonicalFieldWriter {
    let records: CanonicalRecords
    var cursor: UnsafeMutablePointer<UInt8>

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        cursor.pointee = b
        cursor += 1
    }

    @inline(__always)
    mutating func number(_ value: UInt64) { cursor = Self.number(value, at: cursor) }

    /// Unsigned LEB128. One and two bytes (names, offsets, small values; lengths, DMASR) without
    /// the loop: most of a completion's numbers.
    @inline(__always)
    static func number(_ value: UInt64, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        if value < 0x80 {
            start.pointee = UInt8(truncatingIfNeeded: value)
            return start + 1
        }
        if value < 0x4000 {
            let pair = UInt16(truncatingIfNeeded: value & 0x7F | 0x80 | (value >> 7) << 8)
            UnsafeMutableRawPointer(start).storeBytes(of: pair.littleEndian, as: UInt16.self)
            return start + 2
        }
        var cursor = start
        var rest = value
        while rest >= 0x80 {  // bounded: 10 bytes for 64 bits
            cursor.pointee = UInt8(truncatingIfNeeded: rest) | 0x80
            cursor += 1
            rest >>= 7
        }
        cursor.pointee = UInt8(rest)
        return cursor + 1
    }

    @inline(__always)
    mutating func field(_ key: StaticString, _ value: String) {
        // A new string may move the storage: the cursor comes back from it.
        cursor = records.reference(value, at: cursor)
    }

    @inline(__always)
    mutating func field(_ key: StaticString, name value: TraceName) {
        cursor = records.reference(value, at: cursor)
    }

    @inline(__always)
    mutating func field(_ key: StaticString, _ value: Int64) { number(UInt64(bitPattern: value)) }

    @inline(__always)
    mutating func field(_ key: StaticString, unsigned value: UInt64) { number(value) }
}
