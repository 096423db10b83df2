import Board

/// Writes an `ImportedBoard` as a board profile (boards/README.md): the sections in the shipped
/// profiles' order, each entry commented with the node it came from, values the device tree does
/// not carry marked as such, and the nodes not modelled listed at the end.
public enum ProfileText {
    /// Trailing comments start at this column when the line is shorter.
    static let commentColumn = 25

    public static func render(_ board: ImportedBoard) -> String {
        var out = Lines()
        for line in board.header { out.comment(line) }
        if !board.header.isEmpty { out.comment("") }
        out.comment("Imported from \(board.source) by uioemu board import.")
        out.line("name: \(board.name)")
        out.line("description: \(scalar(board.description.value))")
        out.blank()
        cpu(board.cpu, &out)
        out.blank()
        out.line("memory:")
        for region in board.memory {
            out.line("  - name: \(region.name)", region.path)
            out.line("    base: \(address(region.window.base))")
            out.line("    size: \(Units.size(region.window.size))")
        }
        out.blank()
        out.line("dma-pool:", board.pool.path + (board.pool.flags.isEmpty ? "" : " (\(board.pool.flags.joined(separator: ", ")))"))
        out.line("  name: \(board.pool.name)")
        out.line("  base: \(address(board.pool.window.base))")
        out.line("  size: \(Units.size(board.pool.window.size))")
        out.line("  coherent: \(board.pool.coherent.value)", board.pool.coherent.source)
        if !board.reserved.isEmpty {
            out.blank()
            out.line("reserved:")
            for region in board.reserved {
                out.line("  - name: \(region.name)", region.path)
                out.line("    base: \(address(region.window.base))")
                out.line("    size: \(Units.size(region.window.size))")
                if let note = region.note { out.line("    note: \(scalar(note))") }
            }
        }
        out.blank()
        let controller = board.controller
        out.line("interrupt-controller:", "\(controller.path) (\(controller.compatible))" + (controller.cascade.map { ", \($0)" } ?? ""))
        out.line("  kind: \(controller.kind)")
        out.line("  lines: \(controller.lines.value)", controller.lines.source)
        if !board.devices.isEmpty {
            out.blank()
            out.line("devices:")
            for device in board.devices { axiDMA(device, controller: controller.kind, &out) }
        }
        if !board.uio.isEmpty {
            out.blank()
            out.line("uio:")
            for node in board.uio { uio(node, &out) }
        }
        if !board.udmaBuffers.isEmpty {
            out.blank()
            out.line("u-dma-buf:")
            for buffer in board.udmaBuffers {
                out.line("  - name: \(buffer.name)", buffer.path)
                out.line("    size: \(Units.size(buffer.size))")
                out.line("    sync-mode: \(buffer.syncMode)")
                out.line("    dma-coherent: \(buffer.dmaCoherent)")
            }
        }
        if !board.skipped.isEmpty {
            out.blank()
            out.comment("Not modelled (\(board.skipped.count) \(board.skipped.count == 1 ? "node" : "nodes")):")
            for node in board.skipped { out.comment("  \(node.path)\(node.compatible.map { " (\($0))" } ?? ""): \(node.reason)") }
        }
        if !board.warnings.isEmpty {
            out.blank()
            out.comment("Warnings:")
            for warning in board.warnings { out.comment("  \(warning.location): \(warning.message)") }
        }
        return out.text
    }

    static func cpu(_ cpu: ImportedBoard.CPU, _ out: inout Lines) {
        out.line("cpu:", cpu.path)
        out.line("  core: \(cpu.core.value)", cpu.core.source)
        out.line("  cores: \(cpu.cores)")
        out.line("  clock: \(Units.frequency(cpu.clockHz.value))", cpu.clockHz.source)
        out.line("  endianness: big")
        out.line("  physical-address-bits: \(cpu.physicalAddressBits.value)", cpu.physicalAddressBits.source)
    }

    /// `kind: axi-dma`. The keys another profile reader may not know yet are written only when they
    /// differ from their defaults, all in `optionalAXIDMAKeys`.
    static func axiDMA(_ device: ImportedBoard.AXIDMA, controller: String, _ out: inout Lines) {
        out.line("  - name: \(device.name)", "\(device.path) (\(device.compatible))")
        out.line("    kind: axi-dma")
        out.line("    base: \(address(device.window.base))")
        out.line("    size: \(Units.size(device.window.size))")
        out.line("    bus-endianness: little")
        if let access = device.accessTimeNanoseconds { out.line("    access-time: \(access.value) ns", access.source) }
        out.line("    clock: \(Units.frequency(device.clockHz.value))", device.clockHz.source)
        out.line("    data-width-bytes: \(device.dataWidthBytes.value)", device.dataWidthBytes.source)
        out.line("    fifo-depth: \(Units.size(device.fifoDepthBytes.value))", device.fifoDepthBytes.source)
        out.line("    length-width-bits: \(device.lengthWidthBits.value)", device.lengthWidthBits.source)
        if let setup = device.setupCycles { out.line("    setup-cycles: \(setup.value)", setup.source) }
        for (key, value, source) in optionalAXIDMAKeys(device) { out.line("    \(key): \(value)", source) }
        for (output, delay) in device.irqDelay.sorted(by: { $0.key < $1.key }) {
            out.comment("xlnx,irq-delay (\(output)): \(delay) as Linux reads it (one byte); the profile has no key for it yet", indent: 4)
        }
        for channel in device.channels {
            out.line("    \(channel.output):")
            out.line("      interrupt: \(channel.line)", channel.specifier)
            out.line("      sense: \(channel.senseCell)", "\(controller) cell \(channel.senseCell): \(channel.senseName)")
            if let stream = channel.stream { out.line("      stream: \(stream)", "uioemu,stream") }
        }
    }

    /// `scatter-gather` (default false), `address-width-bits` (default 32) and `dre` (default false):
    /// only when they differ, so profiles read by a loader without these keys still load.
    static func optionalAXIDMAKeys(_ device: ImportedBoard.AXIDMA) -> [(key: String, value: String, source: String?)] {
        var keys: [(String, String, String?)] = []
        if device.scatterGather { keys.append(("scatter-gather", "true", "xlnx,include-sg")) }
        if device.addressWidthBits != 32 { keys.append(("address-width-bits", "\(device.addressWidthBits)", "xlnx,addrwidth")) }
        if device.dre { keys.append(("dre", "true", "xlnx,include-dre")) }
        return keys
    }

    static func uio(_ node: ImportedBoard.UIONode, _ out: inout Lines) {
        out.line("  - name: \(node.name)", node.path)
        out.line("    device: \(node.device)")
        if let interrupt = node.interrupt { out.line("    interrupt: \(interrupt)") }
        out.line("    maps:")
        for map in node.maps {
            out.line("      - name: \(map.name)")
            out.line("        region: \(map.region)")
            if map.offset != 0 { out.line("        offset: \(address(map.offset))") }
            if let size = map.size { out.line("        size: \(Units.size(size))") }
        }
    }

    /// `0x0`, else at least eight hex digits grouped by four (`0x3c00_0000`, `0xf_ffb0_0000`).
    static func address(_ value: UInt64) -> String {
        value == 0 ? "0x0" : PhysicalAddress.hex(value, digits: 8)
    }

    /// A string as a YAML plain scalar when that reads back the same, else double-quoted.
    static func scalar(_ text: String) -> String {
        let special: Set<Character> = ["[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "#", "-", "?", ":", ","]
        let plain = !text.isEmpty && !special.contains(text.first!) && !text.contains(": ") && !text.contains(" #")
            && text.trimmingSpaces == text && !["true", "false", "null", "~", "yes", "no"].contains(text.lowercased())
            && YAMLValue.parseInteger(text) == nil && text.allSatisfy { $0 != "\n" && $0 != "\t" }
        if plain { return text }
        let escaped = text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        return "\"\(escaped)\""
    }

    /// Lines with their trailing comments aligned.
    struct Lines {
        var text = ""

        mutating func line(_ content: String, _ comment: String? = nil) {
            guard let comment, !comment.isEmpty else {
                text += content + "\n"
                return
            }
            let padding = max(2, ProfileText.commentColumn - content.count)
            text += content + String(repeating: " ", count: padding) + "# " + comment + "\n"
        }

        mutating func comment(_ content: String, indent: Int = 0) {
            text += String(repeating: " ", count: indent) + (content.isEmpty ? "#" : "# " + content) + "\n"
        }

        mutating func blank() { text += "\n" }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var result = Substring(self)
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return String(result)
    }
}
