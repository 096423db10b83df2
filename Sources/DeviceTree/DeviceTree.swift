/// A device tree as plain values: every node with its properties' raw bytes, children in source
/// order, phandles and labels resolved to node indices. `DeviceTree.parse(blob:file:)` builds it from
/// a flattened blob with libfdt; everything the importer does afterwards works on this value.
/// Property values are big-endian cells and NUL-terminated strings (Devicetree Specification v0.4,
/// 2.2.4 "Property Values").
public struct DeviceTree: Sendable {
    public struct Property: Sendable, Hashable {
        public let name: String
        public let value: [UInt8]
    }

    public struct Node: Sendable {
        /// The node name with its unit address (`dma@2,0`); empty for the root.
        public let name: String
        /// The full path (`/localbus@fffe05000/dma@2,0`; `/` for the root).
        public let path: String
        public let index: Int
        public let parent: Int?
        public internal(set) var children: [Int] = []
        public internal(set) var properties: [Property] = []

        /// The name without the unit address (`dma`), as Linux's `%pOFn` prints it.
        public var baseName: String { name.split(separator: "@", maxSplits: 1).first.map(String.init) ?? name }

        public var unitAddress: String? {
            guard let at = name.firstIndex(of: "@") else { return nil }
            return String(name[name.index(after: at)...])
        }

        public func property(_ name: String) -> Property? { properties.first { $0.name == name } }

        public func has(_ name: String) -> Bool { property(name) != nil }
    }

    public let file: String
    public internal(set) var nodes: [Node]
    /// `phandle` (or the older `linux,phandle`) values to node indices.
    public internal(set) var phandles: [UInt32: Int] = [:]
    /// Labels from `/__symbols__` (dtc -@) to node indices.
    public internal(set) var labels: [String: Int] = [:]

    public var root: Node { nodes[0] }

    public subscript(index: Int) -> Node { nodes[index] }

    public func node(atPath path: String) -> Node? { nodes.first { $0.path == path } }

    public func children(of node: Node) -> [Node] { node.children.map { nodes[$0] } }

    public func parent(of node: Node) -> Node? { node.parent.map { nodes[$0] } }

    /// The first label naming `node`, if the blob has `/__symbols__`.
    public func label(of node: Node) -> String? {
        labels.filter { $0.value == node.index }.keys.sorted().first
    }

    /// Every node below `node` (not itself), depth first in source order.
    public func descendants(of node: Node) -> [Node] {
        var result: [Node] = []
        var stack = node.children.reversed().map { $0 }
        // Bounded: each node is pushed once (the tree has no cycles by construction).
        while let next = stack.popLast(), result.count < nodes.count {
            result.append(nodes[next])
            stack.append(contentsOf: nodes[next].children.reversed())
        }
        return result
    }

    public func location(_ node: Node, _ property: String? = nil) -> DeviceTreeLocation {
        DeviceTreeLocation(file: file, node: node.path, property: property)
    }
}
