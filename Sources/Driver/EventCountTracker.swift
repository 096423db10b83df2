/// The UIO event count as the driver last read it. The kernel's count is an s32 that wraps; a jump
/// of more than one between two reads means interrupts the driver never saw.
struct EventCountTracker: Sendable {
    /// Nil until a count is known: a fresh file has nothing to read (EAGAIN), and the count is the
    /// device's total, so the first one read is the baseline, not a jump.
    private var last: Int32? = nil

    /// A baseline read at (re)start; nil when there was nothing to read (EAGAIN: no interrupt since
    /// this file's last read), which keeps the count last read, still exact. (Taking 0 instead
    /// counted every interrupt since boot as lost at each `restart-driver`.)
    mutating func reset(to count: Int32?) {
        if let count { last = count }
    }

    /// Returns how many interrupts were lost before `count`.
    mutating func lost(before count: Int32) -> Int {
        guard let previous = last else {
            last = count
            return 0
        }
        let jump = Int(count &- previous)
        last = count
        return jump > 1 ? jump - 1 : 0
    }
}
