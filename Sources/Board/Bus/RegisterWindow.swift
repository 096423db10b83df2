/// What a device model implements to appear on the bus as a register window.
///
/// Values are register values as the device defines them (bit 0 is the least significant bit); the
/// bus applies the byte-order model between the CPU and the window, so a device never swaps bytes.
/// Implement it with a `final class`: the bus calls it on every register access.
/// Offsets are bytes from the window's base, always 4-aligned and inside the window.
public protocol RegisterWindow: AnyObject {
    func read32(offset: UInt32) -> UInt32
    func write32(offset: UInt32, value: UInt32)
}

/// A device's slot on the bus: where its registers live and in which byte order. Created from the
/// profile when the board is built; the Devices layer attaches the model later.
public final class DeviceWindow {
    public let name: String
    public let range: AddressRange
    public let endianness: Endianness
    /// Nil until a model is attached: accesses then fault as `unmodelled`.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public internal(set) var model: (any RegisterWindow)?

    init(name: String, range: AddressRange, endianness: Endianness) {
        self.name = name
        self.range = range
        self.endianness = endianness
    }
}
