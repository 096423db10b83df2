/// Profile names from device tree labels and node names.
enum ProfileNames {
    /// A profile name (letters, digits, `-`, `_`, `.`, starting with a letter or digit): other
    /// characters become `-`, and labels' `_` become `-` too (`fpga_dma` is `fpga-dma`).
    static func sanitized(_ text: String) -> String {
        var result = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "-" })
        // Bounded by the text's length.
        while let first = result.first, !(first.isLetter || first.isNumber) { result.removeFirst() }
        return result.isEmpty ? "node" : result
    }
}

/// Everything that is not RAM, the pool or a device: windows of the real board that become
/// `reserved` regions, and the nodes listed as not modelled.
extension BoardImporter {
    /// A region or device name: the node's label (dtc -@), else its name without the unit address;
    /// when taken, the unit address is added, then a count.
    func claimName(for node: DeviceTree.Node, index: Int = 0) -> String {
        var base = ProfileNames.sanitized(tree.label(of: node) ?? node.baseName)
        if index > 0 { base += "-\(index)" }
        var candidates = [base]
        if let unit = node.unitAddress { candidates.append(base + "-" + ProfileNames.sanitized(unit)) }
        candidates += (2...9).map { "\(base)-\($0)" }
        let name = candidates.first { !names.contains($0) } ?? "\(base)-\(node.index)"
        names.insert(name)
        return name
    }

    /// A window the importer may reserve: a node's `reg` or a bus's `ranges`. `weak` ones are the
    /// registers of a bus the importer translated through (the eLBC controller's own registers):
    /// they give way to any window that overlaps them.
    struct Candidate {
        let node: DeviceTree.Node
        let windows: [PhysicalWindow]
        let weak: Bool
    }

    /// Walks the tree outside the modelled nodes. A node whose subtree holds a modelled node (an AXI
    /// DMA, a UIO node, RAM) is a bus on the way: its children are visited. Otherwise a node with a
    /// `ranges` window or a `reg` becomes a reserved window (rounded out to 4 KiB pages) and its
    /// subtree is inside it; a node with neither is listed as not modelled. Overlapping windows keep
    /// the larger (strong before weak); the kept ones are listed by address.
    func mapTheRest(memory: [ImportedBoard.Region], devices: [ImportedBoard.AXIDMA]) -> ([ImportedBoard.Region], [ImportedBoard.Skipped]) {
        let modelledPaths = Set(devices.map(\.path) + memory.map(\.path))
        var holdsModelled = Set<Int>()
        for node in tree.nodes where modelledPaths.contains(node.path) || (used.contains(node.index) && isUIOOrBuffer(node)) {
            var current: Int? = node.index
            // Bounded by the depth of the tree.
            for _ in 0...DeviceTree.maximumDepth {
                guard let index = current else { break }
                holdsModelled.insert(index)
                current = tree[index].parent
            }
        }
        var candidates: [Candidate] = []
        var insideOf: [Int: Int] = [:]  // node -> the candidate node whose window holds it
        var stack = Array(tree.root.children.reversed())
        var visited = 0
        // Bounded: every node is visited at most once.
        while let index = stack.popLast(), visited < tree.nodes.count {
            visited += 1
            let node = tree[index]
            if isStructural(node) || modelledPaths.contains(node.path) || skipReasons[index] != nil { continue }
            if holdsModelled.contains(index) {
                if let windows = (try? tree.registers(node)).flatMap({ $0 }) { candidates.append(Candidate(node: node, windows: windows, weak: true)) }
                used.insert(index)
                stack.append(contentsOf: node.children.reversed())
                continue
            }
            let windows = ((try? tree.rangeWindows(node)) ?? nil) ?? ((try? tree.registers(node)) ?? nil)
            if let windows, !windows.isEmpty {
                candidates.append(Candidate(node: node, windows: windows, weak: false))
                for inner in tree.descendants(of: node) { insideOf[inner.index] = index }
            } else {
                stack.append(contentsOf: node.children.reversed())
            }
        }
        let (reserved, fates) = place(candidates, occupied: memory.map(\.window) + devices.map(\.window), occupiedNames: memory.map(\.name) + devices.map(\.name))
        markStructuralContainers()
        var skipped: [ImportedBoard.Skipped] = []
        for node in tree.nodes.dropFirst() where !used.contains(node.index) && !isStructural(node) && fates[node.index] == nil {
            let reason: String
            if let reason0 = skipReasons[node.index] {
                reason = reason0
            } else if let holder = insideOf[node.index] {
                reason = fates[holder].map { $0.hasPrefix("reserved as") ? "inside reserved '\($0.dropFirst("reserved as ".count))'" : "inside \(tree[holder].path), which \($0)" }
                    ?? "inside \(tree[holder].path)"
            } else {
                reason = "no reg or ranges: no window to reserve"
            }
            skipped.append(.init(path: node.path, compatible: tree.compatible(node).first, reason: reason))
        }
        for (index, fate) in fates.sorted(by: { $0.key < $1.key }) where !fate.hasPrefix("reserved as") && !used.contains(index) {
            skipped.append(.init(path: tree[index].path, compatible: tree.compatible(tree[index]).first, reason: fate))
        }
        skipped.sort { (tree.node(atPath: $0.path)?.index ?? 0) < (tree.node(atPath: $1.path)?.index ?? 0) }
        return (reserved.sorted { $0.window.base < $1.window.base }, skipped)
    }

    func isUIOOrBuffer(_ node: DeviceTree.Node) -> Bool {
        tree.isCompatible(node, with: Self.uioCompatibles.union(Self.udmaBufferCompatibles))
    }

    /// Nodes the importer reads or that only carry dtc's bookkeeping: never reserved or listed.
    func isStructural(_ node: DeviceTree.Node) -> Bool {
        ["/__symbols__", "/__fixups__", "/__local_fixups__"].contains(node.path)
            || (used.contains(node.index) && (node.path == "/cpus" || node.path == "/reserved-memory" || (try? tree.string(node, "device_type")) == "memory"))
    }

    /// Keeps the larger window of any overlapping pair; says for each candidate what became of it.
    func place(_ candidates: [Candidate], occupied: [PhysicalWindow], occupiedNames: [String]) -> ([ImportedBoard.Region], [Int: String]) {
        var placed: [(name: String, window: PhysicalWindow)] = Array(zip(occupiedNames, occupied))
        var reserved: [ImportedBoard.Region] = []
        var fates: [Int: String] = [:]
        let order = candidates.enumerated().sorted { a, b in
            if a.element.weak != b.element.weak { return !a.element.weak }
            let sizeA = a.element.windows.map(\.size).max() ?? 0
            let sizeB = b.element.windows.map(\.size).max() ?? 0
            return sizeA != sizeB ? sizeA > sizeB : a.offset < b.offset
        }.map(\.element)
        for candidate in order {
            for (index, window) in candidate.windows.enumerated() {
                let base = window.base & ~4095
                // The page after the window's last byte; the top of the space when that wraps.
                let (end, overflow) = window.last.addingReportingOverflow(4096)
                let pageEnd = overflow ? UInt64.max : end & ~4095
                let rounded = PhysicalWindow(base: base, size: pageEnd - base)
                if let other = placed.first(where: { $0.window.overlaps(rounded) }) {
                    let how = other.window.contains(rounded) ? "lies inside" : "overlaps"
                    fates[candidate.node.index] = fates[candidate.node.index] ?? "\(how) '\(other.name)': not reserved"
                    continue
                }
                let name = claimName(for: candidate.node, index: index)
                let note = (try? tree.string(candidate.node, "uioemu,note")) ?? nil
                let generated = (tree.compatible(candidate.node).first ?? candidate.node.baseName) + (rounded == window ? "" : ", rounded out to 4 KiB pages")
                reserved.append(.init(name: name, window: rounded, path: candidate.node.path, note: note ?? generated))
                placed.append((name, rounded))
                fates[candidate.node.index] = "reserved as \(name)"
                used.insert(candidate.node.index)
            }
        }
        return (reserved, fates)
    }

    /// A container with no `compatible`, `reg` or `device_type` whose children are all used (the
    /// `clocks` node above a fixed clock) is used too.
    func markStructuralContainers() {
        for node in tree.nodes.reversed() where !used.contains(node.index) && !node.children.isEmpty {
            let plain = !node.has("compatible") && !node.has("reg") && !node.has("device_type")
            if plain && node.children.allSatisfy({ used.contains($0) }) { used.insert(node.index) }
        }
    }
}
