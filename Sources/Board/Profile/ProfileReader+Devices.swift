/// The `devices` and `uio` sections.
extension ProfileReader {
    static let commonDeviceKeys = ["name", "kind", "base", "size", "bus-endianness", "access-time"]
    static let uioKeys = ["name", "device", "interrupt", "maps"]
    static let uioMapKeys = ["name", "region", "offset", "size"]

    func readDevices(_ value: YAMLValue, controller: BoardProfile.InterruptControllerSpec?) -> [DeviceSpec]? {
        guard let items = value.list("a list of devices", &diagnostics) else { return nil }
        var devices: [DeviceSpec] = []
        var lineOwners: [Int: String] = [:]
        for item in items {
            guard let device = readDevice(item, controller: controller?.kind) else { continue }
            devices.append(device.spec)
            for (route, location) in zip(device.spec.interrupts, device.routeLocations) {
                let owner = "\(device.spec.name).\(route.output)"
                if let controller, route.line >= controller.lineCount {
                    diagnostics.error(
                        "interrupt line \(route.line) of \(owner) is out of range: expected 0 to \(controller.lineCount - 1) (\(controller.kind.rawValue) has \(controller.lineCount) lines)",
                        at: location)
                } else if let other = lineOwners[route.line] {
                    diagnostics.error("interrupt line \(route.line) of \(owner) is already driven by \(other): expected one output per line", at: location)
                } else {
                    lineOwners[route.line] = owner
                }
            }
        }
        return devices
    }

    private func readDevice(_ item: YAMLValue, controller: InterruptControllerKind?) -> (spec: DeviceSpec, routeLocations: [SourceLocation])? {
        // The kind decides which keys are allowed, so read it before checking the rest.
        let kindNode = item.node.mapping?["kind"].map { YAMLValue($0, file: file) }
        var kind: (any DeviceKind)?
        if let kindNode {
            kind = kindNode.choice("a device kind", among: registry.names, &diagnostics).flatMap { registry[$0] }
        }
        // With an unknown kind, accept any kind's keys rather than flag each as unknown.
        let kindKeys = kind?.keys ?? registry.kinds.values.flatMap(\.keys)
        guard let mapping = item.mapping("a device", keys: Self.commonDeviceKeys + kindKeys, &diagnostics) else { return nil }
        if kindNode == nil { _ = mapping.required("kind", expecting: "one of \(registry.names.joined(separator: ", "))", &diagnostics) }
        let endianness = mapping.required("bus-endianness", expecting: "big or little (AXI IP is little)", &diagnostics).flatMap(readEndianness)
        if let name = mapping["name"]?.scalarText { declaredDeviceNames.append(name) }
        let region = readRegion(mapping, what: "device")
        let accessTime = mapping["access-time"].map { $0.duration(&diagnostics).map { UInt64($0) } } ?? DeviceSpec.defaultAccessTimeNanoseconds
        guard let kind else { return nil }
        let context = DeviceParseContext(deviceName: region?.name ?? "?", controller: controller)
        let parsed = kind.parse(mapping, context: context, &diagnostics)
        guard let region, let endianness, let parsed, let accessTime else { return nil }
        let spec = DeviceSpec(
            name: region.name, kind: kind.name, range: region.range, busEndianness: endianness,
            interrupts: parsed.interrupts.map(\.route), accessTimeNanoseconds: accessTime, parameters: parsed.parameters)
        return (spec, parsed.interrupts.map(\.location))
    }

    func readUIONodes(
        _ value: YAMLValue, devices: [DeviceSpec], memory: [BoardProfile.MemoryRegion], pool: BoardProfile.DMAPool?,
        reserved: [BoardProfile.ReservedRegion]
    ) -> [UIONodeSpec]? {
        guard let items = value.list("a list of UIO nodes", &diagnostics) else { return nil }
        // What a map may point at: any named window of the board.
        var regions = devices.map { ($0.name, $0.range) } + memory.map { ($0.name, $0.range) } + reserved.map { ($0.name, $0.range) }
        if let pool { regions.append((pool.name, pool.range)) }
        var names: Set<String> = []
        return items.compactMap { item -> UIONodeSpec? in
            guard let mapping = item.mapping("a UIO node", keys: Self.uioKeys, &diagnostics) else { return nil }
            let name = mapping.required("name", expecting: "the UIO device name (sysfs 'name')", &diagnostics)?.name(&diagnostics)
            if let name, !names.insert(name).inserted {
                diagnostics.error("duplicate UIO node '\(name)': expected each node once", at: mapping.keyLocation("name")!)
            }
            let deviceValue = mapping.required("device", expecting: "the name of a device", &diagnostics)
            var device: DeviceSpec?
            if let deviceValue, let deviceName = deviceValue.name(&diagnostics) {
                device = devices.first { $0.name == deviceName }
                if device == nil, !declaredNames.contains(deviceName) {
                    let known = declaredDeviceNames
                    diagnostics.error(
                        "UIO node '\(name ?? "?")' points at missing device '\(deviceName)': expected one of \(known.isEmpty ? "(no devices declared)" : known.joined(separator: ", "))",
                        at: deviceValue.location, suggestion: Suggestion.closest(to: deviceName, among: known))
                }
            }
            var interrupt: InterruptRoute?
            if let interruptValue = mapping["interrupt"], let output = interruptValue.name(&diagnostics), let device {
                interrupt = device.interrupt(named: output)
                if interrupt == nil {
                    let outputs = device.interrupts.map(\.output)
                    diagnostics.error(
                        "device '\(device.name)' has no interrupt output '\(output)': expected one of \(outputs.joined(separator: ", "))",
                        at: interruptValue.location, suggestion: Suggestion.closest(to: output, among: outputs))
                }
            }
            let maps = mapping.required("maps", expecting: "a list of 1 to \(UIONodeSpec.maximumMaps) maps", &diagnostics)
                .flatMap { readUIOMaps($0, node: name ?? "?", regions: regions) }
            guard let name, let device, let maps else { return nil }
            return UIONodeSpec(name: name, device: device.name, interrupt: interrupt, maps: maps)
        }
    }

    private func readUIOMaps(_ value: YAMLValue, node: String, regions: [(String, AddressRange)]) -> [UIONodeSpec.Map]? {
        guard let items = value.list("a list of maps", &diagnostics) else { return nil }
        if items.isEmpty { diagnostics.error("UIO node '\(node)' has no maps: expected 1 to \(UIONodeSpec.maximumMaps)", at: value.location) }
        if items.count > UIONodeSpec.maximumMaps {
            diagnostics.error(
                "too many maps: UIO node '\(node)' has \(items.count); expected at most \(UIONodeSpec.maximumMaps) (MAX_UIO_MAPS)",
                at: items[UIONodeSpec.maximumMaps].location)
        }
        let maps = items.compactMap { item -> UIONodeSpec.Map? in
            guard let mapping = item.mapping("a UIO map", keys: Self.uioMapKeys, &diagnostics) else { return nil }
            let name = mapping.required("name", expecting: "the map name (sysfs maps/mapN/name)", &diagnostics)?.name(&diagnostics)
            let regionValue = mapping.required("region", expecting: "the name of a device, memory region, reserved region or the DMA pool", &diagnostics)
            let offsetValue = mapping["offset"]
            let offset = offsetValue.map { $0.integer("an offset into the region", in: 0...UInt64.max, &diagnostics) } ?? 0
            let sizeValue = mapping["size"]
            let size = sizeValue?.size(&diagnostics)
            guard let name, let regionValue, let regionName = regionValue.name(&diagnostics), let offset, sizeValue == nil || size != nil else {
                return nil
            }
            guard let region = regions.first(where: { $0.0 == regionName })?.1 else {
                if declaredNames.contains(regionName) { return nil }  // broken, and reported already
                let known = regions.map(\.0)
                diagnostics.error(
                    "map '\(name)' of UIO node '\(node)' points at missing region '\(regionName)': expected a device, memory region, reserved region or the DMA pool",
                    at: regionValue.location, suggestion: Suggestion.closest(to: regionName, among: known))
                return nil
            }
            let length = size ?? (region.size > offset ? region.size - offset : 0)
            guard offset < region.size, length > 0, length <= region.size - offset,
                let range = AddressRange(base: region.base + offset, size: length)
            else {
                diagnostics.error(
                    "map '\(name)' runs outside region '\(regionName)' (\(Units.size(region.size))): expected offset + size within it",
                    at: offsetValue?.location ?? regionValue.location)
                return nil
            }
            // The region's own alignment is checked where it is declared.
            checkAlignment(start: offset, size: length, of: "map '\(name)' of UIO node '\(node)' (offset into '\(regionName)')", at: offsetValue?.location ?? regionValue.location)
            return UIONodeSpec.Map(name: name, region: regionName, range: range)
        }
        return maps.count == items.count ? maps : nil
    }
}
