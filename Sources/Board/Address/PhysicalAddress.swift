/// A physical (bus) address. 64 bits wide because e500 cores emit 36-bit physical addresses and the
/// CCSR of a P2020 sits at 0xF_FFE0_0000 in the 36-bit maps.
public struct PhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, Codable,
    CustomStringConvertible
{
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable public static func < (a: PhysicalAddress, b: PhysicalAddress) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func + (a: PhysicalAddress, offset: UInt64) -> PhysicalAddress {
        PhysicalAddress(a.rawValue &+ offset)
    }
    /// The distance from `b` up to `a`; `a` must not lie below `b`.
    @inlinable public static func - (a: PhysicalAddress, b: PhysicalAddress) -> UInt64 { a.rawValue - b.rawValue }

    /// `0x` and hex digits in groups of four, like the profiles write them: `0xf_ffe0_0000`.
    public var description: String { Self.hex(rawValue, digits: 1) }

    /// `value` in hex, zero-padded to at least `digits` digits, grouped by four with `_`.
    public static func hex(_ value: UInt64, digits: Int) -> String {
        let plain = String(value, radix: 16)
        let padded = String(repeating: "0", count: max(0, digits - plain.count)) + plain
        var groups: [Substring] = []
        var end = padded.endIndex
        while end > padded.startIndex {
            let start = padded.index(end, offsetBy: -4, limitedBy: padded.startIndex) ?? padded.startIndex
            groups.append(padded[start..<end])
            end = start
        }
        return "0x" + groups.reversed().joined(separator: "_")
    }
}

/// A half-open span of physical addresses `[base, base + size)`. Never empty; never wraps past 2^64.
public struct AddressRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public let base: PhysicalAddress
    public let size: UInt64

    /// Nil when `size` is zero or the range would wrap past the top of the 64-bit space.
    public init?(base: PhysicalAddress, size: UInt64) {
        guard size > 0, base.rawValue.addingReportingOverflow(size - 1).overflow == false else { return nil }
        self.base = base
        self.size = size
    }

    /// The last address inside the range (inclusive, so a range that ends at 2^64 is representable).
    @inlinable public var last: PhysicalAddress { PhysicalAddress(base.rawValue + (size - 1)) }

    @inlinable public func contains(_ address: PhysicalAddress) -> Bool {
        address >= base && address.rawValue - base.rawValue < size
    }

    /// True when `count` bytes starting at `address` all lie inside the range.
    @inlinable public func contains(_ address: PhysicalAddress, count: UInt64) -> Bool {
        contains(address) && count <= size - (address.rawValue - base.rawValue)
    }

    public func contains(_ other: AddressRange) -> Bool { contains(other.base, count: other.size) }

    public func overlaps(_ other: AddressRange) -> Bool { base <= other.last && other.base <= last }

    public var description: String { "\(base)..\(last)" }
}
