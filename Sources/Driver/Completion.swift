/// The completion of one transfer: signalled exactly once, with an error attached only before it is
/// signalled (the dma_fence rule the kernel maintainers insist on: a fence signals once, and its
/// error must be set before it signals). Breaking either rule is a driver bug that is reported, never
/// a silent overwrite.
public struct Completion: Equatable, Sendable {
    public enum Misuse: Equatable, Sendable {
        case signalledTwice
        case errorAfterSignal
    }

    /// Transfers are numbered from 1 in the order they were armed.
    public let transfer: UInt64
    public let slot: Int
    public private(set) var isSignalled = false
    public private(set) var error: DriverError? = nil
    /// Bytes received (S2MM) or sent (MM2S); set when signalled without an error.
    public private(set) var byteCount = 0

    public init(transfer: UInt64, slot: Int) {
        self.transfer = transfer
        self.slot = slot
    }

    /// Attaches an error; refused once the completion has been signalled.
    public mutating func attach(_ error: DriverError) -> Misuse? {
        guard !isSignalled else { return .errorAfterSignal }
        self.error = error
        return nil
    }

    /// Signals the completion; refused the second time.
    public mutating func signal(byteCount: Int = 0) -> Misuse? {
        guard !isSignalled else { return .signalledTwice }
        isSignalled = true
        self.byteCount = error == nil ? byteCount : 0
        return nil
    }
}

/// Signalled completions waiting to be reaped, oldest first, in a ring of fixed capacity allocated
/// once. A full ring drops the oldest entry and counts it: nothing is lost silently.
public struct CompletionQueue: Sendable {
    private var ring: [Completion]
    private var head = 0
    public private(set) var count = 0
    public private(set) var overwritten = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        ring = Array(repeating: Completion(transfer: 0, slot: 0), count: capacity)
    }

    public var capacity: Int { ring.count }

    @inline(__always)
    mutating func append(_ completion: Completion) {
        if count == ring.count {
            head = wrapped(head + 1)
            count -= 1
            overwritten += 1
        }
        ring[wrapped(head + count)] = completion
        count += 1
    }

    /// Removes and returns the oldest signalled completion.
    public mutating func reap() -> Completion? {
        guard count > 0 else { return nil }
        let c = ring[head]
        head = wrapped(head + 1)
        count -= 1
        return c
    }

    /// `index % capacity` for an index below twice the capacity, without a division (once per
    /// completion, a division is most of the append).
    @inline(__always)
    private func wrapped(_ index: Int) -> Int { index >= ring.count ? index - ring.count : index }
}

/// What can go wrong with a transfer, as the driver sees it.
public enum DriverError: String, Equatable, Sendable, CaseIterable, Codable {
    case internalError = "DMAIntErr"
    case slaveError = "DMASlvErr"
    case decodeError = "DMADecErr"
    /// The watchdog expired with a transfer armed (a stalled engine).
    case timeout
    /// IOC with a received length of 0 or more than the buffer.
    case badLength = "bad-length"
    /// Scatter-gather: a fetched descriptor had Cmplt set (stale), and fetch/update bus errors.
    case staleDescriptor = "SGIntErr"
    case descriptorSlaveError = "SGSlvErr"
    case descriptorDecodeError = "SGDecErr"

    /// The most specific error bit set in a DMASR value (decode, then slave, then internal; data
    /// errors before descriptor errors).
    @inline(__always)
    static func from(status: UInt32) -> DriverError? {
        // One test on the per-completion path, where no error bit is set.
        guard status & AXIDMAHeader.errors != 0 else { return nil }
        if status & AXIDMAHeader.DMADecErr != 0 { return .decodeError }
        if status & AXIDMAHeader.DMASlvErr != 0 { return .slaveError }
        if status & AXIDMAHeader.DMAIntErr != 0 { return .internalError }
        if status & AXIDMAHeader.SGDecErr != 0 { return .descriptorDecodeError }
        if status & AXIDMAHeader.SGSlvErr != 0 { return .descriptorSlaveError }
        if status & AXIDMAHeader.SGIntErr != 0 { return .staleDescriptor }
        return nil
    }
}
