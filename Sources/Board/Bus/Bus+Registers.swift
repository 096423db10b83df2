import Trace

/// The byte-order model for register windows.
///
/// A register window holds 32-bit values in its bus byte order. A CPU access that assumes the same
/// order sees the value unchanged (`in_le32` on a little-endian AXI register). One that assumes the
/// other order sees it byte-swapped, as a native big-endian `lwz`/`stw` on PowerPC does against a
/// little-endian register; the bus logs an `EndiannessViolation` with both values and carries on.
extension Bus {
    /// Attaches a device model to the window named `name`. Returns false if there is no such window.
    @discardableResult
    public func attach(_ model: RegisterWindow, toWindow name: String) -> Bool {
        for region in regions {
            if case .device(let window) = region.target, window.name == name {
                window.model = model
                return true
            }
        }
        return false
    }

    /// The register window named `name`, if the map has one.
    public func window(named name: String) -> DeviceWindow? {
        for region in regions {
            if case .device(let window) = region.target, window.name == name { return window }
        }
        return nil
    }

    /// `read32` on an address inside `window` (a window of this bus), without the map search.
    public func readRegister(_ window: DeviceWindow, at address: PhysicalAddress, assuming order: Endianness)
        -> Result<UInt32, BusFault>
    {
        guard let offset = registerOffset(window, address) else {
            return .failure(BusFault(address: address, count: 4, reason: .misaligned))
        }
        if let value = window.readInWindowOrder(offset, assuming: order) { return .success(value) }
        guard let model = window.modelRef else {
            return .failure(BusFault(address: address, count: 4, reason: .unmodelled))
        }
        let deviceValue = model._withUnsafeGuaranteedRef { $0.read32(offset: offset) }
        let cpuValue = deviceValue.byteSwapped
        record(EndiannessViolation(
            address: address, direction: .read, assumed: order, window: window.endianness,
            deviceValue: deviceValue, cpuValue: cpuValue), in: window, offset: offset)
        return .success(cpuValue)
    }

    /// `write32` on an address inside `window` (a window of this bus), without the map search.
    public func writeRegister(_ window: DeviceWindow, _ value: UInt32, at address: PhysicalAddress, assuming order: Endianness)
        -> BusFault?
    {
        guard let offset = registerOffset(window, address) else {
            return BusFault(address: address, count: 4, reason: .misaligned)
        }
        if window.writeInWindowOrder(value, offset, assuming: order) { return nil }
        guard let model = window.modelRef else {
            return BusFault(address: address, count: 4, reason: .unmodelled)
        }
        let deviceValue = value.byteSwapped
        record(EndiannessViolation(
            address: address, direction: .write, assumed: order, window: window.endianness,
            deviceValue: deviceValue, cpuValue: value), in: window, offset: offset)
        model._withUnsafeGuaranteedRef { $0.write32(offset: offset, value: deviceValue) }
        return nil
    }

    private func registerOffset(_ window: DeviceWindow, _ address: PhysicalAddress) -> UInt32? {
        let offset = address - window.range.base
        guard offset & 3 == 0, window.range.contains(address, count: 4) else { return nil }
        return UInt32(truncatingIfNeeded: offset)
    }

    /// Logs the mismatch and, when tracing, records it (before a write reaches the device, after a
    /// read left it).
    private func record(_ violation: EndiannessViolation, in window: DeviceWindow, offset: UInt32) {
        endiannessViolationCount += 1
        if endiannessViolations.count < violationLogLimit { endiannessViolations.append(violation) }
        tracer?.record(.byteOrder(device: TraceName(window.name), offset: offset, access: violation.direction == .read ? .read : .write,
                                  assumed: violation.assumed.rawValue, deviceValue: violation.deviceValue, cpuValue: violation.cpuValue))
    }
}
