/// Typed readers for property values (Devicetree Specification v0.4, 2.2.4 "Property Values":
/// `<u32>` and `<u64>` big-endian, `<string>` NUL-terminated, `<stringlist>` concatenated strings,
/// `<prop-encoded-array>` cells). Each throws an error naming the node and property when the bytes
/// do not have the expected shape.
extension DeviceTree {
    /// The property's bytes as 32-bit cells; nil when absent.
    public func cells(_ node: Node, _ name: String) throws(DeviceTreeError) -> [UInt32]? {
        guard let property = node.property(name) else { return nil }
        guard property.value.count % 4 == 0 else {
            throw DeviceTreeError("\(property.value.count) bytes: expected whole 32-bit cells (a multiple of 4 bytes)", at: location(node, name))
        }
        return stride(from: 0, to: property.value.count, by: 4).map { offset in
            property.value[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    /// A `<u32>`; nil when absent.
    public func u32(_ node: Node, _ name: String) throws(DeviceTreeError) -> UInt32? {
        guard let cells = try cells(node, name) else { return nil }
        guard cells.count == 1 else {
            throw DeviceTreeError("\(cells.count) cells: expected one 32-bit cell", at: location(node, name))
        }
        return cells[0]
    }

    /// A `<u32>` or `<u64>` (as `clock-frequency` may be, Devicetree Specification 3.7.1); nil when absent.
    public func u32OrU64(_ node: Node, _ name: String) throws(DeviceTreeError) -> UInt64? {
        guard let cells = try cells(node, name) else { return nil }
        guard cells.count == 1 || cells.count == 2 else {
            throw DeviceTreeError("\(cells.count) cells: expected one or two 32-bit cells", at: location(node, name))
        }
        return Self.number(cells[...])
    }

    /// The strings of a `<stringlist>`; nil when absent.
    public func strings(_ node: Node, _ name: String) throws(DeviceTreeError) -> [String]? {
        guard let property = node.property(name) else { return nil }
        guard property.value.last == 0 else {
            throw DeviceTreeError("not a NUL-terminated string", at: location(node, name))
        }
        return property.value.dropLast().split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A `<string>`; nil when absent.
    public func string(_ node: Node, _ name: String) throws(DeviceTreeError) -> String? {
        try strings(node, name)?.first
    }

    /// `compatible`, most specific first; empty when absent or malformed.
    public func compatible(_ node: Node) -> [String] {
        (try? strings(node, "compatible")) ?? []
    }

    public func isCompatible(_ node: Node, with names: Set<String>) -> Bool {
        compatible(node).contains { names.contains($0) }
    }

    /// A boolean property the Linux way (`of_property_read_bool`): true when present, whatever its
    /// value. A present property holding a single zero cell is reported, since the author probably
    /// meant false.
    public func flag(_ node: Node, _ name: String, warnings: inout [DeviceTreeWarning]) -> Bool {
        guard let property = node.property(name) else { return false }
        if property.value.count == 4, property.value.allSatisfy({ $0 == 0 }) {
            warnings.append(DeviceTreeWarning(
                "<0> still means true: Linux reads this flag by its presence (of_property_read_bool); delete the property to say false",
                at: location(node, name)))
        }
        return true
    }

    /// The node a phandle cell names.
    public func node(phandle: UInt32, from node: Node, _ name: String) throws(DeviceTreeError) -> Node {
        guard let index = phandles[phandle] else {
            throw DeviceTreeError("phandle \(phandle) names no node", at: location(node, name))
        }
        return nodes[index]
    }

    /// Cells read as one number, most significant first; nil when more than 64 bits are set.
    static func number(_ cells: ArraySlice<UInt32>) -> UInt64? {
        var value: UInt64 = 0
        for cell in cells {
            guard value >> 32 == 0 else { return nil }
            value = value << 32 | UInt64(cell)
        }
        return value
    }

    /// The status property says the node is in use (Devicetree Specification 2.3.4: absent, "okay"
    /// or the older "ok").
    public func isEnabled(_ node: Node) -> Bool {
        guard let status = try? string(node, "status") else { return true }
        return status == "okay" || status == "ok"
    }
}
