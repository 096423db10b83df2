/// Timers: a table of records (one per timer, reused) and a hierarchical timing wheel of those
/// records, ordered by (deadline, sequence). The sequence makes equal deadlines fire in arming order,
/// which is what makes a virtual-time run repeatable.
///
/// Why a wheel and not the binary heap it replaced (issue 17; the heap is kept as `TimerHeap` for the
/// `uioemu-bench floors` comparison row): a heap costs O(log n) per arm and per pop, and with many
/// channels in one reactor (two timers armed per channel) that was most of the extra ~210
/// instructions per completion at 64 channels. Here arming, disarming and popping cost about the
/// same at any depth: a timer is linked into one bucket found from its deadline's bits, and the
/// earliest bucket is found with two bit scans.
///
/// Layout. Deadlines are mapped to unsigned keys (order kept). `baseKey` is at or before every armed
/// key. Level `k` (0..<8, eight bits each) holds the timers whose key agrees with `baseKey` above bit
/// 8k+8 and differs in bits 8k..<8k+8; the bucket is those eight bits of the key. So every timer on a
/// lower level is earlier than every timer on a higher one, and within a level a lower bucket is
/// earlier: the earliest timer is in the lowest occupied bucket of the lowest occupied level. A
/// level-0 bucket holds one deadline exactly, its list kept in sequence order (FIFO by arming).
/// A bucket on a higher level holds a range of deadlines. Every bucket remembers its earliest timer,
/// updated with one comparison when a timer is linked (the list is in sequence order, so a later arm
/// with an equal deadline never displaces it), looked for again only when that timer is disarmed or
/// re-armed from there. When a timer is popped, `baseKey` moves up to its deadline and the rest of
/// its bucket, if any, is spread over the lower levels (each timer moves down at most 7 times in its
/// life). In the common case, a few timers per channel armed microseconds apart, a timer is alone in
/// its bucket: arming is one link, popping two bit scans and one unlink.
///
/// Why eight bits per level, not six: a timer that shares its bucket moves down once per level
/// between where it was armed and level 0. With the emulator's delays (about 1 to 20 µs) six-bit
/// levels put most timers on level 2 (4,096 to 262,144 ns), two moves each; with eight bits most are
/// on level 1 (256 ns to 65 µs), one move. That cost is what grows with the number armed (alone in
/// its bucket a timer pops straight from where it is): issue 17's `timers-depth` row.
///
/// Memory. Lists are circular through a sentinel node per bucket, so linking and unlinking have no
/// branches on the neighbours; the nodes (key and links, 16 bytes) are kept apart from the records
/// (callback, sequence, period; read when a timer fires or is managed), so 1,024 armed timers and
/// their buckets fit the L1 cache: a wheel walks lists, and the records would double what it walks.
///
/// Ordering is exactly the heap's: (deadline, sequence), the sequence taken when the timer is armed.
/// The pinned trace hashes depend on it (ReactorTests "Timer wheel" check it against a sorted model).
struct TimerQueue {
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var slot: UInt32
    }

    /// What the reactor needs when a timer fires or is managed, not while it waits.
    struct Record {
        var callback: Callback
        var sequence: UInt64
        var periodNanoseconds: Int64
        /// Bumped whenever the slot is freed, so stale `TimerID`s are recognised and ignored.
        var generation: UInt32
        /// One-shot convenience timers free their slot after firing or being cancelled.
        var disposable: Bool
        var inUse: Bool
    }

    /// A list node: a timer's (`timerNode(slot)`) or a bucket's sentinel (`sentinel(bucket)`).
    struct Node {
        /// A timer: its key. A bucket's sentinel: the node of the bucket's earliest timer (on level 0
        /// its head), or `emptyMark` / `unknownMark`.
        var key: UInt64
        /// Neighbours (node indices); a timer's `next` is -1 while not armed.
        var next: Int32
        var previous: Int32
    }

    /// Eight bits per level; 8 levels cover the 64-bit key.
    static let levels = 8
    static let bucketCount = levels * 256
    /// Node 0: the "earliest" of an empty bucket, with the highest key, so that the first timer
    /// linked becomes the earliest with the same one comparison as later ones.
    static let emptyMark: Int32 = 0
    /// Node 1: "earliest not known", with key 0, so that linking never replaces it; the bucket is
    /// looked through when it is the earliest (after its earliest timer was disarmed or re-armed).
    static let unknownMark: Int32 = 1
    static let firstSentinel = 2
    static let firstTimerNode = firstSentinel + bucketCount

    private(set) var records = RawBuffer<Record>(capacity: 64)
    private(set) var recordCount = 0
    private var nodes = RawBuffer<Node>(capacity: TimerQueue.firstTimerNode + 64)
    private var freeSlots = RawBuffer<UInt32>(capacity: 64)
    private var freeCount = 0
    private var nextSequence: UInt64 = 0
    private(set) var liveRecords = 0
    /// Armed timers.
    private(set) var count = 0

    /// One bit per bucket (32 words: level × 4 + the top two of the bucket's eight bits).
    private var occupied = RawBuffer<UInt64>(capacity: TimerQueue.bucketCount / 64)
    /// One bit per non-zero word of `occupied`: its lowest bit is the lowest occupied word of the
    /// lowest occupied level.
    private var occupiedWords: UInt32 = 0
    /// At or before every armed key (see the type's comment).
    private var baseKey: UInt64 = TimerQueue.key(0)
    /// The earliest armed timer's node and its bucket, once found; -1 when not known (any change
    /// forgets it).
    private var earliest: Int32 = -1
    private var earliestBucket = 0

    init() {
        nodes[Int(Self.emptyMark)] = Node(key: .max, next: -1, previous: -1)
        nodes[Int(Self.unknownMark)] = Node(key: 0, next: -1, previous: -1)
        clearBuckets()
    }

    /// Signed nanoseconds to an unsigned key with the same order (the sign bit flipped).
    @inline(__always)
    static func key(_ deadline: Int64) -> UInt64 { UInt64(bitPattern: deadline) ^ (1 << 63) }

    @inline(__always)
    static func deadline(_ key: UInt64) -> Int64 { Int64(bitPattern: key ^ (1 << 63)) }

    @inline(__always)
    static func timerNode(_ slot: Int) -> Int32 { Int32(truncatingIfNeeded: firstTimerNode &+ slot) }

    @inline(__always)
    static func sentinel(_ bucket: Int) -> Int32 { Int32(truncatingIfNeeded: firstSentinel &+ bucket) }

    // MARK: records

    mutating func allocate(_ callback: Callback, disposable: Bool) -> TimerID {
        let slot: UInt32
        if freeCount > 0 {
            freeCount -= 1
            slot = freeSlots[freeCount]
        } else {
            records.reserve(recordCount + 1, keeping: recordCount)
            nodes.reserve(Self.firstTimerNode + recordCount + 1, keeping: Self.firstTimerNode + recordCount)
            slot = UInt32(recordCount)
            records[recordCount] = Record(callback: callback, sequence: 0, periodNanoseconds: 0, generation: 0,
                                          disposable: false, inUse: false)
            nodes[Int(Self.timerNode(recordCount))] = Node(key: 0, next: -1, previous: -1)
            recordCount += 1
        }
        var r = records[Int(slot)]
        r.callback = callback
        r.periodNanoseconds = 0
        r.disposable = disposable
        r.inUse = true
        records[Int(slot)] = r
        liveRecords += 1
        return TimerID(slot: slot, generation: r.generation)
    }

    /// Frees a slot (disarming it first). Returns false for a stale or unknown id.
    mutating func free(_ id: TimerID) -> Bool {
        guard isLive(id) else { return false }
        disarm(slot: Int(id.slot))
        records.base[Int(id.slot)].inUse = false
        records.base[Int(id.slot)].generation &+= 1
        freeSlots.reserve(freeCount + 1, keeping: freeCount)
        freeSlots[freeCount] = id.slot
        freeCount += 1
        liveRecords -= 1
        return true
    }

    @inline(__always)
    func isLive(_ id: TimerID) -> Bool {
        Int(id.slot) < recordCount && records[Int(id.slot)].inUse && records[Int(id.slot)].generation == id.generation
    }

    @inline(__always)
    func record(_ slot: Int) -> Record { records[slot] }

    @inline(__always)
    func isArmed(slot: Int) -> Bool { nodes[Int(Self.timerNode(slot))].next >= 0 }

    mutating func setPeriod(slot: Int, nanoseconds: Int64) { records.base[slot].periodNanoseconds = nanoseconds }

    // MARK: wheel

    var isEmpty: Bool { count == 0 }

    /// The earliest entry; only valid when not empty.
    @inline(__always)
    var first: Entry {
        mutating get {
            let r = earliestNode()
            let slot = Int(r) &- Self.firstTimerNode
            return Entry(deadline: Self.deadline(nodes[Int(r)].key), sequence: records[slot].sequence, slot: UInt32(truncatingIfNeeded: slot))
        }
    }

    /// The sequence number the next armed timer will get: timers armed from now on have a higher one.
    var sequenceWatermark: UInt64 { nextSequence }

    /// Arms (or re-arms, moving it) the timer in `slot` for `deadline`, with a fresh sequence number.
    @inline(__always)
    mutating func arm(slot: Int, deadline: Int64) {
        let r = Self.timerNode(slot)
        if nodes[Int(r)].next >= 0 { unlinkArmed(r) } else { count &+= 1 }
        records.base[slot].sequence = nextSequence
        nextSequence &+= 1
        earliest = -1
        let k = Self.key(deadline)
        // The reactor never arms before its clock, and the base never passes the clock; a caller
        // that does (a negative first delay) gets the slow path, not a wrong order.
        if k < baseKey { rebase(to: k) }
        link(r, key: k)
    }

    mutating func disarm(slot: Int) {
        let r = Self.timerNode(slot)
        guard nodes[Int(r)].next >= 0 else { return }
        unlinkArmed(r)
        count &-= 1
        earliest = -1
    }

    /// Removes and returns the earliest entry; the record is left disarmed.
    @inline(__always)
    mutating func popFirst() -> Entry {
        let r = earliestNode()
        let bucket = earliestBucket
        let s = Int(Self.sentinel(bucket))
        let k = nodes[Int(r)].key
        let previous = nodes[Int(r)].previous, next = nodes[Int(r)].next
        nodes.base[Int(previous)].next = next
        nodes.base[Int(next)].previous = previous
        nodes.base[Int(r)].next = -1
        // Without branches on what is left (with many timers armed that is anyone's guess, and a
        // mispredicted branch costs more than these few instructions): only a list of the sentinel
        // and `r` leaves the same node on both sides. On level 0 `r` was the head and the next one
        // is the earliest now; above, `spread` below starts the bucket afresh.
        let emptied = previous == next
        nodes.base[s].key = emptied ? UInt64(truncatingIfNeeded: Self.emptyMark) : UInt64(truncatingIfNeeded: next)
        let word = bucket &>> 6
        let left = occupied[word] & ~(UInt64(emptied ? 1 : 0) &<< UInt64(truncatingIfNeeded: bucket & 63))
        occupied.base[word] = left
        occupiedWords &= ~(UInt32(left == 0 ? 1 : 0) &<< UInt32(truncatingIfNeeded: word))
        count &-= 1
        earliest = -1
        // The base moves up to this deadline: no timer is earlier, and the reactor arms nothing
        // before the deadline it is firing. Only the timers left in this timer's bucket can change
        // level then (see `spread`); usually there are none. (Left in a level-0 bucket, they have
        // this very key: they stay.)
        baseKey = k
        if bucket >= 256 && !emptied { spread(bucket) }
        let slot = Int(r) &- Self.firstTimerNode
        return Entry(deadline: Self.deadline(k), sequence: records[slot].sequence, slot: UInt32(truncatingIfNeeded: slot))
    }

    // MARK: internals

    /// The bucket of `key` relative to the base: the level is the eight-bit group of the highest
    /// differing bit (0 when none differs), the bucket within it that group of the key.
    @inline(__always)
    private func bucket(of key: UInt64) -> Int {
        let level = (63 &- ((key ^ baseKey) | 1).leadingZeroBitCount) &>> 3
        return level &<< 8 | Int(truncatingIfNeeded: (key &>> UInt64(truncatingIfNeeded: level &<< 3)) & 255)
    }

    @inline(__always)
    private mutating func earliestNode() -> Int32 {
        if earliest >= 0 { return earliest }
        let word = occupiedWords.trailingZeroBitCount
        let bucket = word &<< 6 | occupied[word].trailingZeroBitCount
        let s = Int(Self.sentinel(bucket))
        var best = Int32(truncatingIfNeeded: nodes[s].key)
        if best < Int32(Self.firstTimerNode) { best = scanForEarliest(s) }
        earliest = best
        earliestBucket = bucket
        return best
    }

    /// The earliest of a bucket's list by deadline, the first of equals (the list is in sequence
    /// order); remembered in the sentinel.
    @inline(never)
    private mutating func scanForEarliest(_ s: Int) -> Int32 {
        var best = nodes[s].next
        var bestKey = nodes[Int(best)].key
        var r = nodes[Int(best)].next
        while r != Int32(truncatingIfNeeded: s) {  // bounded: the bucket's list
            let k = nodes[Int(r)].key
            if k < bestKey { (best, bestKey) = (r, k) }
            r = nodes[Int(r)].next
        }
        nodes.base[s].key = UInt64(truncatingIfNeeded: best)
        return best
    }

    /// Links timer node `r` at the tail of its bucket for `key`. Every list is in sequence order,
    /// which a level-0 bucket (one deadline) needs for FIFO among equal deadlines, and a higher one
    /// for its earliest (the first of equal deadlines): a fresh arm has the highest sequence yet;
    /// `spread` moves a list in its order into lower levels that were empty; `rebase` links in
    /// sequence order.
    @inline(__always)
    private mutating func link(_ r: Int32, key: UInt64) {
        let bucket = bucket(of: key)
        let s = Self.sentinel(bucket)
        let tail = nodes[Int(s)].previous
        nodes.base[Int(r)] = Node(key: key, next: s, previous: tail)
        nodes.base[Int(tail)].next = r
        nodes.base[Int(s)].previous = r
        // The bucket's earliest: an empty bucket's mark has the highest key, the unknown mark the
        // lowest (see `emptyMark`); on level 0 (one deadline) it stays the head. A select, not a
        // branch: with many timers armed whether it changes is anyone's guess.
        let mark = nodes[Int(s)].key
        let earlier = key < nodes[Int(truncatingIfNeeded: mark & 0xFFFF_FFFF)].key
        nodes.base[Int(s)].key = earlier ? UInt64(truncatingIfNeeded: r) : mark
        occupied.base[bucket &>> 6] |= 1 &<< UInt64(truncatingIfNeeded: bucket & 63)
        occupiedWords |= 1 &<< UInt32(truncatingIfNeeded: bucket &>> 6)
    }

    /// Unlinks timer node `r`; when that empties its bucket, marks the bucket empty.
    @inline(__always)
    private mutating func unlink(_ r: Int32) {
        let previous = nodes[Int(r)].previous, next = nodes[Int(r)].next
        nodes.base[Int(previous)].next = next
        nodes.base[Int(next)].previous = previous
        nodes.base[Int(r)].next = -1
        // Only a list of the sentinel and `r` leaves the same node on both sides: the sentinel.
        if previous == next {
            nodes.base[Int(previous)].key = UInt64(truncatingIfNeeded: Self.emptyMark)
            clearOccupied(Int(previous) &- Self.firstSentinel)
        }
    }

    /// Unlinks an armed timer that is not being popped: if it was its bucket's earliest, on level 0
    /// the next in line takes over (one deadline: the new head), above the bucket forgets it (its
    /// bucket is the one its key has relative to the base: a timer's bucket only changes in
    /// `spread` and `rebase`, which move it). Not forgetting on level 0 matters: lock-stepped
    /// channels put many timers on one deadline, and a disarmed head would cost a look through all.
    @inline(__always)
    private mutating func unlinkArmed(_ r: Int32) {
        let bucket = bucket(of: nodes[Int(r)].key)
        let s = Int(Self.sentinel(bucket))
        unlink(r)
        if nodes[s].key == UInt64(truncatingIfNeeded: r) {
            nodes.base[s].key = bucket < 256 ? UInt64(truncatingIfNeeded: nodes[s].next) : UInt64(truncatingIfNeeded: Self.unknownMark)
        }
    }

    @inline(__always)
    private mutating func clearOccupied(_ bucket: Int) {
        let word = bucket &>> 6
        occupied.base[word] &= ~(1 &<< UInt64(truncatingIfNeeded: bucket & 63))
        if occupied[word] == 0 { occupiedWords &= ~(1 &<< UInt32(truncatingIfNeeded: word)) }
    }

    private mutating func clearBuckets() {
        for b in 0..<Self.bucketCount {  // bounded: 2,048 buckets
            let s = Self.sentinel(b)
            nodes[Int(s)] = Node(key: UInt64(truncatingIfNeeded: Self.emptyMark), next: s, previous: s)
        }
        for w in 0..<(Self.bucketCount / 64) { occupied[w] = 0 }  // bounded: 32 words
        occupiedWords = 0
    }

    /// After the base moved up to the key of a timer popped from `bucket` (on level g ≥ 1): levels
    /// below g are empty (their timers would be earlier than the new base), the other buckets of
    /// level g and the higher levels keep their level relative to the new base, and the timers left
    /// in `bucket` agree with it on level g now: they move down. Each timer moves down at most seven
    /// times in its life.
    @inline(never)
    private mutating func spread(_ bucket: Int) {
        let s = Self.sentinel(bucket)
        var r = nodes[Int(s)].next
        nodes[Int(s)] = Node(key: UInt64(truncatingIfNeeded: Self.emptyMark), next: s, previous: s)
        clearOccupied(bucket)
        while r != s {  // bounded: the bucket's list
            let next = nodes[Int(r)].next
            link(r, key: nodes[Int(r)].key)
            r = next
        }
    }

    /// Slow path for a key before the base: set the base there and link every armed timer again.
    @inline(never)
    private mutating func rebase(to key: UInt64) {
        // In arming order, so that every list stays in sequence order (see `link`).
        var armed: [Int32] = []
        for slot in 0..<recordCount where isArmed(slot: slot) { armed.append(Int32(slot)) }  // bounded: the record table
        armed.sort { records[Int($0)].sequence < records[Int($1)].sequence }
        clearBuckets()
        baseKey = key
        for slot in armed {  // bounded: the armed timers
            let r = Self.timerNode(Int(slot))
            link(r, key: nodes[Int(r)].key)
        }
    }

    func deallocate() {
        records.deallocate()
        nodes.deallocate()
        freeSlots.deallocate()
        occupied.deallocate()
    }
}

/// A timer created with `Reactor.makeTimer` or returned by `Reactor.schedule`. A plain value: using it
/// after the timer was freed (or fired, for one-shot conveniences) is a safe no-op.
public struct TimerID: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}
