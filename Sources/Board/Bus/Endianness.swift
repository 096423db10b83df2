/// Byte order of a bus master or slave. The PowerPC cores modelled here run big-endian; AXI IP in
/// the FPGA fabric is little-endian.
public enum Endianness: String, Sendable, Codable, CaseIterable {
    case big
    case little
}

/// A register access whose assumed byte order differed from the window's bus byte order.
///
/// On real PowerPC a native (big-endian) `lwz` of a little-endian AXI register returns the value
/// byte-swapped (`in_be32` where `in_le32`/`lwbrx` was needed); a store likewise lands swapped. The
/// bus models that and records both values so the mistake is visible.
public struct EndiannessViolation: Hashable, Sendable, CustomStringConvertible {
    public enum Direction: String, Sendable { case read, write }
    public let address: PhysicalAddress
    public let direction: Direction
    /// The byte order the caller assumed.
    public let assumed: Endianness
    /// The byte order of the register window.
    public let window: Endianness
    /// The register's value as the device holds it (read) or receives it (write).
    public let deviceValue: UInt32
    /// The value the CPU saw (read) or meant to write (write).
    public let cpuValue: UInt32

    public var description: String {
        let verb = direction == .read ? "read" : "write"
        return "\(verb) at \(address) assumed \(assumed)-endian on a \(window)-endian window: "
            + "device \(PhysicalAddress.hex(UInt64(deviceValue), digits: 8)), "
            + "CPU \(PhysicalAddress.hex(UInt64(cpuValue), digits: 8))"
    }
}
