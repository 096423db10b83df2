/// The canonical form of one trace event: one JSON object on one line, keys in a fixed order
/// (`t`, `ev`, then the event's fields in declaration order), integers in decimal, booleans as 0/1,
/// strings with the minimal JSON escapes, no spaces, `\n` at the end. Nothing in it depends on the
/// build, the platform or the wall clock, so the same events give the same bytes and the same hash
/// in debug and release builds.
///
/// `{"t":1250,"ev":"register","device":"axi-dma0","register":"S2MM_DMASR","offset":52,"value":4098,"access":"read"}`
final class CanonicalLine {
    /// Reused for every event: the line is built in place, so recording allocates nothing once the
    /// buffer has grown to the longest line. Raw memory rather than `[UInt8]`: appending byte by
    /// byte to an array checks its uniqueness each time, which cost more than the SHA-256.
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 512
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// The line just encoded (valid until the next `encode`).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    func encode(_ event: TraceEvent, at nanoseconds: Int64) {
        reserve(for: event)
        var w = Writer(storage)
        w.byte(UInt8(ascii: "{"))
        w.key("t", first: true)
        w.integer(nanoseconds)
        w.key("ev")
        w.string(event.kind)
        switch event {
        case let .register(device, register, offset, value, access):
            w.field("device", device)
            w.field("register", register)
            w.field("offset", Int64(offset))
            w.field("value", Int64(value))
            w.field("access", access.rawValue)
        case let .interruptLine(line, high):
            w.field("line", Int64(line))
            w.field("level", high ? 1 : 0)
        case let .uioRead(device, count, previous):
            w.field("device", device)
            w.field("count", Int64(count))
            w.field("previous", Int64(previous))
        case let .uioEnable(device, enabled):
            w.field("device", device)
            w.field("enabled", enabled ? 1 : 0)
        case let .uioInterrupt(device, count):
            w.field("device", device)
            w.field("count", Int64(count))
        case let .uioStorm(device, events):
            w.field("device", device)
            w.field("events", Int64(events))
        case let .dmaStart(channel, address, bytes):
            w.field("channel", channel)
            w.key("address")
            w.unsigned(address)
            w.field("bytes", Int64(bytes))
        case let .descriptorFetch(channel, address, next, buffer, control, status):
            w.field("channel", channel)
            w.key("address")
            w.unsigned(address)
            w.field("nxtdesc", Int64(next))
            w.field("buffer-address", Int64(buffer))
            w.field("control", Int64(control))
            w.field("status", Int64(status))
        case let .dmaDone(channel, bytes):
            w.field("channel", channel)
            w.field("bytes", Int64(bytes))
        case let .dmaError(channel, status):
            w.field("channel", channel)
            w.field("dmasr", Int64(status))
        case let .channelStatus(channel, control, status):
            w.field("channel", channel)
            w.field("dmacr", Int64(control))
            w.field("dmasr", Int64(status))
        case let .driverState(driver, from, to, code):
            w.field("driver", driver)
            w.field("from", from)
            w.field("to", to)
            w.field("code", Int64(code))
        case let .slotOwner(driver, slot, from, to):
            w.field("driver", driver)
            w.field("slot", Int64(slot))
            w.field("from", from)
            w.field("to", to)
        case let .bufferOwner(buffer, from, to):
            w.field("buffer", buffer)
            w.field("from", from)
            w.field("to", to)
        case let .bufferLifetime(buffer, address, bytes, live):
            w.field("buffer", buffer)
            w.key("address")
            w.unsigned(address)
            w.key("bytes")
            w.unsigned(bytes)
            w.field("live", live ? 1 : 0)
        case let .bufferSync(buffer, toDevice, offset, bytes):
            w.field("buffer", buffer)
            w.field("to", toDevice ? "device" : "cpu")
            w.key("offset")
            w.unsigned(offset)
            w.key("bytes")
            w.unsigned(bytes)
        case let .cpuAccess(buffer, offset, bytes, access):
            w.field("buffer", buffer)
            w.key("offset")
            w.unsigned(offset)
            w.key("bytes")
            w.unsigned(bytes)
            w.field("access", access.rawValue)
        case let .byteOrder(device, offset, access, assumed, deviceValue, cpuValue):
            w.field("device", device)
            w.field("offset", Int64(offset))
            w.field("access", access.rawValue)
            w.field("assumed", assumed)
            w.field("device-value", Int64(deviceValue))
            w.field("cpu-value", Int64(cpuValue))
        case let .lostInterrupts(driver, count):
            w.field("driver", driver)
            w.field("count", Int64(count))
        case let .fault(channel, fault):
            w.field("channel", channel)
            w.field("fault", fault)
        case let .finding(kind, severity, detail):
            w.field("kind", kind)
            w.field("severity", severity)
            w.field("detail", detail)
        case let .protocolFinding(rule, device, register, values):
            w.field("rule", rule)
            w.field("device", device)
            w.field("register", register)
            w.field("values", values)
        }
        w.byte(UInt8(ascii: "}"))
        w.byte(UInt8(ascii: "\n"))
        count = w.cursor - storage
    }

    /// Makes room for the longest form of `event`: every string fully escaped (6 bytes a byte),
    /// plus keys and numbers, which never exceed 256 bytes together.
    private func reserve(for event: TraceEvent) {
        var needed = 256
        func add(_ text: String) { needed += 6 * text.utf8.count + 2 }
        switch event {
        case let .register(device, register, _, _, _): add(device); add(register)
        case let .uioRead(device, _, _), let .uioEnable(device, _), let .uioInterrupt(device, _), let .uioStorm(device, _):
            add(device)
        case let .dmaStart(channel, _, _), let .dmaDone(channel, _), let .dmaError(channel, _), let .descriptorFetch(channel, _, _, _, _, _),
             let .channelStatus(channel, _, _):
            add(channel)
        case let .driverState(driver, from, to, _), let .slotOwner(driver, _, from, to): add(driver); add(from); add(to)
        case let .bufferOwner(buffer, from, to): add(buffer); add(from); add(to)
        case let .bufferLifetime(buffer, _, _, _), let .bufferSync(buffer, _, _, _), let .cpuAccess(buffer, _, _, _): add(buffer)
        case let .byteOrder(device, _, _, assumed, _, _): add(device); add(assumed)
        case let .lostInterrupts(driver, _): add(driver)
        case let .protocolFinding(rule, device, register, values): add(rule); add(device); add(register); add(values)
        case let .fault(channel, fault): add(channel); add(fault)
        case let .finding(kind, severity, detail): add(kind); add(severity); add(detail)
        case .interruptLine: break
        }
        guard needed > capacity else { return }
        storage.deallocate()
        capacity = max(needed, 2 * capacity)
        storage = .allocate(capacity: capacity)
    }
}

/// Writes into memory `CanonicalLine.reserve` made big enough: no bounds or uniqueness checks.
private struct Writer {
    var cursor: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { cursor = start }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        cursor.pointee = b
        cursor += 1
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        integer(value)
    }

    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { byte(UInt8(ascii: ",")) }
        byte(UInt8(ascii: "\""))
        cursor.update(from: name.utf8Start, count: name.utf8CodeUnitCount)
        cursor += name.utf8CodeUnitCount
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: ":"))
    }

    /// RFC 8259 string: `"` and `\` escaped, control characters as `\u00XX`, everything else
    /// (UTF-8 included) as is.
    mutating func string(_ value: String) {
        byte(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    byte(UInt8(ascii: "\\"))
                    byte(b)
                case 0..<0x20:
                    for escape in "\\u00".utf8 { byte(escape) }
                    byte(Writer.hexDigit(b >> 4))
                    byte(Writer.hexDigit(b & 0xF))
                default:
                    byte(b)
                }
            }
        }
        byte(UInt8(ascii: "\""))
    }

    mutating func integer(_ value: Int64) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            unsigned(value.magnitude)
        } else {
            unsigned(UInt64(value))
        }
    }

    /// Decimal digits, most significant first (UInt64 has at most 20).
    mutating func unsigned(_ value: UInt64) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        rest = value
        var i = digits - 1
        while i >= 0 {
            cursor[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            i -= 1
        }
        cursor += digits
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
}
