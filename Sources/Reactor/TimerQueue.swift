/// Timers: a table of records (one per timer, reused) and a hierarchical timing wheel of those
/// records, ordered by (deadline, sequence). The sequence makes equal deadlines fire in arming order,
/// which is what makes a virtual-time run repeatable.
///
/// Why a wheel and not the binary heap it replaced (issue 17; the heap is kept as `TimerHeap` for the
/// `uioemu-bench floors` comparison row): a heap costs O(log n) per arm and per pop, and with many
/// channels in one reactor (two timers armed per channel) that was most of the extra ~210
/// instructions per completion at 64 channels. Here arming, disarming and popping cost the same at
/// any depth: a timer is linked into one bucket found from its deadline's bits, and the earliest
/// bucket is found with two bit scans.
///
/// Layout. Deadlines are mapped to unsigned keys (order kept). `baseKey` is at or before every armed
/// key. Level `k` (0..<11, six bits each) holds the timers whose key agrees with `baseKey` above bit
/// 6k+6 and differs in bits 6k..<6k+6; the bucket is those six bits of the key. So every timer on a
/// lower level is earlier than every timer on a higher one, and within a level a lower bucket is
/// earlier: the earliest timer is in the lowest occupied bucket of the lowest occupied level. A
/// level-0 bucket holds one deadline exactly, its list kept in sequence order (FIFO by arming).
/// A bucket on a higher level holds a range of deadlines in no particular order; the earliest timer
/// there is found by a scan (remembered until the queue changes). When a timer is popped, `baseKey`
/// moves up to its deadline and the rest of its bucket, if any, is spread over the lower levels
/// (each timer moves down at most 10 times in its life). In the common case, a few timers per
/// channel armed microseconds apart, a timer is alone in its bucket: arming is one link, popping
/// two bit scans and one unlink.
///
/// Ordering is exactly the heap's: (deadline, sequence), the sequence taken when the timer is armed.
/// The pinned trace hashes depend on it (ReactorTests "Timer wheel" check it against a sorted model).
struct TimerQueue {
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var slot: UInt32
    }

    struct Record {
        var callback: Callback
        var deadline: Int64
        var sequence: UInt64
        /// Neighbours in the bucket's list (record slots), -1 at the ends.
        var next: Int32
        var previous: Int32
        /// Bucket (level × 64 + six bits of the key), or -1 while not armed.
        var bucket: Int32
        /// Bumped whenever the slot is freed, so stale `TimerID`s are recognised and ignored.
        var generation: UInt32
        var periodNanoseconds: Int64
        /// One-shot convenience timers free their slot after firing or being cancelled.
        var disposable: Bool
        var inUse: Bool
    }

    struct Bucket {
        var head: Int32 = -1
        var tail: Int32 = -1
    }

    /// Six bits per level; 11 levels cover the 64-bit key.
    static let levels = 11

    private(set) var records = RawBuffer<Record>(capacity: 64)
    private(set) var recordCount = 0
    private var freeSlots = RawBuffer<UInt32>(capacity: 64)
    private var freeCount = 0
    private var nextSequence: UInt64 = 0
    private(set) var liveRecords = 0
    /// Armed timers.
    private(set) var count = 0

    private var buckets = RawBuffer<Bucket>(capacity: TimerQueue.levels * 64)
    /// Per level, one bit per occupied bucket.
    private var occupied = RawBuffer<UInt64>(capacity: TimerQueue.levels)
    /// One bit per level with an occupied bucket.
    private var occupiedLevels: UInt32 = 0
    /// At or before every armed key (see the type's comment).
    private var baseKey: UInt64 = TimerQueue.key(0)
    /// The earliest armed record, once found; -1 when not known (any change forgets it).
    private var earliest: Int32 = -1

    init() {
        for b in 0..<(Self.levels * 64) { buckets[b] = Bucket() }  // bounded: 704 buckets
        for l in 0..<Self.levels { occupied[l] = 0 }  // bounded: 11 levels
    }

    /// Signed nanoseconds to an unsigned key with the same order (the sign bit flipped).
    @inline(__always)
    static func key(_ deadline: Int64) -> UInt64 { UInt64(bitPattern: deadline) ^ (1 << 63) }

    // MARK: records

    mutating func allocate(_ callback: Callback, disposable: Bool) -> TimerID {
        let slot: UInt32
        if freeCount > 0 {
            freeCount -= 1
            slot = freeSlots[freeCount]
        } else {
            records.reserve(recordCount + 1, keeping: recordCount)
            slot = UInt32(recordCount)
            records[recordCount] = Record(callback: callback, deadline: 0, sequence: 0, next: -1, previous: -1, bucket: -1,
                                          generation: 0, periodNanoseconds: 0, disposable: false, inUse: false)
            recordCount += 1
        }
        var r = records[Int(slot)]
        r.callback = callback
        r.bucket = -1
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
    func isArmed(slot: Int) -> Bool { records[slot].bucket >= 0 }

    mutating func setPeriod(slot: Int, nanoseconds: Int64) { records.base[slot].periodNanoseconds = nanoseconds }

    // MARK: wheel

    var isEmpty: Bool { count == 0 }

    /// The earliest entry; only valid when not empty.
    @inline(__always)
    var first: Entry {
        mutating get {
            let r = earliestRecord()
            let rec = records[Int(r)]
            return Entry(deadline: rec.deadline, sequence: rec.sequence, slot: UInt32(r))
        }
    }

    /// The sequence number the next armed timer will get: timers armed from now on have a higher one.
    var sequenceWatermark: UInt64 { nextSequence }

    /// Arms (or re-arms, moving it) the timer in `slot` for `deadline`, with a fresh sequence number.
    @inline(__always)
    mutating func arm(slot: Int, deadline: Int64) {
        if records[slot].bucket >= 0 { unlink(Int32(truncatingIfNeeded: slot)) } else { count &+= 1 }
        let sequence = nextSequence
        nextSequence &+= 1
        records.base[slot].deadline = deadline
        records.base[slot].sequence = sequence
        earliest = -1
        let k = Self.key(deadline)
        // The reactor never arms before its clock, and the base never passes the clock; a caller
        // that does (a negative first delay) gets the slow path, not a wrong order.
        if k < baseKey { rebase(to: k) }
        link(Int32(truncatingIfNeeded: slot), key: k)
    }

    mutating func disarm(slot: Int) {
        guard records[slot].bucket >= 0 else { return }
        unlink(Int32(truncatingIfNeeded: slot))
        count &-= 1
        earliest = -1
    }

    /// Removes and returns the earliest entry; the record is left disarmed.
    @inline(__always)
    mutating func popFirst() -> Entry {
        let r = earliestRecord()
        let rec = records[Int(r)]
        unlink(r)
        count &-= 1
        earliest = -1
        // The base moves up to this deadline: no timer is earlier, and the reactor arms nothing
        // before the deadline it is firing. Only the timers left in this timer's bucket can change
        // level then (see `spread`); usually there are none.
        baseKey = Self.key(rec.deadline)
        if rec.bucket >= 64 && buckets[Int(rec.bucket)].head >= 0 { spread(Int(rec.bucket)) }
        return Entry(deadline: rec.deadline, sequence: rec.sequence, slot: UInt32(r))
    }

    // MARK: internals

    /// The level of `key` relative to the base: the six-bit group of the highest differing bit.
    @inline(__always)
    private func level(of key: UInt64) -> Int {
        let diff = key ^ baseKey
        return diff == 0 ? 0 : (63 &- diff.leadingZeroBitCount) / 6
    }

    @inline(__always)
    private mutating func earliestRecord() -> Int32 {
        if earliest >= 0 { return earliest }
        let level = occupiedLevels.trailingZeroBitCount
        let bucket = level &* 64 &+ occupied[level].trailingZeroBitCount
        var best = buckets[bucket].head
        // A higher-level bucket holds a range of deadlines: look through it unless it holds one timer.
        if level > 0 && best != buckets[bucket].tail { best = scanForEarliest(from: best) }
        earliest = best
        return best
    }

    /// The earliest of a higher-level bucket's list, by (deadline, sequence).
    @inline(never)
    private func scanForEarliest(from head: Int32) -> Int32 {
        var best = head
        var bestRecord = records[Int(head)]
        var r = bestRecord.next
        while r >= 0 {  // bounded: the bucket's list
            let rec = records[Int(r)]
            if rec.deadline < bestRecord.deadline || (rec.deadline == bestRecord.deadline && rec.sequence < bestRecord.sequence) {
                best = r
                bestRecord = rec
            }
            r = rec.next
        }
        return best
    }

    /// Links `r` at the tail of its bucket for `key`. Every list is in sequence order, which a
    /// level-0 bucket (one deadline) needs for FIFO among equal deadlines: a fresh arm has the
    /// highest sequence yet; `spread` moves a list in its order into lower levels that were empty;
    /// `rebase` links in sequence order.
    @inline(__always)
    private mutating func link(_ r: Int32, key: UInt64) {
        let level = level(of: key)
        let six = Int(truncatingIfNeeded: (key &>> UInt64(truncatingIfNeeded: level &* 6)) & 63)
        let bucket = level &* 64 &+ six
        let tail = buckets[bucket].tail
        records.base[Int(r)].bucket = Int32(truncatingIfNeeded: bucket)
        records.base[Int(r)].previous = tail
        records.base[Int(r)].next = -1
        if tail >= 0 { records.base[Int(tail)].next = r } else { buckets.base[bucket].head = r }
        buckets.base[bucket].tail = r
        occupied.base[level] |= 1 &<< UInt64(truncatingIfNeeded: six)
        occupiedLevels |= 1 &<< UInt32(truncatingIfNeeded: level)
    }

    @inline(__always)
    private mutating func unlink(_ r: Int32) {
        let rec = records[Int(r)]
        let bucket = Int(rec.bucket)
        if rec.previous >= 0 { records.base[Int(rec.previous)].next = rec.next } else { buckets.base[bucket].head = rec.next }
        if rec.next >= 0 { records.base[Int(rec.next)].previous = rec.previous } else { buckets.base[bucket].tail = rec.previous }
        records.base[Int(r)].bucket = -1
        if rec.previous < 0 && rec.next < 0 { clearOccupied(bucket) }
    }

    @inline(__always)
    private mutating func clearOccupied(_ bucket: Int) {
        let level = bucket >> 6
        occupied.base[level] &= ~(1 &<< UInt64(truncatingIfNeeded: bucket & 63))
        if occupied[level] == 0 { occupiedLevels &= ~(1 &<< UInt32(truncatingIfNeeded: level)) }
    }

    /// After the base moved up to the key of a timer popped from `bucket` (on level g ≥ 1): levels
    /// below g are empty (their timers would be earlier than the new base), the other buckets of
    /// level g and the higher levels keep their level relative to the new base, and the timers left
    /// in `bucket` agree with it on level g now: they move down. Each timer moves down at most ten
    /// times in its life.
    @inline(never)
    private mutating func spread(_ bucket: Int) {
        var r = buckets[bucket].head
        buckets[bucket] = Bucket()
        clearOccupied(bucket)
        while r >= 0 {  // bounded: the bucket's list
            let next = records[Int(r)].next
            link(r, key: Self.key(records[Int(r)].deadline))
            r = next
        }
    }

    /// Slow path for a key before the base: set the base there and link every armed timer again.
    @inline(never)
    private mutating func rebase(to key: UInt64) {
        for b in 0..<(Self.levels * 64) { buckets[b] = Bucket() }  // bounded: 704 buckets
        for l in 0..<Self.levels { occupied[l] = 0 }  // bounded: 11 levels
        occupiedLevels = 0
        baseKey = key
        // In arming order, so that every list stays in sequence order (see `link`).
        var armed: [Int32] = []
        for s in 0..<recordCount where records[s].bucket >= 0 { armed.append(Int32(s)) }  // bounded: the record table
        armed.sort { records[Int($0)].sequence < records[Int($1)].sequence }
        for r in armed { link(r, key: Self.key(records[Int(r)].deadline)) }  // bounded: the armed timers
    }

    func deallocate() {
        records.deallocate()
        freeSlots.deallocate()
        buckets.deallocate()
        occupied.deallocate()
    }
}

/// A timer created with `Reactor.makeTimer` or returned by `Reactor.schedule`. A plain value: using it
/// after the timer was freed (or fired, for one-shot conveniences) is a safe no-op.
public struct TimerID: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}
