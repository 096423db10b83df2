import Board
import Devices
import Driver
import Reactor

/// Writes a `ScenarioSpec` back as a scenario file that `ScenarioParser` reads to the same spec
/// (`uioemu explore`'s reproducers). Block style, one key per line, the timeline's steps as flow
/// mappings where they have parameters; every string that is not a plain word is double-quoted
/// with YAML's escapes, so a description or a command word with any characters survives.
public enum ScenarioWriter {
    /// The file's text; `header` lines go first, as comments. `board` is what the `board:` key
    /// says (a name, or a profile path the reader can find from where the file is written).
    public static func yaml(_ spec: ScenarioSpec, board: String, header: [String] = []) -> String {
        var out = header.map { "# " + $0.replacingOccurrences(of: "\n", with: " ") }
        if !spec.description.isEmpty { out.append("description: \(quoted(spec.description))") }
        out.append("board: \(word(board))")
        out.append("seed: \(spec.seed)")
        if spec.workload.clock == .realTime { out.append("time: realtime") }
        out.append("duration: \(spec.duration)")
        if spec.mode != .attached { out.append("mode: \(spec.mode.rawValue)") }
        out += driver(spec)
        out += stream(spec.workload)
        if !spec.timeline.isEmpty {
            out.append("timeline:")
            for step in spec.timeline { out += self.step(step) }  // bounded: the spec's steps
        }
        if !spec.expectations.isEmpty {
            out.append("expect:")
            out += expectations(spec.expectations)
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func driver(_ spec: ScenarioSpec) -> [String] {
        let w = spec.workload
        var lines: [String] = []
        if let command = w.command {
            lines.append("  command: [\(command.map(word).joined(separator: ", "))]")
        } else {
            let d = w.driver
            if let node = w.uioNode { lines.append("  uio: \(word(node))") }
            lines.append("  ring: \(d.ringSize)")
            lines.append("  buffer-size: \(d.bufferBytes)")
            if let watchdog = d.watchdog { lines.append("  watchdog: \(watchdog)") }
            lines.append("  max-retries: \(d.maxRetries)")
            if w.consumer.processing > .zero || w.consumer.hold > 0 {
                lines.append("  consumer: { processing: \(w.consumer.processing), hold: \(w.consumer.hold) }")
            }
            if spec.mode == .sgReceive {
                lines.append("  coalesce: { threshold: \(d.coalescing.threshold), delay: \(d.coalescing.delay) }")
                if d.cyclic { lines.append("  cyclic: true") }
            }
            if let bug = d.plantedBug { lines.append("  bug: \(bug.rawValue)") }
        }
        return ["driver:"] + lines
    }

    private static func stream(_ w: WorkloadConfiguration) -> [String] {
        var lines = ["stream:"]
        let pattern: String
        switch w.source.pattern {
        case .counter: pattern = "counter"
        case .prbs31: pattern = "prbs31"
        case .none: pattern = "none"
        case .bytes: pattern = "counter"  // not a scenario pattern: scenario files cannot make one
        }
        lines.append("  pattern: \(pattern)")
        switch w.source.packetSize {
        case let .fixed(bytes): lines.append("  packet-size: \(bytes)")
        case let .range(range): lines.append("  packet-size: { min: \(range.lowerBound), max: \(range.upperBound) }")
        }
        lines.append("  rate: \(rate(w.source.rateBytesPerSecond))")
        if w.source.backPressure { lines.append("  back-pressure: true") }
        if let sinkRate = w.sink.rateBytesPerSecond { lines.append("  sink-rate: \(rate(sinkRate))") }
        switch w.loopback {
        case nil: break
        case .none?: lines.append("  loopback: true")
        case let .addToWords(add)?: lines.append("  loopback: { add: \(add) }")
        }
        return lines
    }

    /// `400000000 B/s`, or `unlimited`: exact, whatever the file said.
    static func rate(_ bytesPerSecond: UInt64?) -> String { bytesPerSecond.map { "\($0) B/s" } ?? "unlimited" }

    private static func step(_ step: ScenarioSpec.Step) -> [String] {
        var first: String
        switch step.trigger {
        case .next: first = "  -"
        case let .at(time): first = "  - at: \(time)\n   "
        case let .afterCompletions(n): first = "  - after: \(n) completions\n   "
        }
        let optional = step.optional ? "\n    optional: true" : ""
        return ["\(first) \(action(step.action))\(optional)"]
    }

    static func action(_ action: ScenarioSpec.Step.Action) -> String {
        switch action {
        case let .inject(fault, channel): return "inject: \(inject(fault, channel))"
        case .stop: return "do: stop"
        case let .write(register, value): return "write: { register: \(target(register)), value: \(hex(value))\(order(register)) }"
        case let .read(register, expect, mask):
            return "read: { register: \(target(register)), expect: \(hex(expect)), mask: \(hex(mask))\(order(register)) }"
        case let .waitIRQ(channel, within): return "wait-irq: { channel: \(channel.rawValue), within: \(within) }"
        case let .expectLine(channel, high): return "expect-line: { channel: \(channel.rawValue), level: \(high ? "high" : "low") }"
        case let .readMemory(check):
            let expected: String
            var offset = ""
            switch check.expected {
            case let .pattern(pattern, streamOffset):
                expected = pattern == .counter ? "counter" : "prbs31"
                if let streamOffset { offset = ", stream-offset: \(streamOffset)" }
            case let .bytes(bytes): expected = "[\(bytes.map { "\($0)" }.joined(separator: ", "))]"
            }
            return "read-memory: { address: 0x\(String(check.address, radix: 16)), bytes: \(check.bytes), expect: \(expected)\(offset) }"
        case let .advance(span): return "advance: \(span)"
        case let .workload(own):
            switch own {
            case let .setRate(rate): return "set-rate: \(self.rate(rate))"
            case .pauseSource: return "do: pause-source"
            case .resumeSource: return "do: resume-source"
            case .restartDriver: return "do: restart-driver"
            case .maskInterrupt: return "do: mask-irq"
            case .unmaskInterrupt: return "do: unmask-irq"
            case let .consumerStall(span): return "consumer-stall: \(span)"
            case let .cpuReadBuffer(slot): return "cpu-read-buffer: \(slot.map { "\($0)" } ?? "armed")"
            case let .freeBuffer(slot): return "free-buffer: \(slot)"
            case let .uioRead(read):
                let expected: String
                switch read.expected {
                case nil: expected = ""
                case let .count(n)?: expected = ", expect: \(n)"
                case let .error(errno)?: expected = ", expect: \(ScenarioSpec.UIOOutcome.name(of: errno))"
                }
                return "uio-read: { file: \(read.file), bytes: \(read.bytes), nonblocking: \(read.nonBlocking)\(expected) }"
            case let .uioWrite(write):
                let expected = write.expectedError.map { ", expect: \(ScenarioSpec.UIOOutcome.name(of: $0))" } ?? ""
                return "uio-write: { value: \(write.value), file: \(write.file), bytes: \(write.bytes)\(expected), repeat: \(write.times) }"
            }
        }
    }

    static func inject(_ fault: AXIDMAFault, _ channel: DMADirection) -> String {
        let parameters: String
        switch fault {
        case let .delayCompletion(by): parameters = ", by: \(by)"
        case let .shortPacket(bytes): parameters = ", bytes: \(bytes)"
        case let .corruptByte(offset, mask): parameters = ", offset: \(offset), mask: \(mask)"
        case .slaveError, .decodeError, .internalError, .stall, .delayInterrupt, .spuriousInterrupt, .lostInterrupt,
             .descriptorSlaveError, .descriptorDecodeError, .staleDescriptor: parameters = ""
        }
        let name = "\(fault)".prefix { $0 != "(" }
        return "{ fault: \(name), channel: \(channel.rawValue)\(parameters) }"
    }

    private static func target(_ register: ScenarioSpec.RegisterTarget) -> String {
        register.description?.name ?? hex(register.offset)
    }

    private static func order(_ register: ScenarioSpec.RegisterTarget) -> String { register.byteOrder == .big ? ", byte-order: big" : "" }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    private static func expectations(_ expectations: [ScenarioSpec.Expectation]) -> [String] {
        // Grouped by key, in the order first seen: `findings: { A: 0, B: 0 }`.
        var keys: [String] = []
        var groups: [String: [String]] = [:]
        var plain: [String: String] = [:]
        for e in expectations {  // bounded: the spec's expectations
            let key = e.metric.key
            if !keys.contains(key) { keys.append(key) }
            let value = comparison(e)
            switch e.metric {
            case let .bytesDropped(reason?): groups[key, default: []].append("\(reason): \(value)")
            case let .errors(kind?): groups[key, default: []].append("\(kind.rawValue): \(value)")
            case let .violations(kind?): groups[key, default: []].append("\(kind): \(value)")
            case let .findings(rule?): groups[key, default: []].append("\(rule): \(value)")
            case let .afterLastStep(counted): groups[key, default: []].append("\(counted): \(value)")
            default: plain[key] = value
            }
        }
        return keys.map { key in
            if let group = groups[key] { return "  \(key): { \(group.joined(separator: ", ")) }" }
            return "  \(key): \(plain[key] ?? "0")"
        }
    }

    private static func comparison(_ e: ScenarioSpec.Expectation) -> String {
        switch e.comparison {
        case let .text(text): return e.metric == .traceHash ? text : word(text)
        case let .number(.equal, value):
            return e.metric == .latencyP99Nanoseconds ? quoted("== \(value)ns") : "\(value)"
        case let .number(op, value):
            return quoted("\(op.rawValue) \(value)\(e.metric == .latencyP99Nanoseconds ? "ns" : "")")
        }
    }

    /// A plain scalar when `text` is one YAML reads back as the same string, else double-quoted.
    public static func word(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { s in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "-_./+@".unicodeScalars.contains(s))
        } && !(text.first.map { "-.".contains($0) } ?? false) && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(text.lowercased())
            && Int(text) == nil && Double(text) == nil
        return plain ? text : quoted(text)
    }

    /// A YAML double-quoted scalar: backslash, quote and every character below 0x20 (and DEL,
    /// C1 controls, line and paragraph separators, NEL) escaped.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {  // bounded by the text
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let v = scalar.value
                if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xFEFF {
                    out += v <= 0xFF ? "\\x" + hex2(v) : "\\u" + String(format4(v))
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex2(_ v: UInt32) -> String { (v < 0x10 ? "0" : "") + String(v, radix: 16) }
    private static func format4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
