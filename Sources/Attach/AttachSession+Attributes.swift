import Board
import CAttachProtocol
import UIO

// u-dma-buf's sysfs attributes, live: what reading one shows and what writing one does.
//
// u-dma-buf (ikwzm): `sync_offset`, `sync_size` and `sync_direction` select the range and
// direction; writing 1 to `sync_for_cpu` or `sync_for_device` syncs that range. A larger value
// written to either carries its own range (bits 63..32 the offset, bits 31..4 the size, bits 3..2
// the direction, bit 0 set). `sync_owner` shows who owns the buffer now.
extension AttachSession {
    func attributeText(_ attribute: BufferAttribute) -> String {
        let buffer = attribute.buffer
        let settings = syncSettings[ObjectIdentifier(buffer)] ?? BufferSyncSettings(size: buffer.size)
        let digits = board.profile.cpu.physicalAddressBits > 32 ? 16 : 8
        switch attribute.name {
        case "phys_addr":
            let hex = String(buffer.physicalAddress.rawValue, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - hex.count)) + hex + "\n"
        case "size": return "\(buffer.size)\n"
        case "sync_mode": return "\(settings.mode)\n"
        case "sync_offset": return "0x" + String(settings.offset, radix: 16) + "\n"
        case "sync_size": return "\(settings.size)\n"
        case "sync_direction": return "\(settings.direction)\n"
        case "sync_owner": return buffer.owner == .device ? "1\n" : "0\n"
        case "dma_coherent": return buffer.isCoherent ? "1\n" : "0\n"
        default: return "0\n"  // sync_for_cpu, sync_for_device read back as 0
        }
    }

    /// Bytes the program wrote to `attribute` (one write, or what a pipe held: one value a line).
    func apply(_ bytes: [UInt8], to attribute: BufferAttribute) {
        guard !bytes.isEmpty else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == " " }) {  // bounded: the bytes written
            guard let value = parseNumber(String(line)) else {
                notes.append("ignored \"\(excerpt(String(line)))\" written to \(attribute.buffer.name)/\(attribute.name): not a number (the kernel answers EINVAL)")
                continue
            }
            apply(value, to: attribute)
        }
    }

    private func apply(_ value: UInt64, to attribute: BufferAttribute) {
        let buffer = attribute.buffer
        let key = ObjectIdentifier(buffer)
        var settings = syncSettings[key] ?? BufferSyncSettings(size: buffer.size)
        switch attribute.name {
        case "sync_mode": settings.mode = Int(value & 0xFF)
        case "sync_offset": settings.offset = value
        case "sync_size": settings.size = value
        case "sync_direction": settings.direction = Int(value & 3)
        case "sync_for_cpu", "sync_for_device":
            guard value != 0 else { break }
            var offset = settings.offset
            var size = settings.size
            if value != 1 {
                offset = value >> 32
                size = value & 0xFFFF_FFF0
            }
            let toDevice = attribute.name == "sync_for_device"
            let done = toDevice ? buffer.syncForDevice(offset: offset, length: size) : buffer.syncForCPU(offset: offset, length: size)
            if let error = done {
                notes.append("\(buffer.name)/\(attribute.name): \(error) (the kernel answers EINVAL)")
            } else if !buffer.isCoherent {
                // Device-owned pages are inaccessible to every attached process, so a CPU touch
                // without sync_for_cpu is caught at the instruction.
                let change = protection(buffer, accessible: !toDevice)
                for p in processes where !p.isGone { p.pendingProtection.append(change) }
            }
        default: break
        }
        syncSettings[key] = settings
    }

    /// What the program wrote into attribute pipes since the last look: applied before any request,
    /// so a sync written with stdio lands before the next register access or buffer touch.
    func drainAttributeWriters() {
        // Most requests find no attribute open for writing (a driver opens sync_for_cpu, writes
        // and closes it): then there is nothing to look at.
        guard attributeWriters > 0 else { return }
        for p in processes where !p.isGone {
            for (_, handle) in p.handles {
                if case let .attribute(attribute, writer?) = handle {
                    apply(AttachSystemCalls.drainPipe(writer), to: attribute)
                }
            }
        }
    }

    private func parseNumber(_ text: String) -> UInt64? {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        let t = text.drop(while: blank).reversed().drop(while: blank).reversed().map(String.init).joined()
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
        return UInt64(t)
    }

    func excerpt(_ text: String) -> String {
        let short = text.prefix(24)
        let escaped = short.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
        return escaped + (text.count > 24 ? "…" : "")
    }
}

