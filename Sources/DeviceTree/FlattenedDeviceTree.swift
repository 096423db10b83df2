import CFdt

extension DeviceTree {
    /// Larger inputs are refused before they are read: real device tree blobs are tens of KiB (the
    /// biggest in the kernel tree are under 1 MiB), and the sources a few hundred KiB.
    public static let maximumInputBytes = 16 << 20
    /// Nesting deeper than this is refused (real trees nest fewer than 10 levels).
    public static let maximumDepth = 64
    /// The magic number at offset 0 of a flattened device tree (Devicetree Specification v0.4,
    /// 5.2 "Header": 0xd00dfeed, big-endian).
    public static let magic: UInt32 = 0xD00D_FEED

    /// Whether `bytes` start like a flattened device tree (the magic number).
    public static func looksLikeBlob(_ bytes: some Collection<UInt8>) -> Bool {
        Array(bytes.prefix(4)) == [0xD0, 0x0D, 0xFE, 0xED]
    }

    /// Reads a flattened device tree (DTB) with libfdt. A pure function of its bytes: any input,
    /// however broken, gives a tree or one error naming what is wrong (the header field, or the node
    /// and property), never a crash. `file` only names the input in errors. This is the entry point a
    /// fuzzer drives.
    public static func parse(blob: [UInt8], file: String) -> Result<DeviceTree, DeviceTreeError> {
        let whole = DeviceTreeLocation(file: file)
        guard blob.count <= maximumInputBytes else {
            return .failure(DeviceTreeError(
                "\(describeSize(blob.count)) is too large for a device tree: expected at most \(describeSize(maximumInputBytes))", at: whole))
        }
        let headerSize = Int(uioemu_fdt_header_size())
        guard blob.count >= 4 else {
            return .failure(DeviceTreeError("truncated: \(blob.count) bytes, shorter than a device tree header (\(headerSize) bytes)", at: whole))
        }
        guard looksLikeBlob(blob) else {
            let found = blob.prefix(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            return .failure(DeviceTreeError("bad magic 0x\(found): expected 0xd00dfeed (a flattened device tree, from dtc -O dtb)", at: whole))
        }
        guard blob.count >= headerSize else {
            return .failure(DeviceTreeError("truncated: \(blob.count) bytes, shorter than a device tree header (\(headerSize) bytes)", at: whole))
        }
        // libfdt wants the blob 8-byte aligned; a copy into our own buffer guarantees it.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blob.count, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffer.copyBytes(from: blob)
        let fdt = UnsafeRawPointer(buffer.baseAddress!)
        let total = Int(uioemu_fdt_totalsize(fdt))
        if total > blob.count {
            return .failure(DeviceTreeError(
                "truncated: the header's totalsize is \(total) bytes, the file has \(blob.count)", at: DeviceTreeLocation(file: file, property: "header totalsize")))
        }
        let checked = fdt_check_full(fdt, blob.count)
        guard checked == 0 else {
            return .failure(DeviceTreeError(describe(libfdtError: checked, size: blob.count), at: DeviceTreeLocation(file: file, property: "structure")))
        }
        return walk(fdt, file: file)
    }

    /// The nodes and properties, in order; `fdt_check_full` has already accepted the structure.
    private static func walk(_ fdt: UnsafeRawPointer, file: String) -> Result<DeviceTree, DeviceTreeError> {
        var tree = DeviceTree(file: file, nodes: [])
        var depth: Int32 = 0
        var offset: Int32 = 0
        var stack: [Int] = []  // the open node at each depth
        // Bounded: libfdt moves forward through a structure block of at most maximumInputBytes, and
        // every node takes at least 8 bytes.
        let limit = maximumInputBytes / 8
        // fdt_next_node leaves depth below 0 once the root node ends.
        while offset >= 0, depth >= 0, tree.nodes.count < limit {
            guard Int(depth) <= maximumDepth else {
                let path = stack.last.map { tree.nodes[$0].path } ?? "/"
                return .failure(DeviceTreeError("nodes nest deeper than \(maximumDepth) levels", at: DeviceTreeLocation(file: file, node: path)))
            }
            var nameLength: Int32 = 0
            let name = fdt_get_name(fdt, offset, &nameLength).map { String(cString: $0) } ?? ""
            stack.removeLast(max(0, stack.count - Int(depth)))
            let parent = stack.last
            let path = parent.map { tree.nodes[$0].path == "/" ? "/\(name)" : "\(tree.nodes[$0].path)/\(name)" } ?? "/"
            var node = Node(name: parent == nil ? "" : name, path: path, index: tree.nodes.count, parent: parent)
            var property = fdt_first_property_offset(fdt, offset)
            while property >= 0, node.properties.count < limit {
                var propertyName: UnsafePointer<CChar>?
                var length: Int32 = 0
                guard let value = fdt_getprop_by_offset(fdt, property, &propertyName, &length), length >= 0, let propertyName else { break }
                let bytes = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
                node.properties.append(Property(name: String(cString: propertyName), value: bytes))
                property = fdt_next_property_offset(fdt, property)
            }
            if let parent { tree.nodes[parent].children.append(node.index) }
            let phandle = fdt_get_phandle(fdt, offset)
            if phandle != 0 && phandle != UInt32.max { tree.phandles[phandle] = node.index }
            stack.append(node.index)
            tree.nodes.append(node)
            offset = fdt_next_node(fdt, offset, &depth)
        }
        guard !tree.nodes.isEmpty else {
            return .failure(DeviceTreeError("no root node", at: DeviceTreeLocation(file: file, node: "/")))
        }
        tree.readSymbols()
        return .success(tree)
    }

    /// Labels from `/__symbols__`: each property names a label, its value a path.
    private mutating func readSymbols() {
        guard let symbols = node(atPath: "/__symbols__") else { return }
        for property in symbols.properties {
            guard let path = property.value.split(separator: 0).first.map({ String(decoding: $0, as: UTF8.self) }),
                let target = node(atPath: path)
            else { continue }
            labels[property.name] = target.index
        }
    }

    /// libfdt's error, said for a person (libfdt.h documents each code).
    static func describe(libfdtError code: Int32, size: Int) -> String {
        let text = String(cString: fdt_strerror(code))
        switch -code {
        case FDT_ERR_TRUNCATED: return "truncated: the structure runs past the end of the \(size) bytes (\(text))"
        case FDT_ERR_BADMAGIC: return "bad magic: expected 0xd00dfeed (\(text))"
        case FDT_ERR_BADVERSION: return "unsupported blob version: expected version 16 or 17, as dtc writes (\(text))"
        case FDT_ERR_BADOFFSET, FDT_ERR_BADLAYOUT:
            return "bad offsets: the header's block offsets or sizes point outside the blob or overlap (\(text))"
        case FDT_ERR_BADSTRUCTURE: return "bad structure block: a node or property tag is malformed (\(text))"
        default: return "not a valid device tree blob: \(text)"
        }
    }
}

/// `104857600 bytes (100.0 MiB)`.
func describeSize(_ bytes: Int) -> String {
    let mebibytes = Double(bytes) / Double(1 << 20)
    return "\(bytes) bytes (\((mebibytes * 10).rounded() / 10) MiB)"
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
