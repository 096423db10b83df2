/// The canonical form of one trace event: one JSON object on one line, keys in a fixed order
/// (`t`, `ev`, then the event's fields in declaration order), integers in decimal, booleans as 0/1,
/// strings with the minimal JSON escapes, no spaces, `\n` at the end. Nothing in it depends on the
/// build, the platform or the wall clock, so the same events give the same bytes and the same hash
/// in debug and release builds.
///
/// `{"t":1250,"ev":"register","device":"axi-dma0","register":"S2MM_DMASR","offset":52,"value":4098,"access":"read"}`
struct CanonicalLine {
    /// Reused for every event: the line is built in place, so recording allocates nothing once the
    /// buffer has grown to the longest line.
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(512) }

    mutating func encode(_ event: TraceEvent, at nanoseconds: Int64) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(UInt8(ascii: "{"))
        key("t", first: true)
        integer(nanoseconds)
        key("ev")
        string(event.kind)
        switch event {
        case let .register(device, register, offset, value, access):
            field("device", device)
            field("register", register)
            field("offset", Int64(offset))
            field("value", Int64(value))
            field("access", access.rawValue)
        case let .interruptLine(line, high):
            field("line", Int64(line))
            field("level", high ? 1 : 0)
        case let .uioRead(device, count):
            field("device", device)
            field("count", Int64(count))
        case let .uioEnable(device, enabled):
            field("device", device)
            field("enabled", enabled ? 1 : 0)
        case let .dmaStart(channel, address, bytes):
            field("channel", channel)
            key("address")
            unsigned(address)
            field("bytes", Int64(bytes))
        case let .dmaDone(channel, bytes):
            field("channel", channel)
            field("bytes", Int64(bytes))
        case let .dmaError(channel, status):
            field("channel", channel)
            field("dmasr", Int64(status))
        case let .channelStatus(channel, control, status):
            field("channel", channel)
            field("dmacr", Int64(control))
            field("dmasr", Int64(status))
        case let .driverState(driver, from, to, code):
            field("driver", driver)
            field("from", from)
            field("to", to)
            field("code", Int64(code))
        case let .slotOwner(driver, slot, from, to):
            field("driver", driver)
            field("slot", Int64(slot))
            field("from", from)
            field("to", to)
        case let .bufferOwner(buffer, from, to):
            field("buffer", buffer)
            field("from", from)
            field("to", to)
        case let .fault(channel, fault):
            field("channel", channel)
            field("fault", fault)
        case let .finding(kind, severity, detail):
            field("kind", kind)
            field("severity", severity)
            field("detail", detail)
        }
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
    }

    // MARK: pieces

    private mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    private mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        integer(value)
    }

    private mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// RFC 8259 string: `"` and `\` escaped, control characters as `\u00XX`, everything else
    /// (UTF-8 included) as is.
    private mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                case 0..<0x20:
                    for escape in "\\u00".utf8 { bytes.append(escape) }
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0xF)])
                default:
                    bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func integer(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            unsigned(value.magnitude)
        } else {
            unsigned(UInt64(value))
        }
    }

    /// Decimal digits, most significant first (UInt64 has at most 20).
    private mutating func unsigned(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
