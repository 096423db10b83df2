import Board
import Devices
import Foundation
import SystemPackage

/// The script steps beyond write/read/wait-irq: `expect-line`, `read-memory`, `uio-read` and
/// `uio-write`, and register targets by name or by any offset in the window.
extension Reader {
    static let uioErrnoNames = ScenarioSpec.UIOOutcome.errnos.map(\.name)

    /// A register name from PG021's table, or a 4-aligned offset (a reserved one reads 0 and ignores
    /// writes; whether it lies inside the window is the board's to say, when the step runs).
    mutating func registerTarget(_ v: YAMLValue) -> ScenarioSpec.RegisterTarget? {
        let map = AXIDMARegisterMap(lengthWidthBits: 26)
        // The scatter-gather registers (CURDESC, TAILDESC and their MSB halves) by name too: on a
        // core built without scatter-gather their offsets are reserved (read 0, writes ignored).
        let sgMap = AXIDMARegisterMap(lengthWidthBits: 26, scatterGather: true)
        if let text = v.scalarText,
           let register = map.registers.first(where: { $0.name == text }) ?? sgMap.registers.first(where: { $0.name == text }) {
            return ScenarioSpec.RegisterTarget(offset: register.offset, description: register)
        }
        if let text = v.scalarText, let offset = YAMLValue.parseInteger(text) {
            guard offset <= 0xFFFF_FFFC, offset % 4 == 0 else {
                return v.mismatch("a 4-aligned offset inside the device window (registers are 32-bit words)", &diagnostics)
            }
            return ScenarioSpec.RegisterTarget(offset: UInt32(offset), description: map.register(at: UInt32(offset)))
        }
        let names = map.registers.map(\.name) + sgMap.registers.map(\.name).filter { name in !map.registers.contains { $0.name == name } }
        return v.mismatch("a register name (\(names.joined(separator: ", "))) or an offset in the window", &diagnostics,
                          suggestion: v.scalarText.flatMap { Suggestion.closest(to: $0, among: names) })
    }

    /// The steps of this file, or nil when `key` is not one of them.
    mutating func scriptStep(_ key: String, _ v: YAMLValue, mode: ScenarioSpec.Mode, defaultChannel: DMADirection) -> ScenarioSpec.Step.Action? {
        switch key {
        case "expect-line":
            guard let m = v.mapping("the expect-line step", keys: ["channel", "level"], &diagnostics) else { return nil }
            let channel = m["channel"].flatMap { $0.choice("the channel", among: ["mm2s", "s2mm"], &diagnostics) }.flatMap(DMADirection.init(rawValue:))
                ?? defaultChannel
            guard let level = m.required("level", expecting: "high or low", &diagnostics)?.choice("the level", among: ["high", "low"], &diagnostics)
            else { return nil }
            return .expectLine(channel: channel, high: level == "high")
        case "read-memory":
            return readMemory(v)
        case "uio-read", "uio-write":
            if mode != .script {
                diagnostics.error("\(key) acts on the UIO node's files in mode: script; in mode: \(mode.rawValue) the driver owns its own file", at: v.location)
                return nil
            }
            return key == "uio-read" ? uioRead(v) : uioWrite(v)
        default:
            return nil
        }
    }

    private mutating func readMemory(_ v: YAMLValue) -> ScenarioSpec.Step.Action? {
        guard let m = v.mapping("the read-memory step", keys: ["address", "bytes", "expect", "stream-offset"], &diagnostics) else { return nil }
        let address = m.required("address", expecting: "a physical address", &diagnostics)?.integer("a physical address", in: 0...UInt64.max, &diagnostics)
        let bytes = m.required("bytes", expecting: "a byte count", &diagnostics)?.integer("a byte count (1 to 64 MiB)", in: 1...67_108_864, &diagnostics)
        let streamOffset = m["stream-offset"].flatMap { $0.integer("a stream offset in bytes", in: 0...UInt64.max, &diagnostics) }
        guard let expectValue = m.required("expect", expecting: "counter, prbs31 or a list of bytes", &diagnostics) else { return nil }
        var expected: ScenarioSpec.MemoryCheck.Expected?
        if let items = expectValue.node.sequence.map({ _ in expectValue.list("a list of bytes", &diagnostics) ?? [] }) {
            let values = items.compactMap { $0.integer("a byte (0 to 255)", in: 0...255, &diagnostics).map(UInt8.init) }
            if values.count == items.count { expected = .bytes(values) }
        } else if let text = expectValue.scalarText, text == "counter" || text == "prbs31" {
            expected = .pattern(text == "counter" ? .counter : .prbs31(), streamOffset: streamOffset)
        } else if let text = expectValue.scalarText, let hexBytes = Self.hexBytes(text) {
            expected = .bytes(hexBytes)
        } else {
            _ = expectValue.mismatch("counter, prbs31, a list of bytes ([0x00, 0x01]) or hex digits (\"00 01 02 03\")", &diagnostics) as Int?
        }
        guard let address, let bytes, let expected else { return nil }
        if case let .bytes(list) = expected, list.count != Int(bytes) {
            diagnostics.error("expected \(bytes) bytes to compare (bytes: \(bytes)), found \(list.count)", at: expectValue.location)
            return nil
        }
        return .readMemory(ScenarioSpec.MemoryCheck(address: address, bytes: Int(bytes), expected: expected))
    }

    /// `00 01 02 03` or `00010203`: pairs of hex digits.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = text.filter { !$0.isWhitespace }
        guard !digits.isEmpty, digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {  // bounded: two digits a step
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    private mutating func fileNumber(_ m: YAMLMapping) -> Int? {
        guard let v = m["file"] else { return 0 }
        return v.integer("a file number (0 to 15)", in: 0...15, &diagnostics).map(Int.init)
    }

    private mutating func uioRead(_ v: YAMLValue) -> ScenarioSpec.Step.Action? {
        guard let m = v.mapping("the uio-read step", keys: ["file", "bytes", "nonblocking", "expect"], &diagnostics) else { return nil }
        let file = fileNumber(m)
        let bytes = m["bytes"].map { $0.integer("a buffer size in bytes", in: 0...4096, &diagnostics) } ?? 4
        let nonBlocking = m["nonblocking"].map { $0.bool(&diagnostics) } ?? false
        var expected: ScenarioSpec.UIOOutcome?
        if let e = m["expect"] {
            if let text = e.scalarText, let errno = ScenarioSpec.UIOOutcome.errnos.first(where: { $0.name == text }) {
                expected = .error(errno.errno)
            } else if let text = e.scalarText, let n = YAMLValue.parseInteger(text), n <= UInt64(Int32.max) {
                expected = .count(Int32(n))
            } else {
                _ = e.mismatch("the count the read returns, or an errno (\(Self.uioErrnoNames.joined(separator: ", ")))", &diagnostics,
                               suggestion: e.scalarText.flatMap { Suggestion.closest(to: $0, among: Self.uioErrnoNames) }) as Int?
                return nil
            }
        }
        guard let file, let bytes, let nonBlocking else { return nil }
        return .workload(.uioRead(ScenarioSpec.UIORead(file: file, bytes: Int(bytes), nonBlocking: nonBlocking, expected: expected)))
    }

    private mutating func uioWrite(_ v: YAMLValue) -> ScenarioSpec.Step.Action? {
        if v.node.mapping == nil {
            guard let value = v.integer("0 (disable) or 1 (enable)", in: 0...1, &diagnostics) else { return nil }
            return .workload(.uioWrite(ScenarioSpec.UIOWrite(file: 0, value: UInt32(value), bytes: 4, expectedError: nil, times: 1)))
        }
        guard let m = v.mapping("the uio-write step", keys: ["value", "file", "bytes", "expect", "repeat"], &diagnostics) else { return nil }
        let times = m["repeat"].map { $0.integer("a repeat count (1 to 100000)", in: 1...100_000, &diagnostics) } ?? 1
        let value = m.required("value", expecting: "0 (disable) or 1 (enable)", &diagnostics)?.integer("a 32-bit value", in: 0...0xFFFF_FFFF, &diagnostics)
        let file = fileNumber(m)
        let bytes = m["bytes"].map { $0.integer("a buffer size in bytes", in: 0...4096, &diagnostics) } ?? 4
        var expectedError: Errno?
        if let e = m["expect"] {
            guard let name = e.choice("an errno", among: Self.uioErrnoNames, &diagnostics) else { return nil }
            expectedError = ScenarioSpec.UIOOutcome.errnos.first { $0.name == name }?.errno
        }
        guard let value, let file, let bytes, let times else { return nil }
        return .workload(.uioWrite(ScenarioSpec.UIOWrite(file: file, value: UInt32(value), bytes: Int(bytes), expectedError: expectedError,
                                                         times: Int(times))))
    }
}
