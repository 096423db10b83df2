import Testing
@testable import Trace

/// `TraceEventKinds` names each kind's bit by number, apart from `TraceEvent.kindNumber`, which the
/// tracer uses to test an event against a sink's kinds: the two must agree, or a sink such as the
/// protocol checker would silently be given the wrong events.
@Suite("Trace event kinds")
struct TraceEventKindsTests {
    static let name = TraceName("kinds-test")

    /// One event of every kind, with the constant that names it.
    static let everyKind: [(TraceEvent, TraceEventKinds)] = [
        (.register(device: name, register: name, offset: 0, value: 0, access: .read), .register),
        (.interruptLine(line: 0, high: true), .interruptLine),
        (.uioRead(device: name, count: 1, previous: 0), .uioRead),
        (.uioEnable(device: name, enabled: true), .uioEnable),
        (.uioInterrupt(device: name, count: 1), .uioInterrupt),
        (.uioStorm(device: name, events: 1), .uioStorm),
        (.dmaStart(channel: name, address: 0, bytes: 1), .dmaStart),
        (.descriptorFetch(channel: name, address: 0, next: 0, buffer: 0, control: 0, status: 0), .descriptorFetch),
        (.dmaDone(channel: name, bytes: 1), .dmaDone),
        (.dmaError(channel: name, status: 0), .dmaError),
        (.channelStatus(channel: name, control: 0, status: 0), .channelStatus),
        (.driverState(driver: name, from: name, to: name, code: 0), .driverState),
        (.slotOwner(driver: name, slot: 0, from: name, to: name), .slotOwner),
        (.bufferOwner(buffer: name, from: name, to: name), .bufferOwner),
        (.bufferLifetime(buffer: name, address: 0, bytes: 1, live: true), .bufferLifetime),
        (.bufferSync(buffer: name, toDevice: true, offset: 0, bytes: 1), .bufferSync),
        (.cpuAccess(buffer: name, offset: 0, bytes: 1, access: .write), .cpuAccess),
        (.byteOrder(device: name, offset: 0, access: .read, assumed: "big", deviceValue: 1, cpuValue: 1 << 24), .byteOrder),
        (.lostInterrupts(driver: name, count: 1), .lostInterrupts),
        (.fault(channel: name, fault: "f"), .fault),
        (.finding(kind: "k", severity: "s", detail: "d"), .finding),
        (.protocolFinding(rule: "r", device: "d", register: "g", values: "v"), .protocolFinding),
    ]

    @Test func `every kind's constant is the bit of that kind's event, and no two kinds share a bit`() {
        var seen = TraceEventKinds()
        for (event, constant) in Self.everyKind {
            #expect(TraceEventKinds(of: event) == constant, "\(event.kind)")
            #expect(constant.rawValue.nonzeroBitCount == 1, "\(event.kind)")
            #expect(seen.isDisjoint(with: constant), "\(event.kind) shares a bit with another kind")
            seen.formUnion(constant)
        }
        #expect(Set(Self.everyKind.map { $0.0.kind }).count == Self.everyKind.count, "one event of each kind")
    }
}
