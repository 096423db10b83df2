#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The page table of one `RAM` region: page index → the page's memory, as a radix tree of
/// `fanOut`-entry nodes, like a CPU's multi-level page table. Only the nodes on the way to a page
/// that was written exist, so the bookkeeping grows with the pages touched, never with the size
/// the profile declares: a 2^62-byte region (2^46 pages) is a root of 1,024 entries and four levels;
/// a 2 GiB one is a root of 8 entries and two levels. (A flat table, one pointer per page, cost
/// 2 GiB for a region of 16 TiB and could not be allocated at all for 2^62 bytes.)
///
/// Mechanics: nodes are `calloc`ed arrays of raw pointers, owned here and freed by `release()`;
/// interior entries point at nodes, leaf entries at pages. A plain struct over raw memory, so a
/// lookup is `levels` dependent loads with no reference counting or exclusivity checks.
@usableFromInline
struct PageTable {
    /// Index bits resolved per level: 4,096 entries, a 32 KiB node.
    @usableFromInline static let bitsPerLevel = 12
    @usableFromInline static let fanOut = 1 << bitsPerLevel
    /// Page indices have at most 48 bits (64-bit addresses, 64 KiB pages): four levels at most.
    static let maximumLevels = 4

    @usableFromInline typealias Node = UnsafeMutablePointer<UnsafeMutableRawPointer?>

    @usableFromInline let levels: Int
    let rootEntries: Int
    @usableFromInline let root: Node

    /// A table for page indices `0..<pageCount` (at most 2^48), with nothing present.
    init(pageCount: Int) {
        precondition(pageCount > 0 && UInt64(pageCount) <= 1 << UInt64(Self.bitsPerLevel * Self.maximumLevels))
        var levels = 1
        var covered = Self.fanOut
        while covered < pageCount, levels < Self.maximumLevels {  // bounded: at most maximumLevels
            levels += 1
            covered <<= Self.bitsPerLevel
        }
        self.levels = levels
        let below = Self.bitsPerLevel * (levels - 1)
        rootEntries = ((pageCount - 1) >> below) + 1
        root = Self.makeNode(entries: rootEntries)
    }

    private static func makeNode(entries: Int) -> Node {
        guard let raw = calloc(entries, MemoryLayout<UnsafeMutableRawPointer?>.stride) else {
            fatalError("out of memory for a page table node")
        }
        return raw.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: entries)
    }

    /// The page at `index`, or nil if it was never stored.
    @inlinable @inline(__always)
    func page(_ index: Int) -> UnsafeMutableRawPointer? {
        var node = root
        var shift = Self.bitsPerLevel * (levels - 1)
        var slot = index >> shift
        while shift > 0 {  // bounded: levels - 1 steps
            guard let next = node[slot] else { return nil }
            node = next.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            shift -= Self.bitsPerLevel
            slot = (index >> shift) & (Self.fanOut - 1)
        }
        return node[slot]
    }

    /// The bytes of the root node; each node below it takes `nodeBytes`.
    var rootBytes: Int { rootEntries * MemoryLayout<UnsafeMutableRawPointer?>.stride }
    static let nodeBytes = fanOut * MemoryLayout<UnsafeMutableRawPointer?>.stride

    /// Stores `page` at `index`, creating the nodes on the way; returns how many it created.
    @discardableResult
    func store(_ page: UnsafeMutableRawPointer?, at index: Int) -> Int {
        var created = 0
        var node = root
        var shift = Self.bitsPerLevel * (levels - 1)
        var slot = index >> shift
        while shift > 0 {  // bounded: levels - 1 steps
            let next: UnsafeMutableRawPointer
            if let existing = node[slot] {
                next = existing
            } else {
                next = UnsafeMutableRawPointer(Self.makeNode(entries: Self.fanOut))
                node[slot] = next
                created += 1
            }
            node = next.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            shift -= Self.bitsPerLevel
            slot = (index >> shift) & (Self.fanOut - 1)
        }
        node[slot] = page
        return created
    }

    /// Calls `body` with the index and memory of every present page in `indices`, in order, skipping
    /// absent subtrees whole (so a sparse table is walked in time proportional to what it holds).
    func forEachPage(in indices: ClosedRange<Int>, _ body: (Int, UnsafeMutableRawPointer) -> Void) {
        walk(root, entries: rootEntries, level: levels - 1, firstIndex: 0, indices, body)
    }

    /// Recursion depth: at most `maximumLevels`.
    private func walk(_ node: Node, entries: Int, level: Int, firstIndex: Int, _ indices: ClosedRange<Int>,
                      _ body: (Int, UnsafeMutableRawPointer) -> Void) {
        let span = 1 << (Self.bitsPerLevel * level)
        let low = max(0, (indices.lowerBound - firstIndex) / span)
        let high = min(entries - 1, (indices.upperBound - firstIndex) / span)
        guard low <= high else { return }
        for slot in low...high {
            guard let entry = node[slot] else { continue }
            let start = firstIndex + slot * span
            if level == 0 {
                body(start, entry)
            } else {
                walk(entry.assumingMemoryBound(to: UnsafeMutableRawPointer?.self), entries: Self.fanOut, level: level - 1,
                     firstIndex: start, indices, body)
            }
        }
    }

    /// Frees every node and every page still stored.
    func release() {
        releaseNode(root, entries: rootEntries, level: levels - 1)
    }

    /// Recursion depth: at most `maximumLevels`.
    private func releaseNode(_ node: Node, entries: Int, level: Int) {
        for slot in 0..<entries {
            guard let entry = node[slot] else { continue }
            if level == 0 {
                free(entry)
            } else {
                releaseNode(entry.assumingMemoryBound(to: UnsafeMutableRawPointer?.self), entries: Self.fanOut, level: level - 1)
            }
        }
        free(UnsafeMutableRawPointer(node))
    }
}
