/// What a device model subclasses to appear on the bus as a register window.
///
/// Values are register values as the device defines them (bit 0 is the least significant bit); the
/// bus applies the byte-order model between the CPU and the window, so a device never swaps bytes.
/// Offsets are bytes from the window's base, always 4-aligned and inside the window.
///
/// A class rather than a protocol: the bus calls it on every register access, and a call through an
/// `Unmanaged` class reference is one virtual call with no retain, where an `any` existential held
/// in a `var` costs a retain/release per access (DESIGN.md, "The per-completion hot path"). The
/// base class is a window of no registers: it reads 0 and ignores writes.
open class RegisterWindow {
    public init() {}

    open func read32(offset: UInt32) -> UInt32 { 0 }
    open func write32(offset: UInt32, value: UInt32) {}
}

/// A device's slot on the bus: where its registers live and in which byte order. Created from the
/// profile when the board is built; the Devices layer attaches the model later.
public final class DeviceWindow {
    public let name: String
    public let range: AddressRange
    public let endianness: Endianness
    /// Nil until a model is attached: accesses then fault as `unmodelled`.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public internal(set) var model: RegisterWindow? {
        didSet { modelRef = model.map { Unmanaged.passUnretained($0) } }
    }
    /// `model` unretained (`model` owns it): the register path calls through it without the
    /// retain/release that binding the Optional `var` would cost per access.
    @usableFromInline @exclusivity(unchecked) private(set) var modelRef: Unmanaged<RegisterWindow>? = nil

    init(name: String, range: AddressRange, endianness: Endianness) {
        self.name = name
        self.range = range
        self.endianness = endianness
    }
}

extension DeviceWindow {
    /// The common register read, for callers that have already checked that `offset` is 4-aligned
    /// and inside the window: the CPU assumes the window's own byte order and a model is attached,
    /// so the value passes unswapped, with nothing to log. Nil otherwise, and the caller goes
    /// through `Bus.readRegister`, which swaps and logs, or faults. Inlined into the UIO mapping so
    /// a driver's register read is one virtual call into the model (DESIGN.md, per-completion hot path).
    @inlinable @inline(__always)
    public func readInWindowOrder(_ offset: UInt32, assuming order: Endianness) -> UInt32? {
        guard order == endianness, let model = modelRef else { return nil }
        return model._withUnsafeGuaranteedRef { $0.read32(offset: offset) }
    }

    /// Whether the model attached now is the object at `model` (an identity test, no retain): a
    /// caller that holds a model of a concrete class checks it is still this window's before
    /// calling it directly (the UIO mapping's AXI DMA path).
    @inlinable @inline(__always)
    public func holdsModel(_ model: UnsafeMutableRawPointer) -> Bool {
        modelRef?.toOpaque() == model
    }

    /// The common register write (see `readInWindowOrder`); false when the caller must go through
    /// `Bus.writeRegister`, having written nothing.
    @inlinable @inline(__always)
    public func writeInWindowOrder(_ value: UInt32, _ offset: UInt32, assuming order: Endianness) -> Bool {
        guard order == endianness, let model = modelRef else { return false }
        model._withUnsafeGuaranteedRef { $0.write32(offset: offset, value: value) }
        return true
    }
}
