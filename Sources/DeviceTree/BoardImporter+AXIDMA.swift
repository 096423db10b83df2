import Board

/// The interrupt controller the devices are wired to, as the importer reads specifiers for it.
struct ControllerContext {
    let node: DeviceTree.Node
    let kind: InterruptControllerKind
    let lines: Int
    /// xps-intc's `xlnx,kind-of-intr`: bit n set means input n is edge-triggered (Linux binding
    /// interrupt-controller/xlnx,intc.yaml); nil for MPIC.
    let edgeMask: UInt32?
    let imported: ImportedBoard.Controller
}

/// A specifier decoded for the controller: line, sense cell and the sense it means.
struct DecodedInterrupt {
    let line: Int
    let cell: Int
    let sense: InterruptSense
    let written: String
}

/// AXI DMA nodes (Linux binding dma/xilinx/xilinx_dma.txt, now xlnx,axi-dma.yaml; PG021) and the
/// interrupt controller their channels go to.
extension BoardImporter {
    static let mpicCompatibles: Set<String> = ["fsl,mpic"]
    static let xpsIntcCompatibles: Set<String> = ["xlnx,xps-intc-1.00.a"]
    /// MPIC sources are not in the device tree; Linux's 85xx boards allocate 256
    /// (arch/powerpc/platforms/85xx/mpc85xx_rdb.c, mpic_alloc(..., 256, ...)).
    static let mpicLines = 256

    /// `xlnx,axi-dma-1.00.a`, `xlnx,axi-dma` and the versioned compatibles Xilinx's generators
    /// write (`xlnx,axi-dma-7.1`); not the channel children (`xlnx,axi-dma-mm2s-channel`).
    func isAXIDMA(_ node: DeviceTree.Node) -> Bool {
        tree.compatible(node).contains { name in
            guard name == "xlnx,axi-dma" || name.hasPrefix("xlnx,axi-dma-") else { return false }
            let version = name.dropFirst("xlnx,axi-dma-".count)
            return name == "xlnx,axi-dma" || version.first?.isNumber == true
        }
    }

    /// The controller the AXI DMA channels are wired to (all must share one: the profile models
    /// one); with no AXI DMA, the first MPIC or xps-intc in the tree.
    func findController(dmaNodes: [DeviceTree.Node]) throws(DeviceTreeError) -> ControllerContext {
        var found: (node: DeviceTree.Node, from: DeviceTree.Node)?
        for device in dmaNodes {
            for node in [device] + tree.children(of: device) {
                guard let specifiers = try tree.interrupts(of: node) else { continue }
                for specifier in specifiers {
                    let controller = tree[specifier.controller]
                    if let found, found.node.index != controller.index {
                        throw DeviceTreeError(
                            "interrupts go to \(controller.path), but \(found.from.path) goes to \(found.node.path): the profile models one interrupt controller",
                            at: tree.location(node, "interrupts"))
                    }
                    found = (controller, node)
                }
            }
        }
        let node: DeviceTree.Node
        if let found {
            node = found.node
        } else if let first = tree.nodes.first(where: { $0.has("interrupt-controller") && tree.isCompatible($0, with: Self.mpicCompatibles.union(Self.xpsIntcCompatibles)) }) {
            node = first
        } else {
            throw DeviceTreeError("no interrupt controller: expected an fsl,mpic or xlnx,xps-intc-1.00.a node", at: tree.location(tree.root))
        }
        used.insert(node.index)
        let compatible = tree.compatible(node).first ?? node.name
        if tree.isCompatible(node, with: Self.mpicCompatibles) {
            // Linux binding powerpc/fsl/mpic.txt: 2 or 4 cells, <number sense type info>.
            let cells = try tree.u32(node, "#interrupt-cells") ?? 0
            guard cells == 2 || cells == 4 else {
                throw DeviceTreeError("#interrupt-cells = <\(cells)>: an MPIC takes 2 or 4 (powerpc/fsl/mpic.txt)", at: tree.location(node, "#interrupt-cells"))
            }
            let imported = ImportedBoard.Controller(
                kind: InterruptControllerKind.mpic.rawValue, lines: .init(Self.mpicLines, "MPIC sources are not in the device tree; Linux's 85xx boards allocate 256"),
                path: node.path, compatible: compatible)
            return ControllerContext(node: node, kind: .mpic, lines: Self.mpicLines, edgeMask: nil, imported: imported)
        }
        guard tree.isCompatible(node, with: Self.xpsIntcCompatibles) else {
            throw DeviceTreeError(
                "unsupported interrupt controller \(compatible): expected fsl,mpic or xlnx,xps-intc-1.00.a (the controllers the profile models)",
                at: tree.location(node, "compatible"))
        }
        guard let inputs = try tree.u32(node, "xlnx,num-intr-inputs"), (1...32).contains(inputs) else {
            throw DeviceTreeError("expected xlnx,num-intr-inputs, the number of inputs (1 to 32)", at: tree.location(node, "xlnx,num-intr-inputs"))
        }
        let imported = ImportedBoard.Controller(kind: InterruptControllerKind.xpsIntc.rawValue, lines: .init(Int(inputs)), path: node.path, compatible: compatible)
        return ControllerContext(node: node, kind: .xpsIntc, lines: Int(inputs), edgeMask: try tree.u32(node, "xlnx,kind-of-intr"), imported: imported)
    }

    /// A specifier in the controller's encoding. MPIC: `<number sense type info>` or `<number sense>`,
    /// sense 0 rising, 1 level low, 2 level high, 3 falling; type must be 0 (an external or internal
    /// source; 1 error, 2 IPI, 3 timer are not device lines). xps-intc: `<line sense>`, the sense in
    /// the EDK generator's OpenPIC encoding (the same four values); Linux itself takes the sense
    /// from `xlnx,kind-of-intr`, so a disagreement is a warning.
    func decode(_ specifier: InterruptSpecifier, of node: DeviceTree.Node, _ property: String, controller: ControllerContext) throws(DeviceTreeError) -> DecodedInterrupt {
        let cells = specifier.cells
        let written = "<" + cells.map { String($0) }.joined(separator: " ") + ">"
        let at = tree.location(node, property)
        guard specifier.controller == controller.node.index else {
            throw DeviceTreeError("goes to \(tree[specifier.controller].path), not \(controller.node.path): the profile models one controller", at: at)
        }
        let line = Int(cells[0])
        guard line < controller.lines else {
            throw DeviceTreeError("interrupt \(written): line \(line) is beyond the controller's \(controller.lines) inputs (\(controller.node.path))", at: at)
        }
        if controller.kind == .mpic, cells.count == 4, cells[2] != 0 {
            throw DeviceTreeError("interrupt \(written): MPIC type \(cells[2]) is not a device line (0 external/internal, 1 error, 2 IPI, 3 timer; powerpc/fsl/mpic.txt)", at: at)
        }
        var cell: Int
        if cells.count >= 2 {
            cell = Int(cells[1])
        } else {
            let edge = ((controller.edgeMask ?? 0) >> UInt32(line)) & 1 == 1
            cell = controller.kind.deviceTreeCell(for: edge ? .risingEdge : .levelHigh)
        }
        guard let sense = controller.kind.sense(deviceTreeCell: cell) else {
            let hint = [4, 8].contains(cell) ? " (\(cell) is Linux's IRQ_TYPE numbering from dt-bindings/interrupt-controller/irq.h, which this controller does not use)" : ""
            let cells = controller.kind.deviceTreeSenses.map { "\($0.cell) \($0.sense)" }.joined(separator: ", ")
            throw DeviceTreeError("interrupt \(written): sense \(cell) is undefined for \(controller.kind.rawValue): expected \(cells)\(hint)", at: at)
        }
        if let mask = controller.edgeMask, cells.count >= 2, sense.isEdge != ((mask >> UInt32(line)) & 1 == 1) {
            warn(
                "interrupt \(written) says \(sense), but bit \(line) of xlnx,kind-of-intr (\(hex(UInt64(mask)))) says \(sense.isEdge ? "level" : "edge"): Linux follows xlnx,kind-of-intr",
                node, property)
        }
        return DecodedInterrupt(line: line, cell: cell, sense: sense, written: written)
    }

    /// One AXI DMA core.
    func readAXIDMA(_ node: DeviceTree.Node, controller: ControllerContext) throws(DeviceTreeError) -> ImportedBoard.AXIDMA {
        used.insert(node.index)
        guard let windows = try tree.registers(node) else { throw DeviceTreeError("no reg: expected the register window", at: tree.location(node, "reg")) }
        if windows.count > 1 { warn("\(windows.count) reg entries: the first is the register window, the rest are ignored", node, "reg") }
        let window = windows[0]
        try checkPageAligned(window, node, "reg")
        let channelNodes = tree.children(of: node).filter { !$0.has("reg") || tree.compatible($0).contains(where: { $0.hasSuffix("-channel") }) }
        var channels: [ImportedBoard.Channel] = []
        var irqDelay: [String: UInt8] = [:]
        var dataWidths: [(Int, DeviceTree.Node)] = []
        var dre = false
        let parentInterrupts = try tree.interrupts(of: node) ?? []
        let interruptNames = try tree.strings(node, "interrupt-names") ?? []
        for output in ["mm2s", "s2mm"] {
            let child = channelNodes.first { tree.compatible($0).contains("xlnx,axi-dma-\(output)-channel") }
            let named = interruptNames.firstIndex(of: "\(output)_introut")
            guard child != nil || named != nil else { continue }
            let specifier: (InterruptSpecifier, DeviceTree.Node)
            if let child, let first = try tree.interrupts(of: child)?.first {
                specifier = (first, child)
                used.insert(child.index)
            } else if let named, named < parentInterrupts.count {
                specifier = (parentInterrupts[named], node)
                if let child { used.insert(child.index) }
            } else {
                throw DeviceTreeError(
                    "the \(output) channel has no interrupt: expected interrupts on its xlnx,axi-dma-\(output)-channel node, or on the DMA node with interrupt-names \"\(output)_introut\"",
                    at: tree.location(child ?? node, "interrupts"))
            }
            let decoded = try decode(specifier.0, of: specifier.1, "interrupts", controller: controller)
            let channelNode = child ?? node
            if let width = try tree.u32(channelNode, "xlnx,datawidth") { dataWidths.append((Int(width), channelNode)) }
            dre = tree.flag(channelNode, "xlnx,include-dre", warnings: &warnings) || dre
            if let delay = channelNode.property("xlnx,irq-delay") {
                // Linux: of_property_read_u8(node, "xlnx,irq-delay", ...) reads the first byte.
                let seen = delay.value.first ?? 0
                if delay.value.count != 1 {
                    let meant = delay.value.count == 4 ? (try? tree.u32(channelNode, "xlnx,irq-delay")).flatMap { $0 } : nil
                    warn(
                        "\(delay.value.count) bytes, but xilinx_dma reads one (of_property_read_u8): Linux sees \(seen)\(meant.map { ", not \($0)" } ?? ""); write /bits/ 8 <\(meant ?? UInt32(seen))>",
                        channelNode, "xlnx,irq-delay")
                }
                irqDelay[output] = seen
            }
            let stream = try tree.string(channelNode, "uioemu,stream")
            channels.append(ImportedBoard.Channel(
                output: output, line: decoded.line, senseCell: decoded.cell, senseName: decoded.sense.name,
                stream: stream, specifier: decoded.written))
        }
        guard !channels.isEmpty else {
            throw DeviceTreeError(
                "no channel: expected xlnx,axi-dma-mm2s-channel / xlnx,axi-dma-s2mm-channel children, or interrupt-names mm2s_introut / s2mm_introut",
                at: tree.location(node))
        }
        dre = tree.flag(node, "xlnx,include-dre", warnings: &warnings) || dre
        let name = claimName(for: node)
        return ImportedBoard.AXIDMA(
            name: name, window: window, path: node.path, compatible: tree.compatible(node).first ?? "",
            clockHz: try clock(of: node), dataWidthBytes: dataWidth(dataWidths, node),
            fifoDepthBytes: try tree.u32(node, "uioemu,fifo-depth").map { .init(UInt64($0), "uioemu,fifo-depth") }
                ?? .init(4096, "not in the device tree: uioemu's default (set uioemu,fifo-depth)"),
            lengthWidthBits: try lengthWidth(node), setupCycles: try tree.u32(node, "uioemu,setup-cycles").map { .init(UInt64($0), "uioemu,setup-cycles") },
            accessTimeNanoseconds: try tree.u32(node, "uioemu,access-time-ns").map { .init(UInt64($0), "uioemu,access-time-ns") },
            scatterGather: tree.flag(node, "xlnx,include-sg", warnings: &warnings), addressWidthBits: try addressWidth(node), dre: dre,
            irqDelay: irqDelay, channels: channels)
    }

    /// The memory-map clock: `clocks` entry `m_axi_s2mm_aclk` or `m_axi_mm2s_aclk` (else the first),
    /// a node with `clock-frequency` (fixed-clock binding); else the node's own `clock-frequency`.
    func clock(of node: DeviceTree.Node) throws(DeviceTreeError) -> ImportedBoard.Sourced<UInt64> {
        if let cells = try tree.cells(node, "clocks"), !cells.isEmpty {
            let names = try tree.strings(node, "clock-names") ?? []
            var providers: [DeviceTree.Node] = []
            var index = 0
            // Bounded: each pass consumes the phandle and the provider's #clock-cells.
            while index < cells.count {
                let provider = try tree.node(phandle: cells[index], from: node, "clocks")
                providers.append(provider)
                index += 1 + Int(min(try tree.u32(provider, "#clock-cells") ?? 0, 8))
            }
            let wanted = ["m_axi_s2mm_aclk", "m_axi_mm2s_aclk"].compactMap { names.firstIndex(of: $0) }.first ?? 0
            let provider = providers[min(wanted, providers.count - 1)]
            guard let hertz = try tree.u32OrU64(provider, "clock-frequency"), hertz > 0 else {
                throw DeviceTreeError("\(provider.path) has no clock-frequency: expected a fixed-clock node", at: tree.location(node, "clocks"))
            }
            used.insert(provider.index)
            let label = wanted < names.count ? names[wanted] : "clocks"
            return .init(hertz, "\(label): \(provider.path)")
        }
        if let hertz = try tree.u32OrU64(node, "clock-frequency"), hertz > 0 { return .init(hertz, "clock-frequency") }
        warn("no clocks and no clock-frequency: the profile assumes 100 MHz; set clock", node, "clocks")
        return .init(100_000_000, "no clocks in the device tree: 100 MHz assumed")
    }

    /// `xlnx,datawidth` of the channels (bits; the binding's stream width, taken as the memory-map
    /// width the timing uses). Channels that differ take the wider, with a warning.
    func dataWidth(_ widths: [(Int, DeviceTree.Node)], _ node: DeviceTree.Node) -> ImportedBoard.Sourced<Int> {
        guard let widest = widths.map(\.0).max() else {
            warn("no xlnx,datawidth on the channels: the profile assumes 32 bits", node)
            return .init(4, "no xlnx,datawidth: 32 bits assumed")
        }
        let valid = [32, 64, 128, 256, 512, 1024]
        if Set(widths.map(\.0)).count > 1 { warn("the channels' xlnx,datawidth differ: the profile takes the wider, \(widest) bits", node) }
        guard valid.contains(widest) else {
            warn("xlnx,datawidth = <\(widest)>: expected 32 to 1024 bits, a power of two; the profile assumes 32", widths[0].1, "xlnx,datawidth")
            return .init(4, "xlnx,datawidth \(widest) is invalid: 32 bits assumed")
        }
        return .init(widest / 8, "xlnx,datawidth")
    }

    /// `xlnx,sg-length-width`; Linux uses 23 when it is absent or outside 8 to 26 (xilinx_dma.c).
    func lengthWidth(_ node: DeviceTree.Node) throws(DeviceTreeError) -> ImportedBoard.Sourced<Int> {
        guard let width = try tree.u32(node, "xlnx,sg-length-width") else { return .init(23, "no xlnx,sg-length-width: Linux's default") }
        guard (8...26).contains(width) else {
            warn("xlnx,sg-length-width = <\(width)>: expected 8 to 26; Linux falls back to 23, and so does the profile", node, "xlnx,sg-length-width")
            return .init(23, "xlnx,sg-length-width \(width) is invalid: Linux's default")
        }
        return .init(Int(width), "xlnx,sg-length-width")
    }

    /// `xlnx,addrwidth`: above 32 the core has the MSB address registers (PG021 C_M_AXI_*_ADDR_WIDTH).
    func addressWidth(_ node: DeviceTree.Node) throws(DeviceTreeError) -> Int {
        guard let width = try tree.u32(node, "xlnx,addrwidth") else { return 32 }
        guard (32...64).contains(width) else {
            throw DeviceTreeError("xlnx,addrwidth = <\(width)>: expected 32 to 64 bits", at: tree.location(node, "xlnx,addrwidth"))
        }
        return Int(width)
    }
}
