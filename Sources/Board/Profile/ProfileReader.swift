/// Reads one profile document into a `BoardProfile`, collecting every problem on the way. Sections
/// are read in dependency order (cpu, memory, controller, devices, uio) whatever order the file uses,
/// and each is read as far as it can be even when an earlier one was broken.
final class ProfileReader {
    static let topLevelKeys = [
        "name", "description", "cpu", "memory", "dma-pool", "reserved", "interrupt-controller", "devices", "uio", "u-dma-buf",
        "interrupt-delivery",
    ]
    /// Windows, regions and maps must start and end on this boundary: UIO maps are mmap'ed in pages.
    static let windowAlignment: UInt64 = 4 << 10

    let file: String
    let registry: DeviceKindRegistry
    var diagnostics = Diagnostics()

    /// Everything placed in the address map, for the overlap and width checks.
    struct Placed {
        let name: String
        /// "memory region", "device", "reserved region".
        let what: String
        let range: AddressRange
        let location: SourceLocation
    }
    var placed: [Placed] = []
    /// Every region and device name seen, valid or not, so a reference to a broken one is not
    /// reported again as a reference to a missing one.
    var declaredNames: Set<String> = []
    /// Device names seen, valid or not, for "did you mean" on references.
    var declaredDeviceNames: [String] = []
    var physicalAddressBits: Int?

    init(file: String, registry: DeviceKindRegistry) {
        self.file = file
        self.registry = registry
    }

    func read(_ document: YAMLDocument) -> BoardProfile? {
        guard let root = document.root else {
            if diagnostics.isEmpty {
                diagnostics.error("empty profile: expected a mapping with 'name', 'cpu', 'memory', ...", at: SourceLocation(file: file, line: 1, column: 1))
            }
            return nil
        }
        guard let top = root.mapping("a board profile", keys: Self.topLevelKeys, &diagnostics) else { return nil }

        let name = top.required("name", expecting: "the board's name", &diagnostics)?.name(&diagnostics)
        let description = top.required("description", expecting: "a one-line description", &diagnostics)?.string(&diagnostics)
        let cpu = top.required("cpu", expecting: "the cpu section", &diagnostics).flatMap(readCPU)
        physicalAddressBits = cpu?.physicalAddressBits
        let memory = top.required("memory", expecting: "a list of RAM regions", &diagnostics).flatMap(readMemory)
        let reserved = top["reserved"].flatMap(readReserved) ?? []
        let pool = top.required("dma-pool", expecting: "the reserved DMA pool", &diagnostics).flatMap { readPool($0, memory: memory) }
        let controller = top.required("interrupt-controller", expecting: "the interrupt controller section", &diagnostics).flatMap(readController)
        let devices = top["devices"].flatMap { readDevices($0, controller: controller) } ?? []
        let uio = top["uio"].flatMap { readUIONodes($0, devices: devices, memory: memory ?? [], pool: pool, reserved: reserved) } ?? []
        let buffers = top["u-dma-buf"].flatMap { readUDMABuffers($0, pool: pool) } ?? []
        let delivery = top["interrupt-delivery"].map(readInterruptDelivery) ?? .immediate
        checkLayout()

        guard diagnostics.isEmpty, let name, let description, let cpu, let memory, let pool, let controller, let delivery else { return nil }
        return BoardProfile(
            name: name, description: description, file: file, cpu: cpu, memory: memory, dmaPool: pool, reserved: reserved,
            interruptController: controller, devices: devices, uioNodes: uio, udmaBuffers: buffers, interruptDelivery: delivery)
    }

    // MARK: Sections

    func readCPU(_ value: YAMLValue) -> BoardProfile.CPU? {
        guard let cpu = value.mapping("the cpu section", keys: ["core", "cores", "clock", "endianness", "physical-address-bits"], &diagnostics) else {
            return nil
        }
        let core = cpu.required("core", expecting: "the core name, such as e500v2 or ppc440", &diagnostics)?.name(&diagnostics)
        let cores = cpu["cores"].map { $0.integer("a core count", in: 1...64, &diagnostics) } ?? 1
        let clock = cpu.required("clock", expecting: YAMLValue.frequencyExpectation, &diagnostics)?.frequency(&diagnostics)
        let endianness = cpu["endianness"].map(readEndianness) ?? .big
        let bits = cpu.required("physical-address-bits", expecting: "32 or 36, for example", &diagnostics)?
            .integer("a physical address width in bits", in: 32...64, &diagnostics)
        guard let core, let cores, let clock, let endianness, let bits else { return nil }
        return BoardProfile.CPU(core: core, cores: Int(cores), clockHz: clock, endianness: endianness, physicalAddressBits: Int(bits))
    }

    func readEndianness(_ value: YAMLValue) -> Endianness? {
        value.choice("a byte order", among: Endianness.allCases.map(\.rawValue), &diagnostics).flatMap(Endianness.init(rawValue:))
    }

    /// The `name`, `base` and `size` every region has; places the range for the layout checks.
    func readRegion(_ mapping: YAMLMapping, what: String) -> (name: String, range: AddressRange)? {
        let name = mapping.required("name", expecting: "a name", &diagnostics)?.name(&diagnostics)
        if let name { declaredNames.insert(name) }
        let baseValue = mapping.required("base", expecting: "an address", &diagnostics)
        let base = baseValue?.address(&diagnostics)
        let size = mapping.required("size", expecting: YAMLValue.sizeExpectation, &diagnostics)?.size(&diagnostics)
        guard let name, let base, let size, let baseValue else { return nil }
        guard let range = AddressRange(base: base, size: size) else {
            diagnostics.error("\(what) '\(name)' runs past the end of the 64-bit address space", at: baseValue.location)
            return nil
        }
        if placed.contains(where: { $0.name == name }) {
            diagnostics.error("duplicate name '\(name)': expected every region and device to have its own name", at: mapping.keyLocation("name") ?? mapping.location)
        }
        checkAlignment(range, of: "\(what) '\(name)'", at: baseValue.location)
        placed.append(Placed(name: name, what: what, range: range, location: baseValue.location))
        return (name, range)
    }

    /// Reports a `start` or `size` that is not a multiple of `windowAlignment`.
    func checkAlignment(start: UInt64, size: UInt64, of what: String, at location: SourceLocation) {
        let alignment = Self.windowAlignment
        guard start % alignment != 0 || size % alignment != 0 else { return }
        diagnostics.error(
            "misaligned window: \(what) at \(PhysicalAddress.hex(start, digits: 1)), \(Units.size(size)); expected start and size to be multiples of \(Units.size(alignment))",
            at: location)
    }

    func checkAlignment(_ range: AddressRange, of what: String, at location: SourceLocation) {
        checkAlignment(start: range.base.rawValue, size: range.size, of: what, at: location)
    }

    func readMemory(_ value: YAMLValue) -> [BoardProfile.MemoryRegion]? {
        guard let items = value.list("a list of RAM regions", &diagnostics) else { return nil }
        if items.isEmpty { diagnostics.error("no RAM: expected at least one memory region", at: value.location) }
        let regions = items.compactMap { item -> BoardProfile.MemoryRegion? in
            guard let mapping = item.mapping("a memory region", keys: ["name", "base", "size"], &diagnostics),
                let (name, range) = readRegion(mapping, what: "memory region")
            else { return nil }
            return BoardProfile.MemoryRegion(name: name, range: range)
        }
        return regions.count == items.count ? regions : nil
    }

    func readReserved(_ value: YAMLValue) -> [BoardProfile.ReservedRegion]? {
        guard let items = value.list("a list of reserved regions", &diagnostics) else { return nil }
        return items.compactMap { item -> BoardProfile.ReservedRegion? in
            guard let mapping = item.mapping("a reserved region", keys: ["name", "base", "size", "note"], &diagnostics) else { return nil }
            let note = mapping["note"].flatMap { $0.string(&diagnostics) }
            guard let (name, range) = readRegion(mapping, what: "reserved region") else { return nil }
            return BoardProfile.ReservedRegion(name: name, range: range, note: note)
        }
    }

    /// `memory` is nil when the memory section was broken; the pool's placement is then not checked.
    func readPool(_ value: YAMLValue, memory: [BoardProfile.MemoryRegion]?) -> BoardProfile.DMAPool? {
        guard let mapping = value.mapping("the dma-pool section", keys: ["name", "base", "size", "coherent", "guard"], &diagnostics) else {
            return nil
        }
        let name = mapping["name"].map { $0.name(&diagnostics) } ?? "dma-pool"
        let coherent = mapping.required("coherent", expecting: "true or false (does device DMA snoop the CPU caches?)", &diagnostics)?.bool(&diagnostics)
        let baseValue = mapping.required("base", expecting: "an address", &diagnostics)
        let base = baseValue?.address(&diagnostics)
        let sizeValue = mapping.required("size", expecting: YAMLValue.sizeExpectation, &diagnostics)
        var size = sizeValue?.size(&diagnostics)
        if let bytes = size, let sizeValue, bytes > BoardProfile.DMAPool.maximumBytes {
            diagnostics.error(
                "dma-pool of \(Units.size(bytes)) is larger than uioemu backs: expected at most \(Units.size(BoardProfile.DMAPool.maximumBytes)) (a real pool is a few MiB to a few GiB)",
                at: sizeValue.location)
            size = nil
        }
        let guardEnabled = mapping["guard"].map { $0.bool(&diagnostics) } ?? true
        guard let name, let coherent, let base, let size, let baseValue, let guardEnabled else { return nil }
        guard let range = AddressRange(base: base, size: size) else {
            diagnostics.error("dma-pool runs past the end of the 64-bit address space", at: baseValue.location)
            return nil
        }
        checkAlignment(range, of: "dma-pool '\(name)'", at: baseValue.location)
        guard let memory else { return nil }
        guard let region = memory.first(where: { $0.range.contains(range) }) else {
            let regions = memory.map { "'\($0.name)' \($0.range)" }.joined(separator: ", ")
            diagnostics.error(
                "DMA pool \(range) lies outside RAM: expected it inside one memory region (\(regions.isEmpty ? "none declared" : regions))",
                at: baseValue.location)
            return nil
        }
        return BoardProfile.DMAPool(name: name, range: range, coherent: coherent, guardEnabled: guardEnabled, memoryRegion: region.name)
    }

    func readController(_ value: YAMLValue) -> BoardProfile.InterruptControllerSpec? {
        guard let mapping = value.mapping("the interrupt-controller section", keys: ["kind", "lines"], &diagnostics) else { return nil }
        let kinds = InterruptControllerKind.allCases.map(\.rawValue)
        let kind = mapping.required("kind", expecting: "mpic or xps-intc", &diagnostics)?
            .choice("an interrupt controller kind", among: kinds, &diagnostics).flatMap(InterruptControllerKind.init(rawValue:))
        let lines = mapping.required("lines", expecting: "the number of input lines", &diagnostics)?
            .integer("a number of lines", in: 1...1024, &diagnostics)
        guard let kind, let lines else { return nil }
        return BoardProfile.InterruptControllerSpec(kind: kind, lineCount: Int(lines))
    }

    // MARK: Layout

    /// Overlaps (both named, reported at the later one) and addresses beyond the physical width.
    func checkLayout() {
        for (index, item) in placed.enumerated() {
            if let bits = physicalAddressBits, bits < 64, item.range.last.rawValue >> UInt64(bits) != 0 {
                diagnostics.error(
                    "address beyond the \(bits)-bit physical space: \(item.what) '\(item.name)' ends at \(item.range.last); expected below \(PhysicalAddress(1 << UInt64(bits)))",
                    at: item.location)
            }
            for earlier in placed[..<index] where earlier.range.overlaps(item.range) {
                diagnostics.error(
                    "overlapping regions: \(item.what) '\(item.name)' \(item.range) overlaps \(earlier.what) '\(earlier.name)' \(earlier.range) (declared at \(earlier.location.line):\(earlier.location.column))",
                    at: item.location)
            }
        }
    }
}
