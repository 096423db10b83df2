/// `generic-uio` nodes (uio_pdrv_genirq) and u-dma-buf nodes.
extension BoardImporter {
    /// What uio_pdrv_genirq is bound to: its `of_id` module parameter, conventionally `generic-uio`;
    /// older device trees name the driver itself.
    static let uioCompatibles: Set<String> = ["generic-uio", "uio_pdrv_genirq"]
    /// u-dma-buf's compatible, and udmabuf's before the rename (ikwzm/udmabuf Readme).
    static let udmaBufferCompatibles: Set<String> = ["ikwzm,u-dma-buf", "ikwzm,udmabuf-0.10.a"]

    /// A UIO node as uio_pdrv_genirq makes it (drivers/uio/uio_pdrv_genirq.c): named after the node
    /// (`%pOFn`, the name without the unit address), one map per `reg` entry (at most MAX_UIO_MAPS,
    /// each named by `reg-names`, else the node's full name, as of_address_to_resource names
    /// resources), and the first interrupt only (`platform_get_irq(pdev, 0)`). The device it exposes
    /// is the AXI DMA whose window holds its first map; its interrupt must be one of that device's
    /// channel lines. A disabled node makes no UIO device and is skipped.
    func readUIONode(
        _ node: DeviceTree.Node, devices: [ImportedBoard.AXIDMA], regions: [(name: String, window: PhysicalWindow)], controller: ControllerContext
    ) throws(DeviceTreeError) -> ImportedBoard.UIONode? {
        guard tree.isEnabled(node) else {
            skipReasons[node.index] = "status \"\((try? tree.string(node, "status")) ?? "")\": uio_pdrv_genirq does not bind it"
            return nil
        }
        used.insert(node.index)
        guard var windows = try tree.registers(node) else {
            throw DeviceTreeError("no reg: a UIO node needs at least one map", at: tree.location(node, "reg"))
        }
        if windows.count > 5 {
            warn("\(windows.count) reg entries: uio_pdrv_genirq keeps the first 5 (MAX_UIO_MAPS)", node, "reg")
            windows = Array(windows.prefix(5))
        }
        guard let device = devices.first(where: { $0.path == node.path || $0.window.contains(windows[0]) }) else {
            throw DeviceTreeError(
                "reg \(hex(windows[0].base)) (\(hex(windows[0].size)) bytes) lies in no AXI DMA node's window: a profile's UIO node exposes a device",
                at: tree.location(node, "reg"))
        }
        let regNames = try tree.strings(node, "reg-names") ?? []
        var maps: [ImportedBoard.UIONode.Map] = []
        for (index, window) in windows.enumerated() {
            guard let region = regions.first(where: { $0.window.contains(window) }) else {
                throw DeviceTreeError(
                    "reg entry \(index) (\(hex(window.base)), \(hex(window.size)) bytes) lies in no device, memory or DMA pool window", at: tree.location(node, "reg"))
            }
            try checkPageAligned(window, node, "reg")
            let name = index < regNames.count ? ProfileNames.sanitized(regNames[index]) : ProfileNames.sanitized(node.name)
            let offset = window.base - region.window.base
            let runsToEnd = window.last == region.window.last
            maps.append(.init(name: name, region: region.name, offset: offset, size: runsToEnd ? nil : window.size))
        }
        var output: String?
        if let specifiers = try tree.interrupts(of: node), let first = specifiers.first {
            if specifiers.count > 1 { warn("\(specifiers.count) interrupts: uio_pdrv_genirq uses only the first (platform_get_irq(pdev, 0))", node, "interrupts") }
            let decoded = try decode(first, of: node, "interrupts", controller: controller)
            guard let channel = device.channels.first(where: { $0.line == decoded.line }) else {
                let lines = device.channels.map { "\($0.output) line \($0.line)" }.joined(separator: ", ")
                throw DeviceTreeError(
                    "interrupt \(decoded.written) is none of \(device.name)'s outputs (\(lines)): expected the line of the channel this node reports",
                    at: tree.location(node, "interrupts"))
            }
            output = channel.output
        }
        return ImportedBoard.UIONode(name: ProfileNames.sanitized(node.baseName), path: node.path, device: device.name, interrupt: output, maps: maps)
    }

    /// Two UIO nodes with one name would be one sysfs name twice; the profile wants them distinct.
    func checkDistinctUIONames(_ nodes: [ImportedBoard.UIONode]) {
        var seen: [String: String] = [:]
        for node in nodes {
            if let other = seen[node.name], let located = tree.node(atPath: node.path) {
                errors.append(DeviceTreeError("a second UIO node named '\(node.name)' (the first is \(other)): rename one node", at: tree.location(located)))
            }
            seen[node.name] = node.path
        }
    }

    /// A u-dma-buf node (ikwzm/udmabuf Readme, "Configuration via the device tree"): named by
    /// `device-name`, else `udmabuf<minor-number>`, else the node's name; `size` required;
    /// `sync-mode` 1 (default), 2 or 3; `dma-coherent`. Its buffer comes from the DMA pool.
    func readUDMABuffer(_ node: DeviceTree.Node, pool: ImportedBoard.Pool) throws(DeviceTreeError) -> ImportedBoard.UDMABuffer? {
        guard tree.isEnabled(node) else {
            skipReasons[node.index] = "status \"\((try? tree.string(node, "status")) ?? "")\": u-dma-buf does not bind it"
            return nil
        }
        used.insert(node.index)
        guard let size = try tree.u32OrU64(node, "size"), size > 0 else {
            throw DeviceTreeError("expected size, the buffer's capacity in bytes (u-dma-buf requires it)", at: tree.location(node, "size"))
        }
        let minor = try tree.u32(node, "minor-number")
        if let minor, minor > 255 { throw DeviceTreeError("minor-number = <\(minor)>: expected 0 to 255", at: tree.location(node, "minor-number")) }
        let syncMode = try tree.u32(node, "sync-mode") ?? 1
        guard (1...3).contains(syncMode) else {
            throw DeviceTreeError("sync-mode = <\(syncMode)>: expected 1 (uncached), 2 (write-combine) or 3 (DMA-coherent)", at: tree.location(node, "sync-mode"))
        }
        let name = try tree.string(node, "device-name") ?? minor.map { "udmabuf\($0)" } ?? node.name
        return ImportedBoard.UDMABuffer(
            name: ProfileNames.sanitized(name), path: node.path, size: size, syncMode: Int(syncMode),
            dmaCoherent: tree.flag(node, "dma-coherent", warnings: &warnings))
    }

    /// The buffers are carved from the pool, page by page: they must fit.
    func checkBuffersFit(_ buffers: [ImportedBoard.UDMABuffer], pool: ImportedBoard.Pool) {
        var total: UInt64 = 0
        for buffer in buffers {
            let (rounded, roundOverflow) = buffer.size.addingReportingOverflow(4095)
            let (sum, overflow) = total.addingReportingOverflow(rounded & ~4095)
            total = overflow || roundOverflow ? .max : sum
            if total > pool.window.size, let node = tree.node(atPath: buffer.path) {
                errors.append(DeviceTreeError(
                    "the u-dma-buf buffers need \(total) bytes up to here; the DMA pool \(pool.path) has \(pool.window.size)", at: tree.location(node, "size")))
                return
            }
        }
    }
}
