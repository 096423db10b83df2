/// A half-open range of bytes inside one DMA buffer, `[lower, upper)`: what the device wrote since
/// the CPU last synced it, or what the CPU wrote since it last handed it to the device. One range
/// per buffer, grown to cover both when two are joined (a driver moves whole transfers, not holes).
struct ByteRange: Hashable, CustomStringConvertible {
    var lower: UInt64
    var upper: UInt64

    init?(offset: UInt64, bytes: UInt64) {
        guard bytes > 0 else { return nil }
        lower = offset
        upper = offset &+ bytes
    }

    func overlaps(_ other: ByteRange) -> Bool { lower < other.upper && other.lower < upper }

    func joined(_ other: ByteRange) -> ByteRange {
        var joined = self
        joined.lower = min(lower, other.lower)
        joined.upper = max(upper, other.upper)
        return joined
    }

    /// What is left once `sync` is synced: nil when it covers all of it, the part beyond it when it
    /// covers one end; a sync in the middle leaves the range as it was (conservatively: both ends
    /// are still unsynced).
    func removing(_ sync: ByteRange) -> ByteRange? {
        if sync.lower <= lower && sync.upper >= upper { return nil }
        var rest = self
        if sync.lower <= lower && sync.upper > lower { rest.lower = sync.upper }
        else if sync.upper >= upper && sync.lower < upper { rest.upper = sync.lower }
        return rest
    }

    /// `bytes 0..<4096` (offsets in the buffer).
    var description: String { "bytes \(lower)..<\(upper)" }
}

/// `0x3c000000`
func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
