/// What an encoder of the canonical forms is given, field by field: both canonical forms (the JSON
/// line and the binary record) walk an event's fields through `TraceEvent.fields(into:)`, so they
/// cannot disagree on a field's order, name or type.
protocol CanonicalFieldWriter {
    /// A string field (JSON: a string).
    mutating func field(_ key: StaticString, _ value: String)
    /// A string field given as a name (JSON: a string; the same bytes as the name's `String`).
    mutating func field(_ key: StaticString, name value: TraceName)
    /// A signed integer field (JSON: a decimal, minus sign if negative; booleans are 0/1).
    mutating func field(_ key: StaticString, _ value: Int64)
    /// An unsigned 64-bit field (JSON: a decimal up to 18446744073709551615).
    mutating func field(_ key: StaticString, unsigned value: UInt64)
}

extension TraceEvent {
    /// The number of the event's kind in the binary record (`CanonicalRecords`): its place in the
    /// list of `TraceEvent`'s cases, from 1. Part of the hashed form: never renumber, add at the end.
    var kindNumber: UInt8 {
        switch self {
        case .register: 1
        case .interruptLine: 2
        case .uioRead: 3
        case .uioEnable: 4
        case .uioInterrupt: 5
        case .uioStorm: 6
        case .dmaStart: 7
        case .dmaDone: 8
        case .dmaError: 9
        case .channelStatus: 10
        case .driverState: 11
        case .slotOwner: 12
        case .bufferOwner: 13
        case .bufferLifetime: 14
        case .bufferSync: 15
        case .cpuAccess: 16
        case .byteOrder: 17
        case .lostInterrupts: 18
        case .fault: 19
        case .finding: 20
        case .protocolFinding: 21
        case .descriptorFetch: 22
        }
    }

    /// The event's fields after `t` and `ev`, in their canonical order (the JSON line's keys).
    @inline(__always)
    func fields<W: CanonicalFieldWriter>(into w: inout W) {
        switch self {
        case let .register(device, register, offset, value, access):
            w.field("device", name: device)
            w.field("register", name: register)
            w.field("offset", Int64(offset))
            w.field("value", Int64(value))
            w.field("access", name: access.traceName)
        case let .interruptLine(line, high):
            w.field("line", Int64(line))
            w.field("level", high ? 1 : 0)
        case let .uioRead(device, count, previous):
            w.field("device", name: device)
            w.field("count", Int64(count))
            w.field("previous", Int64(previous))
        case let .uioEnable(device, enabled):
            w.field("device", name: device)
            w.field("enabled", enabled ? 1 : 0)
        case let .uioInterrupt(device, count):
            w.field("device", name: device)
            w.field("count", Int64(count))
        case let .uioStorm(device, events):
            w.field("device", name: device)
            w.field("events", Int64(events))
        case let .dmaStart(channel, address, bytes):
            w.field("channel", name: channel)
            w.field("address", unsigned: address)
            w.field("bytes", Int64(bytes))
        case let .descriptorFetch(channel, address, next, buffer, control, status):
            w.field("channel", name: channel)
            w.field("address", unsigned: address)
            w.field("nxtdesc", Int64(next))
            w.field("buffer-address", Int64(buffer))
            w.field("control", Int64(control))
            w.field("status", Int64(status))
        case let .dmaDone(channel, bytes):
            w.field("channel", name: channel)
            w.field("bytes", Int64(bytes))
        case let .dmaError(channel, status):
            w.field("channel", name: channel)
            w.field("dmasr", Int64(status))
        case let .channelStatus(channel, control, status):
            w.field("channel", name: channel)
            w.field("dmacr", Int64(control))
            w.field("dmasr", Int64(status))
        case let .driverState(driver, from, to, code):
            w.field("driver", name: driver)
            w.field("from", name: from)
            w.field("to", name: to)
            w.field("code", Int64(code))
        case let .slotOwner(driver, slot, from, to):
            w.field("driver", name: driver)
            w.field("slot", Int64(slot))
            w.field("from", name: from)
            w.field("to", name: to)
        case let .bufferOwner(buffer, from, to):
            w.field("buffer", name: buffer)
            w.field("from", name: from)
            w.field("to", name: to)
        case let .bufferLifetime(buffer, address, bytes, live):
            w.field("buffer", name: buffer)
            w.field("address", unsigned: address)
            w.field("bytes", unsigned: bytes)
            w.field("live", live ? 1 : 0)
        case let .bufferSync(buffer, toDevice, offset, bytes):
            w.field("buffer", name: buffer)
            w.field("to", name: toDevice ? .device : .cpu)
            w.field("offset", unsigned: offset)
            w.field("bytes", unsigned: bytes)
        case let .cpuAccess(buffer, offset, bytes, access):
            w.field("buffer", name: buffer)
            w.field("offset", unsigned: offset)
            w.field("bytes", unsigned: bytes)
            w.field("access", name: access.traceName)
        case let .byteOrder(device, offset, access, assumed, deviceValue, cpuValue):
            w.field("device", name: device)
            w.field("offset", Int64(offset))
            w.field("access", name: access.traceName)
            w.field("assumed", assumed)
            w.field("device-value", Int64(deviceValue))
            w.field("cpu-value", Int64(cpuValue))
        case let .lostInterrupts(driver, count):
            w.field("driver", name: driver)
            w.field("count", Int64(count))
        case let .fault(channel, fault):
            w.field("channel", name: channel)
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
    }
}
