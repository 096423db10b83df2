import Board
import Devices

/// What a UIO map looks like after `mmap`: 32-bit register access at offsets from the start of the
/// mapping, through the board bus (so the endianness model and bus faults apply).
///
/// Offsets are relative to the page the map starts in, as with a real mmap of the map.
public final class EmulatedRegisterMapping {
    public let map: UIOMap
    public let length: UInt64
    let bus: Bus
    @usableFromInline let activity: RegisterActivity
    let pageBase: PhysicalAddress
    /// The register window holding the whole mapping, if there is one, resolved once and held
    /// unretained (the bus map keeps it alive; binding an Optional class `let` per access would
    /// retain it). Every access that passes the mapping's own bounds and alignment check is then
    /// inside the window, so it goes straight to the window (and, in the window's byte order, to
    /// the model) without the map search `Bus.read32`/`write32` would do.
    @usableFromInline let windowRef: Unmanaged<DeviceWindow>?
    /// Where the mapping's first byte lies in `windowRef`'s window.
    @usableFromInline let windowOffset: UInt64
    /// The window's model when it is an AXI DMA core (the one model a driver's per-completion
    /// accesses reach), unretained (the bus keeps it alive), with the byte order it is accessed in
    /// unswapped. Through the concrete, final class the call is direct, so the core's decode and the
    /// channel's register write inline into the driver's specialised shell (cross-module
    /// optimisation) instead of a virtual call through `RegisterWindow` per access (DESIGN.md, the
    /// per-completion hot path). Each access checks it is still the window's model (`Bus.attach`
    /// may replace it); any other model goes through the window as before.
    @usableFromInline let coreRef: Unmanaged<AXIDMA>?
    @usableFromInline let coreOrder: Endianness
    /// Accesses refused (outside the mapping) or faulted on the bus.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var faults = 0

    init(map: UIOMap, length: UInt64, bus: Bus, activity: RegisterActivity) {
        self.map = map
        self.length = length
        self.bus = bus
        self.activity = activity
        pageBase = PhysicalAddress(map.address.rawValue - map.offset)
        if case .device(let window)? = bus.region(at: pageBase)?.target, window.range.contains(pageBase, count: length) {
            windowRef = Unmanaged.passUnretained(window)
            windowOffset = pageBase - window.range.base
            coreRef = (window.model as? AXIDMA).map { Unmanaged.passUnretained($0) }
            coreOrder = window.endianness
        } else {
            windowRef = nil
            windowOffset = 0
            coreRef = nil
            coreOrder = .little
        }
    }

    /// The AXI DMA core to call directly for an access assuming `order`: the window's model, in the
    /// window's own byte order (what `DeviceWindow.readInWindowOrder` would call through the
    /// model's vtable). Nil: take the general path.
    @inlinable @inline(__always)
    func directCore(_ order: Endianness) -> Unmanaged<AXIDMA>? {
        guard let coreRef, let windowRef, order == coreOrder,
            windowRef._withUnsafeGuaranteedRef({ $0.holdsModel(coreRef.toOpaque()) })
        else { return nil }
        return coreRef
    }

    /// A 32-bit load at `offset`, assuming the register's byte order is `order` (what the driver's
    /// accessor does: `in_le32` assumes little-endian, a plain load is big-endian on PowerPC).
    ///
    /// `@inlinable`, as are `write32` and the `RegisterPort` accessors (UIO/DriverPorts.swift): the
    /// driver's specialised shell inlines them, with the AXI DMA core's decode and the channel's
    /// register (`AXIDMA.readRegister`/`writeRegister`) behind them. Cross-module optimisation
    /// alone handed on the read but not the write (its body, with the core's inlined, is larger).
    @inlinable @inline(__always)
    public func read32(at offset: UInt64, assuming order: Endianness) -> Result<UInt32, UIOAccessFault> {
        guard offset <= length &- 4, offset & 3 == 0 else { return .failure(refuse(offset)) }
        if let core = directCore(order) {
            return .success(core._withUnsafeGuaranteedRef { $0.readRegister(offset: UInt32(truncatingIfNeeded: windowOffset &+ offset)) })
        }
        if let windowRef,
            let value = windowRef._withUnsafeGuaranteedRef({ $0.readInWindowOrder(UInt32(truncatingIfNeeded: windowOffset &+ offset), assuming: order) })
        {
            return .success(value)
        }
        return readThroughBus(at: offset, assuming: order)
    }

    /// A 32-bit store at `offset`; see `read32`.
    @inlinable @inline(__always)
    @discardableResult
    public func write32(_ value: UInt32, at offset: UInt64, assuming order: Endianness) -> UIOAccessFault? {
        guard offset <= length &- 4, offset & 3 == 0 else { return refuse(offset) }
        activity.writes &+= 1
        if let core = directCore(order) {
            core._withUnsafeGuaranteedRef { $0.writeRegister(offset: UInt32(truncatingIfNeeded: windowOffset &+ offset), value: value) }
            return nil
        }
        if let windowRef,
            windowRef._withUnsafeGuaranteedRef({ $0.writeInWindowOrder(value, UInt32(truncatingIfNeeded: windowOffset &+ offset), assuming: order) })
        {
            return nil
        }
        return writeThroughBus(value, at: offset, assuming: order)
    }

    // The uncommon cases stay out of line, so the inlined accessors above are a bounds check, a
    // byte-order check and the model's call. Internal, not private: cross-module optimisation can
    // then hand the accessors' bodies to the driver's specialisation (a body that names a private
    // function cannot be).

    @usableFromInline @inline(never)
    func refuse(_ offset: UInt64) -> UIOAccessFault {
        faults += 1
        return .outsideMapping(offset: offset, length: length)
    }

    /// A byte-order mismatch (the bus swaps and logs it), a window with no model, or a mapping that
    /// is not inside one register window: the bus decides.
    @usableFromInline @inline(never)
    func readThroughBus(at offset: UInt64, assuming order: Endianness) -> Result<UInt32, UIOAccessFault> {
        let address = pageBase + offset
        let outcome = if let windowRef {
            windowRef._withUnsafeGuaranteedRef { bus.readRegister($0, at: address, assuming: order) }
        } else {
            bus.read32(at: address, assuming: order)
        }
        switch outcome {
        case let .success(value): return .success(value)
        case let .failure(fault):
            faults += 1
            return .failure(.bus(fault))
        }
    }

    @usableFromInline @inline(never)
    func writeThroughBus(_ value: UInt32, at offset: UInt64, assuming order: Endianness) -> UIOAccessFault? {
        let address = pageBase + offset
        let outcome = if let windowRef {
            windowRef._withUnsafeGuaranteedRef { bus.writeRegister($0, value, at: address, assuming: order) }
        } else {
            bus.write32(value, at: address, assuming: order)
        }
        guard let fault = outcome else { return nil }
        faults += 1
        return .bus(fault)
    }
}

/// A register access through a mapping that the board would answer with SIGBUS or SIGSEGV.
public enum UIOAccessFault: Error, Equatable, CustomStringConvertible {
    /// Outside the mapped length, or not 4-byte aligned.
    case outsideMapping(offset: UInt64, length: UInt64)
    /// The bus refused it (unmapped, unmodelled, ...).
    case bus(BusFault)

    public var description: String {
        switch self {
        case let .outsideMapping(offset, length):
            return "register offset \(PhysicalAddress.hex(offset, digits: 1)) is outside the \(length)-byte mapping or not 4-byte aligned"
        case let .bus(fault):
            return "bus fault: \(fault)"
        }
    }
}
