/// The FIFO of work ready to run on the next turn: posted work and rung in-process doorbells.
/// A ring buffer of plain values that grows by doubling; steady state never allocates.
struct ReadyQueue {
    enum Item {
        /// Posted work. `retained` means the queue holds a +1 on the target (a one-off closure) and
        /// releases it after running.
        case work(Callback, retained: Bool)
        /// An in-process doorbell that became readable; the slot is checked again when it runs.
        case doorbell(slot: UInt32)
    }

    private var ring = RawBuffer<Item>(capacity: 256)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func push(_ item: Item) {
        if count == ring.capacity { grow() }
        ring[(head + count) & (ring.capacity - 1)] = item
        count += 1
    }

    @inline(__always)
    mutating func pop() -> Item {
        assert(count > 0)
        let item = ring[head]
        head = (head + 1) & (ring.capacity - 1)
        count -= 1
        return item
    }

    @inline(never)
    private mutating func grow() {
        // Unwrap into a buffer twice the size; the capacity stays a power of two.
        let old = ring
        let fresh = RawBuffer<Item>(capacity: old.capacity * 2)
        for i in 0..<count { fresh[i] = old[(head + i) & (old.capacity - 1)] }
        old.deallocate()
        ring = fresh
        head = 0
    }

    func deallocate() { ring.deallocate() }
}
