/// The UIO event count as the driver last read it. The kernel's count is an s32 that wraps; a jump
/// of more than one between two reads means interrupts the driver never saw.
struct EventCountTracker: Sendable {
    private var last: Int32 = 0

    mutating func reset(to count: Int32) { last = count }

    /// Returns how many interrupts were lost before `count`.
    mutating func lost(before count: Int32) -> Int {
        let jump = Int(count &- last)
        last = count
        return jump > 1 ? jump - 1 : 0
    }
}
