/// An access the bus could not complete. Returned, never trapped: a driver poking a hole in the map
/// gets this back, and a DMA engine turns it into a decode error (AXI DECERR).
public struct BusFault: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable {
        /// Nothing is mapped at the address.
        case unmapped
        /// A reserved window, or a device window with no model attached.
        case unmodelled
        /// A block (DMA/memcpy) access to a register window.
        case notMemory
        /// The access starts in one region and runs past its end.
        case straddlesRegions
        /// A register window takes aligned 32-bit accesses only.
        case unsupportedWidth
        case misaligned
    }

    /// The first address of the failing access.
    public let address: PhysicalAddress
    /// Bytes the access asked for.
    public let count: UInt64
    public let reason: Reason

    public init(address: PhysicalAddress, count: UInt64, reason: Reason) {
        self.address = address
        self.count = count
        self.reason = reason
    }

    public var description: String { "bus fault (\(reason.rawValue)) at \(address), \(count) bytes" }
}
