/// A span of CPU physical addresses a node occupies, after `ranges` translation.
public struct PhysicalWindow: Hashable, Sendable {
    public var base: UInt64
    public var size: UInt64

    public init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }

    /// The last address; `size` is never 0 for a window the importer keeps.
    public var last: UInt64 { base &+ (size &- 1) }

    public func contains(_ other: PhysicalWindow) -> Bool { other.base >= base && other.last <= last }

    public func overlaps(_ other: PhysicalWindow) -> Bool { base <= other.last && other.base <= last }
}

/// `reg` and `ranges` down to CPU physical addresses (Devicetree Specification v0.4, 2.3.5
/// "#address-cells and #size-cells", 2.3.6 "reg", 2.3.8 "ranges").
extension DeviceTree {
    /// Addresses wider than two cells are PCI-style (phys.hi carries flags): not supported.
    static let maximumAddressCells: UInt32 = 2

    /// `#address-cells` a node gives its children; 2 when absent (2.3.5: "a client program should
    /// assume a default value of 2 for #address-cells").
    func addressCells(of node: Node) throws(DeviceTreeError) -> Int {
        let cells = try u32(node, "#address-cells") ?? 2
        guard cells >= 1, cells <= Self.maximumAddressCells else {
            throw DeviceTreeError(
                "\(cells) address cells: expected 1 or 2 (wider, PCI-style addresses are not supported)", at: location(node, "#address-cells"))
        }
        return Int(cells)
    }

    /// `#size-cells` a node gives its children; 1 when absent (2.3.5).
    func sizeCells(of node: Node) throws(DeviceTreeError) -> Int {
        let cells = try u32(node, "#size-cells") ?? 1
        guard cells <= 2 else { throw DeviceTreeError("\(cells) size cells: expected 0, 1 or 2", at: location(node, "#size-cells")) }
        return Int(cells)
    }

    /// The node's `reg` entries, translated to physical addresses; nil when it has no `reg`.
    public func registers(_ node: Node) throws(DeviceTreeError) -> [PhysicalWindow]? {
        guard let cells = try cells(node, "reg") else { return nil }
        guard let parent = parent(of: node) else { throw DeviceTreeError("the root node has no address", at: location(node, "reg")) }
        let addressCells = try addressCells(of: parent)
        let sizeCells = try sizeCells(of: parent)
        guard sizeCells > 0 else {
            throw DeviceTreeError("/\(parent.name) has #size-cells = <0>: its children are not memory-mapped", at: location(node, "reg"))
        }
        let stride = addressCells + sizeCells
        guard !cells.isEmpty, cells.count % stride == 0 else {
            throw DeviceTreeError(
                "\(cells.count) cells: expected entries of \(addressCells) address and \(sizeCells) size cells (#address-cells and #size-cells of \(parent.path))",
                at: location(node, "reg"))
        }
        var windows: [PhysicalWindow] = []
        for entry in 0..<cells.count / stride {
            let start = entry * stride
            let address = Self.number(cells[start..<start + addressCells])!
            guard let size = Self.number(cells[start + addressCells..<start + stride]), size > 0 else {
                throw DeviceTreeError("entry \(entry) has size 0: expected a window of at least one byte", at: location(node, "reg"))
            }
            let base = try translate(address, size: size, below: parent, for: node, property: "reg")
            windows.append(PhysicalWindow(base: base, size: size))
        }
        return windows
    }

    /// A bus node's `ranges` entries as physical windows (what the bus occupies in the CPU's map);
    /// nil when it has no `ranges` or an empty one (an identity mapping occupies nothing of its own).
    public func rangeWindows(_ bus: Node) throws(DeviceTreeError) -> [PhysicalWindow]? {
        guard let parent = parent(of: bus) else { return nil }
        let entries = try rangeEntries(of: bus, parent: parent)
        guard let entries, !entries.isEmpty else { return nil }
        var windows: [PhysicalWindow] = []
        for entry in entries where entry.size > 0 {
            windows.append(PhysicalWindow(base: try translate(entry.parent, size: entry.size, below: parent, for: bus, property: "ranges"), size: entry.size))
        }
        return windows
    }

    struct RangeEntry {
        let child: UInt64
        let parent: UInt64
        let size: UInt64
    }

    /// `ranges` of `bus`: nil when absent, empty for an identity mapping.
    func rangeEntries(of bus: Node, parent: Node) throws(DeviceTreeError) -> [RangeEntry]? {
        guard let cells = try cells(bus, "ranges") else { return nil }
        let childCells = try addressCells(of: bus)
        let parentCells = try addressCells(of: parent)
        let sizeCells = try sizeCells(of: bus)
        let stride = childCells + parentCells + sizeCells
        guard cells.count % stride == 0 else {
            throw DeviceTreeError(
                "\(cells.count) cells: expected entries of \(childCells) child-address, \(parentCells) parent-address and \(sizeCells) size cells",
                at: location(bus, "ranges"))
        }
        return (0..<cells.count / stride).map { entry in
            let start = entry * stride
            return RangeEntry(
                child: Self.number(cells[start..<start + childCells])!,
                parent: Self.number(cells[start + childCells..<start + childCells + parentCells])!,
                size: Self.number(cells[start + childCells + parentCells..<start + stride]) ?? 0)
        }
    }

    /// Translates `address` (`size` bytes) of a child of `bus` up through every ancestor's
    /// `ranges` to a physical address. An absent `ranges` means the children are not mapped at all
    /// (2.3.8), which is reported with the bus that lacks it.
    func translate(_ address: UInt64, size: UInt64, below bus: Node, for node: Node, property: String) throws(DeviceTreeError) -> UInt64 {
        guard size > 0 else { throw DeviceTreeError("a window of 0 bytes", at: location(node, property)) }
        var current = address
        var bus = bus
        // Bounded by the depth of the tree: every step moves one level up.
        for _ in 0...Self.maximumDepth {
            guard let parent = parent(of: bus) else {
                guard current.addingReportingOverflow(size - 1).overflow == false else {
                    throw DeviceTreeError("window at \(hex(current)) (\(size) bytes) runs past 2^64", at: location(node, property))
                }
                return current
            }
            guard let entries = try rangeEntries(of: bus, parent: parent) else {
                throw DeviceTreeError(
                    "untranslatable: \(bus.path) has no ranges property, so its children's addresses do not reach the CPU (Devicetree Specification 2.3.8); add 'ranges;' for a one-to-one mapping",
                    at: location(node, property))
            }
            if !entries.isEmpty {
                guard let entry = entries.first(where: { current >= $0.child && size <= $0.size && current - $0.child <= $0.size - size }) else {
                    let shown = entries.map { "\(hex($0.child))..+\(hex($0.size)) -> \(hex($0.parent))" }.joined(separator: ", ")
                    throw DeviceTreeError(
                        "untranslatable: \(hex(current)) (\(hex(size)) bytes) lies in no ranges entry of \(bus.path) (\(shown))",
                        at: location(node, property))
                }
                let (translated, overflow) = entry.parent.addingReportingOverflow(current - entry.child)
                guard !overflow else { throw DeviceTreeError("translation through \(bus.path) runs past 2^64", at: location(node, property)) }
                current = translated
            }
            bus = parent
        }
        throw DeviceTreeError("nodes nest deeper than \(Self.maximumDepth) levels", at: location(node, property))
    }
}

/// `0x` and lower-case hex digits.
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
