import Board

/// What the importer needs besides the tree.
public struct ImportOptions: Sendable {
    /// The profile's `name` (the output file's stem, else the input's).
    public var name: String
    /// The input file as the user gave it, for the header.
    public var source: String
    /// The DTS's leading comment, one string per line, without comment markers.
    public var header: [String]

    public init(name: String, source: String, header: [String] = []) {
        self.name = name
        self.source = source
        self.header = header
    }
}

/// Reads a device tree into a board profile's content (`ImportedBoard`), following the rules in
/// boards/README.md ("From a device tree"). Errors name the node and property; the importer reads
/// every device even after one failed, so one run reports them all.
public final class BoardImporter {
    let tree: DeviceTree
    let options: ImportOptions
    var errors: [DeviceTreeError] = []
    var warnings: [DeviceTreeWarning] = []
    /// Nodes that went into the profile or were read for it (buses translated through, clocks).
    var used: Set<Int> = []
    /// Profile names of regions and devices, which share one namespace.
    var names: Set<String> = []
    /// Why a node the importer looked at and left out is not modelled.
    var skipReasons: [Int: String] = [:]

    init(tree: DeviceTree, options: ImportOptions) {
        self.tree = tree
        self.options = options
    }

    /// The board in `tree`, or every error found.
    public static func importBoard(_ tree: DeviceTree, options: ImportOptions) -> Result<ImportedBoard, DeviceTreeErrors> {
        BoardImporter(tree: tree, options: options).run()
    }

    /// Runs `body`, recording its error; nil when it failed.
    func attempt<T>(_ body: () throws(DeviceTreeError) -> T) -> T? {
        do throws(DeviceTreeError) {
            return try body()
        } catch {
            errors.append(error)
            return nil
        }
    }

    func warn(_ message: String, _ node: DeviceTree.Node, _ property: String? = nil) {
        warnings.append(DeviceTreeWarning(message, at: tree.location(node, property)))
    }

    func run() -> Result<ImportedBoard, DeviceTreeErrors> {
        used.insert(0)
        let cpu = attempt { () throws(DeviceTreeError) in try readCPU() }
        let memory = attempt { () throws(DeviceTreeError) in try readMemory() }
        let dmaNodes = tree.nodes.filter(isAXIDMA)
        let uioNodes = tree.nodes.filter { tree.isCompatible($0, with: Self.uioCompatibles) && !isAXIDMA($0) }
        let bufferNodes = tree.nodes.filter { tree.isCompatible($0, with: Self.udmaBufferCompatibles) }
        let pool = memory.flatMap { memory in attempt { () throws(DeviceTreeError) in try readPool(memory: memory, bufferNodes: bufferNodes) } }
        let controller = attempt { () throws(DeviceTreeError) in try findController(dmaNodes: dmaNodes) }
        var devices: [ImportedBoard.AXIDMA] = []
        var uio: [ImportedBoard.UIONode] = []
        if let controller {
            for node in dmaNodes {
                if let device = attempt({ () throws(DeviceTreeError) in try readAXIDMA(node, controller: controller) }) { devices.append(device) }
            }
            var regions = devices.map { (name: $0.name, window: $0.window) } + (memory ?? []).map { (name: $0.name, window: $0.window) }
            if let pool { regions.insert((pool.name, pool.window), at: devices.count) }
            for node in uioNodes + dmaNodes.filter({ tree.isCompatible($0, with: Self.uioCompatibles) }) {
                let read = attempt { () throws(DeviceTreeError) in try readUIONode(node, devices: devices, regions: regions, controller: controller) }
                if let read, let read { uio.append(read) }
            }
            uio.sort { (tree.node(atPath: $0.path)?.index ?? 0) < (tree.node(atPath: $1.path)?.index ?? 0) }
            checkDistinctUIONames(uio)
        }
        var buffers: [ImportedBoard.UDMABuffer] = []
        if let pool {
            for node in bufferNodes {
                let read = attempt { () throws(DeviceTreeError) in try readUDMABuffer(node, pool: pool) }
                if let read, let read { buffers.append(read) }
            }
            checkBuffersFit(buffers, pool: pool)
        }
        let (reserved, skipped) = mapTheRest(memory: memory ?? [], devices: devices)
        let cascade = controller.flatMap { controller in attempt { () throws(DeviceTreeError) in try tree.cascade(above: controller.node) } }
        guard errors.isEmpty, var cpu, let memory, var pool, let controller else {
            return .failure(DeviceTreeErrors(errors.isEmpty ? [DeviceTreeError("nothing to import", at: tree.location(tree.root))] : errors))
        }
        pool.coherent = Self.coherence(of: cpu.core.value)
        if !dmaNodes.isEmpty, dmaNodes.allSatisfy({ $0.has("dma-coherent") }) { pool.coherent = .init(true, "dma-coherent on every AXI DMA node") }
        cpu.physicalAddressBits = physicalAddressBits(core: cpu.core.value, windows: memory.map(\.window) + reserved.map(\.window) + devices.map(\.window))
        var imported = controller.imported
        if let first = cascade?.first {
            imported.cascade = "cascaded into \(tree[first.controller].path) <\(first.cells.map { String($0) }.joined(separator: " "))>"
        }
        return .success(ImportedBoard(
            name: options.name, description: description(), source: options.source, header: options.header, cpu: cpu, memory: memory,
            pool: pool, reserved: reserved, controller: imported, devices: devices, uio: uio, udmaBuffers: buffers, skipped: skipped,
            warnings: warnings))
    }

    // MARK: Board-level sections

    /// `uioemu,description` on the root, else its `model`, else its first `compatible`.
    func description() -> ImportedBoard.Sourced<String> {
        let root = tree.root
        if let text = try? tree.string(root, "uioemu,description"), !text.isEmpty { return .init(text) }
        if let model = try? tree.string(root, "model"), !model.isEmpty { return .init(model, "model") }
        return .init(tree.compatible(root).first ?? options.name, "compatible")
    }

    /// Cores by the cpu node's compatible or name (`PowerPC,P2020@0`): what each SoC's reference
    /// manual says its cores are, and the physical address width of that core.
    static let cores: [(match: String, core: String, physicalBits: Int)] = [
        ("PowerPC,P2020", "e500v2", 36), ("PowerPC,P2010", "e500v2", 36), ("PowerPC,P1020", "e500v2", 36),
        ("PowerPC,P1022", "e500v2", 36), ("PowerPC,8548", "e500v2", 36), ("PowerPC,8572", "e500v2", 36),
        ("PowerPC,e500mc", "e500mc", 36), ("PowerPC,P4080", "e500mc", 36), ("PowerPC,e5500", "e5500", 40),
        ("PowerPC,e6500", "e6500", 40), ("PowerPC,440", "ppc440", 36), ("ibm,ppc440", "ppc440", 36),
        ("PowerPC,405", "ppc405", 32),
    ]

    func readCPU() throws(DeviceTreeError) -> ImportedBoard.CPU {
        guard let cpus = tree.node(atPath: "/cpus") else {
            throw DeviceTreeError("no /cpus node: expected one with a cpu node per core (Devicetree Specification 3.7)", at: tree.location(tree.root))
        }
        used.insert(cpus.index)
        for node in tree.descendants(of: cpus) { used.insert(node.index) }
        let cores = tree.children(of: cpus).filter { (try? tree.string($0, "device_type")) == "cpu" }
        guard let first = cores.first else {
            throw DeviceTreeError("no cpu node: expected children with device_type = \"cpu\"", at: tree.location(cpus))
        }
        let names = [first.baseName] + tree.compatible(first)
        let known = Self.cores.first { entry in names.contains(entry.match) }
        let core: ImportedBoard.Sourced<String>
        if let known {
            core = .init(known.core, known.match)
        } else {
            let guess = first.baseName.split(separator: ",").last.map { String($0).lowercased() } ?? "cpu"
            core = .init(ProfileNames.sanitized(guess), "unknown core \(first.baseName): named after the node")
            warn("unknown core '\(first.baseName)': the profile names it '\(guess)'; correct cpu.core if needed", first)
        }
        var clock = ImportedBoard.Sourced<UInt64>(1_000_000_000, "clock-frequency absent or 0 (the boot loader fills it in): 1 GHz assumed")
        if let hertz = try tree.u32OrU64(first, "clock-frequency"), hertz > 0 {
            clock = .init(hertz)
        } else {
            warn("no clock-frequency (the boot loader fills it in on a real board): the profile assumes 1 GHz; set cpu.clock", first, "clock-frequency")
        }
        let rootCells = try tree.addressCells(of: tree.root)
        let bits = rootCells == 1 ? ImportedBoard.Sourced(32) : ImportedBoard.Sourced(known?.physicalBits ?? 36)
        return ImportedBoard.CPU(core: core, cores: cores.count, clockHz: clock, physicalAddressBits: bits, path: cpus.path)
    }

    /// 32 when the root uses one address cell; else the core's width, widened to what the windows
    /// need (to 40, then 64 bits).
    func physicalAddressBits(core: String, windows: [PhysicalWindow]) -> ImportedBoard.Sourced<Int> {
        guard (try? tree.addressCells(of: tree.root)) != 1 else { return .init(32) }
        var bits = Self.cores.first { $0.core == core }?.physicalBits ?? 36
        let highest = windows.map(\.last).max() ?? 0
        // Bounded: two widenings at most.
        for wider in [40, 64] where bits < 64 && highest >> UInt64(bits) != 0 { bits = wider }
        return .init(bits)
    }

    /// e500 cores snoop device DMA (Linux builds 85xx without CONFIG_NOT_COHERENT_CACHE); 4xx cores
    /// do not (arch/powerpc/platforms/Kconfig.cputype selects NOT_COHERENT_CACHE for 44x).
    static func coherence(of core: String) -> ImportedBoard.Sourced<Bool> {
        if core.hasPrefix("e500") || core.hasPrefix("e5500") || core.hasPrefix("e6500") {
            return .init(true, "\(core) snoops DMA")
        }
        return .init(false, "\(core) does not snoop DMA")
    }

    /// `device_type = "memory"` nodes (Devicetree Specification 3.4), one region per `reg` entry.
    func readMemory() throws(DeviceTreeError) -> [ImportedBoard.Region] {
        let nodes = tree.children(of: tree.root).filter { (try? tree.string($0, "device_type")) == "memory" }
        guard !nodes.isEmpty else {
            throw DeviceTreeError("no memory node: expected one with device_type = \"memory\" and reg (Devicetree Specification 3.4)", at: tree.location(tree.root))
        }
        var regions: [ImportedBoard.Region] = []
        for node in nodes {
            used.insert(node.index)
            guard let windows = try tree.registers(node) else {
                throw DeviceTreeError(
                    "no reg: the boot loader fills it in on a real board; write the RAM's base and size here (reg = <...>)", at: tree.location(node, "reg"))
            }
            for (index, window) in windows.enumerated() {
                try checkPageAligned(window, node, "reg")
                regions.append(ImportedBoard.Region(name: claimName(for: node, index: index), window: window, path: node.path))
            }
        }
        return regions
    }

    /// The DMA pool: the `reserved-memory` child a u-dma-buf node's `memory-region` names, else the
    /// only one with a `reg` (Linux binding reserved-memory/reserved-memory.yaml).
    func readPool(memory: [ImportedBoard.Region], bufferNodes: [DeviceTree.Node]) throws(DeviceTreeError) -> ImportedBoard.Pool {
        let example = "reserved-memory { #address-cells = <1>; #size-cells = <1>; ranges; dma_pool: dma-pool@3c000000 { compatible = \"shared-dma-pool\"; reg = <0x3c000000 0x4000000>; no-map; }; }"
        guard let reserved = tree.node(atPath: "/reserved-memory") else {
            throw DeviceTreeError("no /reserved-memory node: the profile needs a DMA pool kept from the kernel; add one, such as \(example)", at: tree.location(tree.root))
        }
        used.insert(reserved.index)
        var referenced: [Int] = []
        for node in bufferNodes where tree.isEnabled(node) {
            guard let phandle = try tree.cells(node, "memory-region")?.first else { continue }
            let region = try tree.node(phandle: phandle, from: node, "memory-region")
            guard region.parent == reserved.index else {
                throw DeviceTreeError("memory-region names \(region.path), which is not a child of /reserved-memory", at: tree.location(node, "memory-region"))
            }
            if !referenced.contains(region.index) { referenced.append(region.index) }
        }
        guard referenced.count <= 1 else {
            throw DeviceTreeError(
                "u-dma-buf nodes use \(referenced.count) reserved-memory regions (\(referenced.map { tree[$0].path }.joined(separator: ", "))): the profile has one DMA pool",
                at: tree.location(reserved))
        }
        let candidates = tree.children(of: reserved).filter { $0.has("reg") }
        let chosen: DeviceTree.Node
        if let index = referenced.first {
            chosen = tree[index]
        } else if candidates.count == 1 {
            chosen = candidates[0]
        } else if candidates.isEmpty {
            throw DeviceTreeError("no child with reg: expected the DMA pool at a fixed address, such as \(example)", at: tree.location(reserved))
        } else {
            throw DeviceTreeError(
                "\(candidates.count) reserved regions could be the DMA pool (\(candidates.map(\.path).joined(separator: ", "))): name one with a u-dma-buf node's memory-region",
                at: tree.location(reserved))
        }
        guard let windows = try tree.registers(chosen) else {
            throw DeviceTreeError("no reg (a size-only region is placed by the kernel at boot): expected reg with a fixed address", at: tree.location(chosen, "reg"))
        }
        used.insert(chosen.index)
        let window = windows[0]
        try checkPageAligned(window, chosen, "reg")
        guard memory.contains(where: { $0.window.contains(window) }) else {
            throw DeviceTreeError("the pool \(hex(window.base))..\(hex(window.last)) lies in no memory node's reg: expected it inside RAM", at: tree.location(chosen, "reg"))
        }
        for other in tree.children(of: reserved) where other.index != chosen.index {
            skipReasons[other.index] = "reserved memory other than the DMA pool: not modelled"
        }
        let flags = ["no-map", "reusable"].filter { chosen.has($0) }
        return ImportedBoard.Pool(name: claimName(for: chosen), window: window, coherent: .init(false), path: chosen.path, flags: flags)
    }

    /// Windows must be whole 4 KiB pages: UIO maps them in pages (the profile's rule).
    func checkPageAligned(_ window: PhysicalWindow, _ node: DeviceTree.Node, _ property: String) throws(DeviceTreeError) {
        guard window.base % 4096 != 0 || window.size % 4096 != 0 else { return }
        throw DeviceTreeError(
            "window \(hex(window.base)) (\(hex(window.size)) bytes) is not whole 4 KiB pages: the profile maps windows in pages", at: tree.location(node, property))
    }
}
