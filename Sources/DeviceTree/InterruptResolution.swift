/// One interrupt of a node: the controller it goes to and the specifier cells, as many as the
/// controller's `#interrupt-cells`.
public struct InterruptSpecifier: Hashable, Sendable {
    /// The controller's node index.
    public var controller: Int
    public var cells: [UInt32]
}

/// Interrupt parents and specifiers (Devicetree Specification v0.4, 2.4 "Interrupts and Interrupt
/// Mapping"), resolved the way Linux does it (drivers/of/irq.c, of_irq_find_parent and
/// of_irq_parse_one).
extension DeviceTree {
    /// More cells than this in a specifier is not a controller anyone builds.
    static let maximumInterruptCells: UInt32 = 8

    /// The node's interrupt parent: its `interrupt-parent` phandle, else its tree parent's, and so
    /// on up the tree, until a node with `#interrupt-cells`. A chain that comes back to a node it
    /// already passed is reported with the whole chain.
    public func interruptParent(of node: Node) throws(DeviceTreeError) -> Node {
        var chain = [node]
        var current = node
        // Bounded: each step visits a new node, or the chain has a cycle and is reported.
        for _ in 0...nodes.count {
            let next: Node
            if let phandle = try u32(current, "interrupt-parent") {
                next = try self.node(phandle: phandle, from: current, "interrupt-parent")
            } else if let parent = parent(of: current) {
                next = parent
            } else {
                throw DeviceTreeError(
                    "no interrupt parent: neither \(node.path) nor any node above it names one with interrupt-parent",
                    at: location(node, "interrupts"))
            }
            if next.has("#interrupt-cells") { return next }
            if chain.contains(where: { $0.index == next.index }) {
                let shown = (chain + [next]).map(\.path).joined(separator: " -> ")
                throw DeviceTreeError("cycle in interrupt-parent: \(shown)", at: location(current, "interrupt-parent"))
            }
            chain.append(next)
            current = next
        }
        throw DeviceTreeError("interrupt-parent chain longer than the tree", at: location(node, "interrupt-parent"))
    }

    /// The node's interrupts (`interrupts-extended` wins over `interrupts`, 2.4.1.3), each resolved
    /// to its controller; nil when it has neither.
    public func interrupts(of node: Node) throws(DeviceTreeError) -> [InterruptSpecifier]? {
        if let cells = try cells(node, "interrupts-extended") {
            var result: [InterruptSpecifier] = []
            var index = 0
            // Bounded: each pass consumes at least the phandle cell.
            while index < cells.count {
                let controller = try self.node(phandle: cells[index], from: node, "interrupts-extended")
                let count = try interruptCells(of: controller, for: node, "interrupts-extended")
                guard index + 1 + count <= cells.count else {
                    throw DeviceTreeError(
                        "the entry for \(controller.path) is cut short: expected \(count) cells after the phandle (its #interrupt-cells)",
                        at: location(node, "interrupts-extended"))
                }
                result.append(InterruptSpecifier(controller: controller.index, cells: Array(cells[index + 1..<index + 1 + count])))
                index += 1 + count
            }
            return result
        }
        guard let cells = try cells(node, "interrupts") else { return nil }
        let controller = try interruptParent(of: node)
        let count = try interruptCells(of: controller, for: node, "interrupts")
        guard !cells.isEmpty, cells.count % count == 0 else {
            throw DeviceTreeError(
                "\(cells.count) cells: expected a multiple of \(count), the #interrupt-cells of its interrupt parent \(controller.path)",
                at: location(node, "interrupts"))
        }
        return stride(from: 0, to: cells.count, by: count).map { InterruptSpecifier(controller: controller.index, cells: Array(cells[$0..<$0 + count])) }
    }

    /// `#interrupt-cells` of a controller a node's interrupts go to; a nexus (`interrupt-map`) or a
    /// node that is no controller is reported.
    func interruptCells(of controller: Node, for node: Node, _ property: String) throws(DeviceTreeError) -> Int {
        if controller.has("interrupt-map") {
            throw DeviceTreeError(
                "interrupts go through \(controller.path), an interrupt nexus (interrupt-map, Devicetree Specification 2.4.3): not supported; point interrupt-parent at the controller itself",
                at: location(node, property))
        }
        guard controller.has("interrupt-controller") else {
            throw DeviceTreeError("\(controller.path) is not an interrupt controller (it has no interrupt-controller property)", at: location(node, property))
        }
        guard let count = try u32(controller, "#interrupt-cells") else {
            throw DeviceTreeError("\(controller.path) has no #interrupt-cells", at: location(node, property))
        }
        guard count >= 1, count <= Self.maximumInterruptCells else {
            throw DeviceTreeError("#interrupt-cells = <\(count)>: expected 1 to \(Self.maximumInterruptCells)", at: location(controller, "#interrupt-cells"))
        }
        return Int(count)
    }

    /// The controllers above `controller`, each with the input it drives there: empty for a root
    /// controller (one with no interrupts of its own, or whose interrupt parent is itself, as
    /// of_irq_init treats it). A cascade that loops is reported with the loop.
    public func cascade(above controller: Node) throws(DeviceTreeError) -> [InterruptSpecifier] {
        var result: [InterruptSpecifier] = []
        var seen = [controller.index]
        var current = controller
        // Bounded: each step reaches a controller not seen before, or reports the loop.
        for _ in 0...nodes.count {
            guard current.has("interrupts") || current.has("interrupts-extended") else { return result }
            if let phandle = try u32(current, "interrupt-parent"), phandles[phandle] == current.index { return result }
            guard let first = try interrupts(of: current)?.first else { return result }
            if seen.contains(first.controller) {
                let shown = (seen + [first.controller]).map { nodes[$0].path }.joined(separator: " -> ")
                throw DeviceTreeError("cycle in interrupt-parent: the controllers cascade into each other (\(shown))", at: location(current, "interrupt-parent"))
            }
            result.append(first)
            seen.append(first.controller)
            current = nodes[first.controller]
        }
        throw DeviceTreeError("interrupt cascade longer than the tree", at: location(controller, "interrupts"))
    }
}
