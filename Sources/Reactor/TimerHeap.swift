/// The reactor's timer structure until issue 17: a table of records and a binary min-heap of plain
/// values keyed by (deadline, sequence), each record knowing its heap position. Replaced by the
/// timing wheel (`TimerQueue`), whose cost does not grow with the number of armed timers; kept only
/// so that `uioemu-bench floors` measures the wheel against it in the same run (`TimerStructures`).
struct TimerHeap {
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var slot: UInt32
    }

    struct Record {
        var callback: Callback
        /// Position in the heap, or -1 while not armed.
        var heapIndex: Int32
        /// Bumped whenever the slot is freed, so stale `TimerID`s are recognised and ignored.
        var generation: UInt32
        var periodNanoseconds: Int64
        /// One-shot convenience timers free their slot after firing or being cancelled.
        var disposable: Bool
        var inUse: Bool
    }

    private(set) var heap = RawBuffer<Entry>(capacity: 64)
    private(set) var count = 0
    private(set) var records = RawBuffer<Record>(capacity: 64)
    private(set) var recordCount = 0
    private var freeSlots = RawBuffer<UInt32>(capacity: 64)
    private var freeCount = 0
    private var nextSequence: UInt64 = 0
    private(set) var liveRecords = 0

    // MARK: records

    mutating func allocate(_ callback: Callback, disposable: Bool) -> TimerID {
        let slot: UInt32
        if freeCount > 0 {
            freeCount -= 1
            slot = freeSlots[freeCount]
        } else {
            records.reserve(recordCount + 1, keeping: recordCount)
            slot = UInt32(recordCount)
            records[recordCount] = Record(callback: callback, heapIndex: -1, generation: 0,
                                          periodNanoseconds: 0, disposable: false, inUse: false)
            recordCount += 1
        }
        var r = records[Int(slot)]
        r.callback = callback
        r.heapIndex = -1
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

    mutating func setPeriod(slot: Int, nanoseconds: Int64) { records.base[slot].periodNanoseconds = nanoseconds }

    // MARK: heap

    var isEmpty: Bool { count == 0 }

    /// The earliest entry; only valid when not empty.
    @inline(__always)
    var first: Entry { heap[0] }

    /// Arms (or re-arms, moving it) the timer in `slot` for `deadline`, with a fresh sequence number.
    @inline(__always)
    mutating func arm(slot: Int, deadline: Int64) {
        let sequence = nextSequence
        nextSequence &+= 1
        let entry = Entry(deadline: deadline, sequence: sequence, slot: UInt32(slot))
        let at = Int(records[slot].heapIndex)
        if at >= 0 {
            heap[at] = entry
            if !siftUp(at) { siftDown(at) }
            return
        }
        heap.reserve(count + 1, keeping: count)
        heap[count] = entry
        records.base[slot].heapIndex = Int32(count)
        count += 1
        siftUp(count - 1)
    }

    mutating func disarm(slot: Int) {
        let at = Int(records[slot].heapIndex)
        guard at >= 0 else { return }
        records.base[slot].heapIndex = -1
        count -= 1
        if at != count {
            place(heap[count], at: at)
            if !siftUp(at) { siftDown(at) }
        }
    }

    /// Removes and returns the earliest entry; the record is left disarmed.
    @inline(__always)
    mutating func popFirst() -> Entry {
        let top = heap[0]
        records.base[Int(top.slot)].heapIndex = -1
        count -= 1
        if count > 0 { fillRootHole(with: heap[count]) }
        return top
    }

    /// Bottom-up removal (Floyd): the hole left at the root moves down along the earlier child to a
    /// leaf, one comparison per level, and `last` is placed there and sifted up. `last` came from
    /// the bottom, so it rarely climbs: about half the comparisons of sifting it down from the
    /// root, which matters once many channels keep a hundred timers armed.
    /// (Index arithmetic wraps rather than traps: indexes stay below `count`, far from overflow,
    /// and the checks were a third of the loop.)
    @inline(__always)
    private mutating func fillRootHole(with last: Entry) {
        var i = 0
        while true {
            let left = i &* 2 &+ 1
            guard left < count else { break }
            let right = left &+ 1
            let child = right < count && Self.before(heap[right], heap[left]) ? right : left
            place(heap[child], at: i)
            i = child
        }
        place(last, at: i)
        siftUp(i)
    }

    /// The sequence number the next armed timer will get: timers armed from now on have a higher one.
    var sequenceWatermark: UInt64 { nextSequence }

    @inline(__always)
    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    // The heap helpers are `mutating` so the queue is passed by address; as non-mutating methods
    // the whole struct was copied onto the stack for every sift (seen in callgrind).
    @inline(__always)
    private mutating func place(_ e: Entry, at i: Int) {
        heap[i] = e
        records.base[Int(e.slot)].heapIndex = Int32(truncatingIfNeeded: i)
    }

    @discardableResult
    private mutating func siftUp(_ start: Int) -> Bool {
        var i = start
        let e = heap[i]
        while i > 0 {
            let parent = (i &- 1) >> 1
            let p = heap[parent]
            guard Self.before(e, p) else { break }
            place(p, at: i)
            i = parent
        }
        if i != start { place(e, at: i) }
        return i != start
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let e = heap[i]
        while true {
            let left = i &* 2 &+ 1
            guard left < count else { break }
            var child = left
            let right = left &+ 1
            if right < count && Self.before(heap[right], heap[left]) { child = right }
            let c = heap[child]
            guard Self.before(c, e) else { break }
            place(c, at: i)
            i = child
        }
        place(e, at: i)
    }

    func deallocate() {
        heap.deallocate()
        records.deallocate()
        freeSlots.deallocate()
    }
}
