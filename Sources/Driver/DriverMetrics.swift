/// Counters of a driver run, all readable at the end (and at any time). Plain integers, updated in
/// place on the per-completion path.
public struct DriverMetrics: Equatable, Sendable {
    public var completions = 0
    public var bytes = 0
    /// Interrupts the count says happened but the driver never saw (a jump of more than one).
    public var lostInterrupts = 0
    /// Interrupts with no cause set in DMASR.
    public var spuriousInterrupts = 0
    /// Dly_Irq with nothing else (direct register mode has no delay timer: only a fault sets it).
    public var delayInterrupts = 0
    public var errors: [DriverError: Int] = [:]
    /// Soft resets followed by re-arming.
    public var recoveries = 0
    /// Times a completion found no free buffer to arm next (the consumer holds them all).
    public var ringFullStalls = 0
    /// The most buffers the consumer held at once.
    public var maxHeldByConsumer = 0
    /// `release(slot:)` of a buffer the consumer does not hold.
    public var badReleases = 0
    /// Breaches of the signal-once rules (a driver bug).
    public var completionMisuses = 0
    /// IOC with no transfer armed (a driver or device bug).
    public var unexpectedCompletions = 0
    /// Register accesses that faulted (from the register port).
    public var registerFaults = 0
    /// UIO reads or writes that failed with something other than EAGAIN.
    public var interruptSourceErrors = 0

    public init() {}

    public var totalErrors: Int { errors.values.reduce(0, +) }

    public func count(_ error: DriverError) -> Int { errors[error] ?? 0 }
}
