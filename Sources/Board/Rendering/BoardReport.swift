/// What `uioemu board show` prints: the memory map sorted by address with human sizes, the
/// interrupt routing table and the UIO nodes. A pure function of the profile; `text` is what the
/// golden files under Tests/BoardTests/Golden hold, and the struct itself is the `--json` form.
public struct BoardReport: Encodable, Sendable {
    public struct MapEntry: Encodable, Sendable {
        public var start: String
        public var end: String
        public var bytes: UInt64
        public var size: String
        /// `ram`, `dma-pool`, `reserved`, or the device kind.
        public var kind: String
        public var name: String
        public var detail: String
    }

    public struct Route: Encodable, Sendable {
        public var line: Int
        public var sense: String
        /// The sense in the controller's device-tree encoding.
        public var deviceTreeCell: Int
        public var device: String
        public var output: String
        public var uio: [String]
    }

    public struct UIONode: Encodable, Sendable {
        public struct Map: Encodable, Sendable {
            public var index: Int
            public var name: String
            public var region: String
            public var address: String
            public var size: String
        }
        public var name: String
        public var device: String
        public var interruptLine: Int?
        public var interruptOutput: String?
        public var maps: [Map]
    }

    public struct Device: Encodable, Sendable {
        public var name: String
        public var kind: String
        public var busEndianness: Endianness
        public var parameters: any DeviceParameters

        enum CodingKeys: String, CodingKey { case name, kind, busEndianness, parameters }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(busEndianness, forKey: .busEndianness)
            try container.encode(parameters, forKey: .parameters)
        }
    }

    public var name: String
    public var description: String
    public var file: String
    public var cpu: BoardProfile.CPU
    public var interruptController: String
    public var interruptLines: Int
    /// Nil when interrupts reach userspace the instant their line rises (the default).
    public var interruptDelivery: InterruptDelivery?
    public var memoryMap: [MapEntry]
    public var interrupts: [Route]
    public var devices: [Device]
    public var uio: [UIONode]

    public init(profile: BoardProfile) {
        let digits = (profile.cpu.physicalAddressBits + 3) / 4
        func entry(_ range: AddressRange, kind: String, name: String, detail: String) -> MapEntry {
            MapEntry(
                start: PhysicalAddress.hex(range.base.rawValue, digits: digits), end: PhysicalAddress.hex(range.last.rawValue, digits: digits),
                bytes: range.size, size: Units.size(range.size), kind: kind, name: name, detail: detail)
        }
        var map: [(range: AddressRange, entry: MapEntry)] = []
        for region in profile.memory {
            map.append((region.range, entry(region.range, kind: "ram", name: region.name, detail: "lazily backed")))
        }
        let pool = profile.dmaPool
        map.append((pool.range, entry(
            pool.range, kind: "dma-pool", name: pool.name,
            detail: "in \(pool.memoryRegion), \(pool.coherent ? "coherent" : "non-coherent"), backed at start")))
        for region in profile.reserved {
            map.append((region.range, entry(region.range, kind: "reserved", name: region.name, detail: region.note ?? "not modelled")))
        }
        for device in profile.devices {
            map.append((device.range, entry(
                device.range, kind: device.kind, name: device.name,
                detail: "\(device.busEndianness.rawValue)-endian, \(device.parameters.summary)")))
        }
        // By address; a region before the pool it contains.
        memoryMap = map.sorted { ($0.range.base, UInt64.max - $0.range.size) < ($1.range.base, UInt64.max - $1.range.size) }.map(\.entry)

        let controller = profile.interruptController.kind
        interrupts = profile.interruptRoutes.map { device, route in
            Route(
                line: route.line, sense: route.sense.name, deviceTreeCell: controller.deviceTreeCell(for: route.sense),
                device: device.name, output: route.output,
                uio: profile.uioNodes.filter { $0.device == device.name && $0.interrupt == route }.map(\.name))
        }.sorted { $0.line < $1.line }

        uio = profile.uioNodes.map { node in
            UIONode(
                name: node.name, device: node.device, interruptLine: node.interrupt?.line, interruptOutput: node.interrupt?.output,
                maps: node.maps.enumerated().map { index, map in
                    UIONode.Map(
                        index: index, name: map.name, region: map.region,
                        address: PhysicalAddress.hex(map.range.base.rawValue, digits: digits), size: Units.size(map.range.size))
                })
        }
        devices = profile.devices.map { Device(name: $0.name, kind: $0.kind, busEndianness: $0.busEndianness, parameters: $0.parameters) }
        name = profile.name
        description = profile.description
        file = profile.file
        cpu = profile.cpu
        interruptController = controller.rawValue
        interruptLines = profile.interruptController.lineCount
        interruptDelivery = profile.interruptDelivery.isImmediate ? nil : profile.interruptDelivery
    }

    public var text: String {
        let senses = InterruptControllerKind(rawValue: interruptController)!.deviceTreeSenses
            .map { "\($0.cell) \($0.sense.name)" }.joined(separator: ", ")
        var out = """
            \(name): \(description)
            file: \(file)
            cpu: \(cpu.cores)x \(cpu.core) @ \(Units.frequency(cpu.clockHz)), \(cpu.endianness.rawValue)-endian, \(cpu.physicalAddressBits)-bit physical addresses
            interrupt controller: \(interruptController), \(interruptLines) lines (device-tree sense: \(senses))

            """
        if let delivery = interruptDelivery {
            let quantiles = [
                ("min", delivery.minimumNanoseconds), ("p50", delivery.p50Nanoseconds), ("p99", delivery.p99Nanoseconds),
                ("max", delivery.maximumNanoseconds),
            ]
            out += "interrupt delivery to userspace: " + quantiles.map { "\($0.0) \(Units.duration($0.1))" }.joined(separator: ", ") + "\n"
        }
        out += """

            Memory map

            """
        out += TextTable.render(
            header: ["START", "END", "SIZE", "KIND", "NAME", "DETAIL"],
            rows: memoryMap.map { [$0.start, $0.end, $0.size, $0.kind, $0.name, $0.detail] }, indent: "  ")
        out += "\n\nInterrupt routing\n"
        out += TextTable.render(
            header: ["LINE", "SENSE", "DT", "DEVICE", "OUTPUT", "UIO"],
            rows: interrupts.map { ["\($0.line)", $0.sense, "\($0.deviceTreeCell)", $0.device, $0.output, $0.uio.isEmpty ? "-" : $0.uio.joined(separator: ", ")] },
            indent: "  ")
        out += "\n\nUIO nodes\n"
        var rows: [[String]] = []
        for node in uio {
            let interrupt = node.interruptLine.map { "line \($0) (\(node.interruptOutput!))" } ?? "none"
            for map in node.maps {
                let first = map.index == 0
                rows.append([first ? node.name : "", first ? node.device : "", first ? interrupt : "", "map\(map.index)", map.name, map.region, map.address, map.size])
            }
        }
        out += TextTable.render(header: ["NAME", "DEVICE", "INTERRUPT", "MAP", "MAP NAME", "REGION", "ADDRESS", "SIZE"], rows: rows, indent: "  ")
        return out + "\n"
    }
}
