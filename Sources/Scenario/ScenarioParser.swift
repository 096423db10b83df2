import Board
import Checks
import Devices
import Driver
import Foundation
import Reactor

/// Reads scenario files (`scenarios/*.yaml`) into `ScenarioSpec`s. Every problem is reported with
/// file:line:column and what was expected, all of them, not only the first (the board loader's
/// readers and diagnostics, shared).
public enum ScenarioParser {
    static let topKeys = ["name", "description", "board", "seed", "time", "duration", "mode", "driver", "stream", "timeline", "expect"]
    static let driverKeys = ["uio", "ring", "buffer-size", "watchdog", "max-retries", "consumer", "command", "bug", "coalesce", "cyclic"]
    /// `driver: { coalesce: ... }` (mode: sg-receive): DMACR.IRQThreshold and IRQDelay.
    static let coalesceKeys = ["threshold", "delay"]
    /// The planted bugs each built-in driver can make.
    static let sgBugs: [PlantedBug] = [.descriptorByteOrder]
    static let consumerKeys = ["processing", "hold"]
    static let streamKeys = ["pattern", "packet-size", "rate", "back-pressure", "sink-rate", "loopback"]
    static let triggerKeys = ["at", "after"]
    /// Keys any step may have besides its trigger and its action.
    static let stepOptionKeys = ["optional"]
    static let actionKeys = ["inject", "set-rate", "do", "consumer-stall", "cpu-read-buffer", "free-buffer", "write", "read", "wait-irq",
                             "expect-line", "read-memory", "uio-read", "uio-write", "advance"]
    static let simpleActions = ["pause-source", "resume-source", "restart-driver", "mask-irq", "unmask-irq", "stop"]
    public static let faultNames = ["slave-error", "decode-error", "internal-error", "stall", "delay-completion", "short-packet",
                             "corrupt-byte", "delay-interrupt", "spurious-interrupt", "lost-interrupt",
                             "descriptor-slave-error", "descriptor-decode-error", "stale-descriptor"]
    /// Faults of the scatter-gather engine: they need mode: sg-receive (or a profile with scatter-gather).
    static let descriptorFaultNames = ["descriptor-slave-error", "descriptor-decode-error", "stale-descriptor"]
    public static let metricKeys = ["completions", "bytes-delivered", "bytes-dropped", "lost-irqs", "spurious-irqs", "recoveries", "errors",
                             "violations", "mismatched-bytes", "verified-bytes", "storms", "latency-p99", "script-failures", "delay-irqs",
                             "driver-state", "trace-hash", "findings", "enables-with-cause-asserted", "after-last-step"]
    /// What `after-last-step` counts.
    static let afterLastStepKeys = ["completions", "bytes-delivered", "verified-bytes"]

    public static let durationExpectation = DurationText.expectation
    public static let rateExpectation = "a rate: a number and B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s or GiB/s (such as 400 MB/s), or unlimited"

    /// Whether a scenario may name a test-only planted bug (`PlantedBug.isTestOnly`, explore's
    /// planted-bug tests): only with UIOEMU_TEST_ONLY_BUGS=1 in the environment.
    public static var testOnlyBugsAllowed: Bool { ProcessInfo.processInfo.environment[PlantedBug.testOnlyVariable] == "1" }

    /// Parses `text`; the register names of script steps come from the AXI DMA register table.
    /// `testOnlyBugs`: accept `driver: { bug: ... }` naming a test-only planted bug.
    public static func parse(_ text: String, file: String, testOnlyBugs: Bool = testOnlyBugsAllowed) throws(Diagnostics) -> ScenarioSpec {
        var diagnostics = Diagnostics()
        let document = YAMLDocument(text: text, file: file, diagnostics: &diagnostics)
        guard let root = document.root else {
            if diagnostics.isEmpty { diagnostics.error("empty scenario: expected a mapping with board, duration and timeline", at: SourceLocation(file: file, line: 1, column: 1)) }
            throw diagnostics
        }
        var reader = Reader(diagnostics: diagnostics, testOnlyBugs: testOnlyBugs)
        let spec = reader.scenario(root, file: file)
        guard reader.diagnostics.isEmpty, let spec else { throw reader.diagnostics }
        return spec
    }

    public static func load(path: String, testOnlyBugs: Bool = testOnlyBugsAllowed) throws(Diagnostics) -> ScenarioSpec {
        try parse(InputFile.read(path, what: "a scenario"), file: path, testOnlyBugs: testOnlyBugs)
    }

    /// Parses a rate: `400 MB/s`, `390 MiB/s`, `unlimited` (nil inside `.some`).
    public static func rate(_ text: String) -> UInt64?? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "unlimited" { return .some(nil) }
        let units: [(String, Double)] = [("GiB/s", 1_073_741_824), ("MiB/s", 1_048_576), ("KiB/s", 1024), ("GB/s", 1e9), ("MB/s", 1e6),
                                         ("kB/s", 1e3), ("B/s", 1)]
        for (unit, scale) in units where t.hasSuffix(unit) {
            let number = t.dropLast(unit.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value > 0 else { return nil }
            let bytes = value * scale
            guard bytes >= 1, bytes <= 1e12, bytes == bytes.rounded() || scale > 1 else { return nil }
            return .some(UInt64(bytes.rounded()))
        }
        return nil
    }
}

struct Reader {
    var diagnostics: Diagnostics
    var testOnlyBugs = false

    mutating func scenario(_ root: YAMLValue, file: String) -> ScenarioSpec? {
        guard let top = root.mapping("the scenario", keys: ScenarioParser.topKeys, &diagnostics) else { return nil }
        let defaultName = String(file.split(separator: "/").last ?? Substring(file)).replacingOccurrences(of: ".yaml", with: "")
        let name = top["name"].flatMap { $0.name(&diagnostics) } ?? defaultName
        let description = top["description"].flatMap { $0.string(&diagnostics) } ?? ""
        let boardValue = top.required("board", expecting: "a shipped board's name or a profile path", &diagnostics)
        let board = boardValue.flatMap { $0.string(&diagnostics, expected: "a shipped board's name or a profile path") }
        let seed = top["seed"].flatMap { $0.integer("a seed (a whole number)", in: 0...UInt64.max, &diagnostics) } ?? 1
        var workload = WorkloadConfiguration()
        if top["time"].flatMap({ $0.choice("the time mode", among: ["virtual", "realtime"], &diagnostics) }) == "realtime" {
            workload.clock = .realTime
        }
        let durationValue = top.required("duration", expecting: ScenarioParser.durationExpectation, &diagnostics)
        var runDuration = durationValue.flatMap { duration($0) }
        if let span = runDuration, let durationValue, span <= .zero {
            diagnostics.error("expected a duration above 0, found \(span): a run of no board time plays nothing and checks nothing", at: durationValue.location)
            runDuration = nil
        }
        let modeText = top["mode"].flatMap { $0.choice("the mode", among: ScenarioSpec.Mode.allCases.map(\.rawValue), &diagnostics) }
        var mode = modeText.flatMap(ScenarioSpec.Mode.init(rawValue:)) ?? .receive
        if let driver = top["driver"] { readDriver(driver, into: &workload, file: file, mode: mode) }
        if workload.command != nil {
            // An external driver replaces the built-in one: the run attaches it.
            if let modeValue = top["mode"], modeText != nil, mode != .attached {
                diagnostics.error("mode: \(mode.rawValue) runs the built-in driver, but driver: names a command: drop mode, or write mode: attached",
                                  at: modeValue.location)
            }
            mode = .attached
        } else if mode == .attached, let modeValue = top["mode"] {
            diagnostics.error("mode: attached needs driver: { command: [program, arguments...] }", at: modeValue.location)
        }
        if let stream = top["stream"] { readStream(stream, into: &workload) }
        let timeline = top["timeline"].map { readSteps($0, mode: mode) } ?? []
        let expected = top["expect"].map { readExpectations($0) } ?? []
        guard let board, let boardValue, let runDuration else { return nil }
        var spec = ScenarioSpec(name: name, file: file, description: description, board: board, boardLocation: boardValue.location,
                                seed: seed, duration: runDuration, mode: mode, workload: workload, timeline: timeline, expectations: expected)
        ScenarioChecks.check(spec, &diagnostics)
        spec.durationLocation = durationValue?.location ?? boardValue.location
        return spec
    }

    mutating func duration(_ value: YAMLValue) -> TimeSpan? {
        guard let text = value.scalarText, let span = DurationText.parse(text) else {
            return value.mismatch(ScenarioParser.durationExpectation, &diagnostics)
        }
        return span
    }

    mutating func rate(_ value: YAMLValue) -> UInt64?? {
        guard let text = value.scalarText, let rate = ScenarioParser.rate(text) else {
            return value.mismatch(ScenarioParser.rateExpectation, &diagnostics)
        }
        return rate
    }

    /// The `driver:` section: the UIO node, the driver's configuration and the consumer's pace; or
    /// an external driver's command.
    mutating func readDriver(_ value: YAMLValue, into w: inout WorkloadConfiguration, file: String, mode: ScenarioSpec.Mode) {
        guard let m = value.mapping("the driver section", keys: ScenarioParser.driverKeys, &diagnostics) else { return }
        if let v = m["command"] { w.command = command(v, file: file) }
        if let v = m["uio"] { w.uioNode = v.name(&diagnostics) }
        let sg = mode == .sgReceive
        if let v = m["bug"] {
            // Each driver makes the mistakes it has code for: a bug it cannot make would plant nothing.
            let bugs = sg ? ScenarioParser.sgBugs : PlantedBug.allCases.filter { !ScenarioParser.sgBugs.contains($0) }
            if let name = v.choice(sg ? "a planted bug of the scatter-gather driver" : "a planted bug", among: bugs.map(\.rawValue), &diagnostics),
               let bug = PlantedBug(rawValue: name) {
                if bug.isTestOnly && !testOnlyBugs {
                    diagnostics.error("bug: \(name) is a test-only planted bug (explore's planted-bug tests): set \(PlantedBug.testOnlyVariable)=1 to play it",
                                      at: v.location)
                } else {
                    w.driver.plantedBug = bug
                }
            }
        }
        for key in ["coalesce", "cyclic"] where !sg {
            if let v = m[key] {
                diagnostics.error("'\(key)' configures the scatter-gather receive driver: expected mode: sg-receive beside it", at: v.location)
            }
        }
        if let v = m["coalesce"], sg, let c = v.mapping("the coalesce section", keys: ScenarioParser.coalesceKeys, &diagnostics) {
            // PG021 DMACR.IRQThreshold: 0x01 minimum (a write of 0 has no effect); IRQDelay 0 turns the delay timer off.
            if let t = c["threshold"], let n = t.integer("an interrupt threshold in packets (DMACR.IRQThreshold)", in: 1...255, &diagnostics) {
                w.driver.coalescing.threshold = Int(n)
            }
            if let d = c["delay"], let n = d.integer("an interrupt delay in units of 125 SG clock periods (DMACR.IRQDelay)", in: 0...255, &diagnostics) {
                w.driver.coalescing.delay = Int(n)
            }
        }
        if let v = m["cyclic"], sg, let b = v.bool(&diagnostics) { w.driver.cyclic = b }
        let ringRange: ClosedRange<UInt64> = sg ? 2...256 : 1...256
        if let v = m["ring"], let n = v.integer(sg ? "a ring size in descriptors" : "a ring size (1 to 256 buffers)", in: ringRange, &diagnostics) {
            w.driver.ringSize = Int(n)
        }
        if let v = m["buffer-size"], let n = v.size(&diagnostics) {
            if n > 64 * 1024 * 1024 { diagnostics.error("expected a buffer size of at most 64 MiB, found \(n) bytes", at: v.location) } else { w.driver.bufferBytes = Int(n) }
        }
        if let v = m["watchdog"] { w.driver.watchdog = duration(v) }
        if let v = m["max-retries"], let n = v.integer("a retry count (0 to 100)", in: 0...100, &diagnostics) { w.driver.maxRetries = Int(n) }
        if let v = m["consumer"], let c = v.mapping("the consumer section", keys: ScenarioParser.consumerKeys, &diagnostics) {
            if let p = c["processing"], let d = duration(p) { w.consumer.processing = d }
            if let h = c["hold"], let n = h.integer("how many buffers the consumer may hold (0 to 256)", in: 0...256, &diagnostics) {
                w.consumer.hold = Int(n)
            }
        }
    }

    /// `command: [program, arguments...]` (or one string without arguments). A program path with a
    /// slash that is not absolute is relative to the scenario file's directory; a bare name is looked
    /// up in PATH when the run starts.
    mutating func command(_ value: YAMLValue, file: String) -> [String]? {
        let expected = "a command: [program, arguments...]"
        var words: [String] = []
        if let text = value.scalarText, value.node.sequence == nil {
            words = [text]
        } else {
            guard let items = value.list(expected, &diagnostics) else { return nil }
            for item in items {
                guard let word = item.scalarText else { return item.mismatch("a word of the command (a string)", &diagnostics) }
                words.append(word)
            }
        }
        guard let program = words.first, !program.isEmpty else {
            diagnostics.error("an empty command: expected [program, arguments...]", at: value.location)
            return nil
        }
        if program.contains("/") && !program.hasPrefix("/") {
            let directory = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            words[0] = directory.isEmpty ? program : directory + "/" + program
        }
        return words
    }

    /// The `stream:` section: the source (receive), the sink (transmit) and the pattern of both.
    mutating func readStream(_ value: YAMLValue, into w: inout WorkloadConfiguration) {
        guard let m = value.mapping("the stream section", keys: ScenarioParser.streamKeys, &diagnostics) else { return }
        if let v = m["loopback"] {
            // `loopback: true`, or `loopback: { add: N }` (a constant added to each 32-bit word).
            if v.node.mapping != nil, let l = v.mapping("the loopback section", keys: ["add"], &diagnostics) {
                let add = l["add"].flatMap { $0.integer("a 32-bit constant", in: 0...UInt64(UInt32.max), &diagnostics) } ?? 0
                w.loopback = add == 0 ? StreamLoopback.Transform.none : .addToWords(UInt32(add))
            } else if v.bool(&diagnostics) == true {
                w.loopback = StreamLoopback.Transform.none
            }
        }
        if let v = m["pattern"], let p = v.choice("the pattern", among: ["counter", "prbs31", "none"], &diagnostics) {
            w.pattern = p == "counter" ? .counter : p == "prbs31" ? .prbs31() : .none
        }
        if let v = m["packet-size"] {
            if let r = v.node.mapping != nil ? v.mapping("the packet-size range", keys: ["min", "max"], &diagnostics) : nil {
                let low = r.required("min", expecting: "the smallest packet size", &diagnostics)?.size(&diagnostics)
                let high = r.required("max", expecting: "the largest packet size", &diagnostics)?.size(&diagnostics)
                if let low, let high {
                    if low <= high { w.source.packetSize = .range(Int(low)...Int(high)) } else {
                        diagnostics.error("expected min ≤ max, found min \(low) > max \(high)", at: r.location)
                    }
                }
            } else if v.node.mapping == nil, let n = v.size(&diagnostics) {
                w.source.packetSize = .fixed(Int(n))
            }
        }
        if let v = m["rate"], let r = rate(v) { w.source.rateBytesPerSecond = r }
        if let v = m["back-pressure"], let b = v.bool(&diagnostics) { w.source.backPressure = b }
        if let v = m["sink-rate"], let r = rate(v) { w.sink.rateBytesPerSecond = r }
    }

    mutating func readSteps(_ value: YAMLValue, mode: ScenarioSpec.Mode) -> [ScenarioSpec.Step] {
        guard let items = value.list("the timeline (a list of steps)", &diagnostics) else { return [] }
        var steps: [ScenarioSpec.Step] = []
        var lastAt: TimeSpan = .zero
        for item in items {
            guard let m = item.mapping("a timeline step", keys: ScenarioParser.triggerKeys + ScenarioParser.stepOptionKeys + ScenarioParser.actionKeys,
                                       &diagnostics) else { continue }
            let optional = m["optional"].flatMap { $0.bool(&diagnostics) } ?? false
            var trigger = ScenarioSpec.Step.Trigger.next
            if m["at"] != nil && m["after"] != nil {
                diagnostics.error("a step has either 'at' or 'after', not both", at: m.location)
            }
            if let v = m["at"], let t = duration(v) {
                if t < lastAt {
                    diagnostics.error("expected a time at or after the previous step's \(lastAt), found \(t) (steps run in file order)", at: v.location)
                }
                lastAt = t
                trigger = .at(t)
            } else if let v = m["after"] {
                let text = v.scalarText ?? ""
                let parts = text.split(separator: " ")
                if parts.count == 2, parts[1] == "completions" || parts[1] == "completion", let n = Int(parts[0]), n >= 0 {
                    trigger = .afterCompletions(n)
                } else {
                    _ = v.mismatch("a completion count such as '1000 completions'", &diagnostics) as Int?
                }
            }
            let actionEntries = m.entries.filter { ScenarioParser.actionKeys.contains($0.key) }
            guard actionEntries.count == 1, let entry = actionEntries.first else {
                diagnostics.error("expected exactly one action in a step (one of \(ScenarioParser.actionKeys.joined(separator: ", "))), found \(actionEntries.count)", at: m.location)
                continue
            }
            if let action = self.action(entry.key, entry.value, mode: mode) {
                var step = ScenarioSpec.Step(trigger: trigger, action: action, location: m.location, optional: optional)
                step.actionLocation = entry.value.location
                steps.append(step)
            }
        }
        return steps
    }

    mutating func action(_ key: String, _ v: YAMLValue, mode: ScenarioSpec.Mode) -> ScenarioSpec.Step.Action? {
        let defaultChannel: DMADirection = mode == .transmit ? .mm2s : .s2mm  // attached: the S2MM source, like receive
        switch key {
        case "inject": return inject(v, defaultChannel: defaultChannel)
        case "set-rate": return rate(v).map { .workload(.setRate($0)) }
        case "do":
            switch v.choice("an action", among: ScenarioParser.simpleActions, &diagnostics) {
            case "pause-source": return .workload(.pauseSource)
            case "resume-source": return .workload(.resumeSource)
            case "restart-driver": return .workload(.restartDriver)
            case "mask-irq": return .workload(.maskInterrupt)
            case "unmask-irq": return .workload(.unmaskInterrupt)
            case "stop": return .stop
            default: return nil
            }
        case "consumer-stall": return duration(v).map { .workload(.consumerStall($0)) }
        case "cpu-read-buffer":
            if v.scalarText == "armed" { return .workload(.cpuReadBuffer(slot: nil)) }
            return v.integer("a ring slot number or armed", in: 0...255, &diagnostics).map { .workload(.cpuReadBuffer(slot: Int($0))) }
        case "free-buffer": return v.integer("a ring slot number", in: 0...255, &diagnostics).map { .workload(.freeBuffer(slot: Int($0))) }
        case "advance": return duration(v).map { .advance($0) }
        case "wait-irq":
            guard let m = v.mapping("the wait-irq step", keys: ["channel", "within"], &diagnostics) else { return nil }
            let channel = m["channel"].flatMap { $0.choice("the channel", among: ["mm2s", "s2mm"], &diagnostics) }.flatMap(DMADirection.init(rawValue:)) ?? defaultChannel
            guard let within = m.required("within", expecting: ScenarioParser.durationExpectation, &diagnostics).flatMap({ duration($0) }) else { return nil }
            return .waitIRQ(channel: channel, within: within)
        case "write", "read":
            let keys = key == "write" ? ["register", "value", "byte-order"] : ["register", "expect", "mask", "byte-order"]
            guard let m = v.mapping("the \(key) step", keys: keys, &diagnostics) else { return nil }
            var register = m.required("register", expecting: "a register name such as S2MM_DMACR, or an offset", &diagnostics).flatMap { registerTarget($0) }
            if let order = m["byte-order"].flatMap({ $0.choice("the byte order", among: ["little", "big"], &diagnostics) }) {
                register?.byteOrder = order == "big" ? .big : .little
            }
            if key == "write" {
                let value = m.required("value", expecting: "a 32-bit value", &diagnostics)?.integer("a 32-bit value", in: 0...0xFFFF_FFFF, &diagnostics)
                guard let register, let value else { return nil }
                return .write(register: register, value: UInt32(value))
            }
            let expect = m.required("expect", expecting: "the expected 32-bit value", &diagnostics)?.integer("a 32-bit value", in: 0...0xFFFF_FFFF, &diagnostics)
            let mask = m["mask"].map { $0.integer("a 32-bit mask", in: 0...0xFFFF_FFFF, &diagnostics) } ?? 0xFFFF_FFFF
            guard let register, let expect, let mask else { return nil }
            return .read(register: register, expect: UInt32(expect), mask: UInt32(mask))
        default:
            return scriptStep(key, v, mode: mode, defaultChannel: defaultChannel)
        }
    }

    mutating func inject(_ v: YAMLValue, defaultChannel: DMADirection) -> ScenarioSpec.Step.Action? {
        let expected = "a fault (\(ScenarioParser.faultNames.joined(separator: ", "))) or a mapping with 'fault'"
        var channel = defaultChannel
        var name: String?
        var mapping: YAMLMapping?
        if v.node.mapping != nil {
            mapping = v.mapping("the inject step", keys: ["fault", "channel", "by", "bytes", "offset", "mask"], &diagnostics)
            name = mapping?.required("fault", expecting: expected, &diagnostics).flatMap { $0.choice("the fault", among: ScenarioParser.faultNames, &diagnostics) }
            if let c = mapping?["channel"].flatMap({ $0.choice("the channel", among: ["mm2s", "s2mm"], &diagnostics) }) {
                channel = DMADirection(rawValue: c)!
            }
        } else {
            name = v.choice("the fault", among: ScenarioParser.faultNames, &diagnostics)
        }
        guard let name else { return nil }
        let fault: AXIDMAFault
        switch name {
        case "slave-error": fault = .slaveError
        case "decode-error": fault = .decodeError
        case "internal-error": fault = .internalError
        case "stall": fault = .stall
        case "delay-interrupt": fault = .delayInterrupt
        case "spurious-interrupt": fault = .spuriousInterrupt
        case "lost-interrupt": fault = .lostInterrupt
        case "descriptor-slave-error": fault = .descriptorSlaveError
        case "descriptor-decode-error": fault = .descriptorDecodeError
        case "stale-descriptor": fault = .staleDescriptor
        case "delay-completion":
            guard let by = mapping?.required("by", expecting: ScenarioParser.durationExpectation, &diagnostics).flatMap({ duration($0) }) else {
                if mapping == nil { diagnostics.error("expected delay-completion as a mapping with 'by: DURATION'", at: v.location) }
                return nil
            }
            fault = .delayCompletion(by)
        case "short-packet":
            guard let bytes = mapping?.required("bytes", expecting: "the packet's length in bytes", &diagnostics)?.integer("a length (1 to 64 MiB)", in: 1...67_108_864, &diagnostics) else {
                if mapping == nil { diagnostics.error("expected short-packet as a mapping with 'bytes: N'", at: v.location) }
                return nil
            }
            fault = .shortPacket(bytes: Int(bytes))
        case "corrupt-byte":
            guard let offset = mapping?.required("offset", expecting: "the byte's offset in the transfer", &diagnostics)?.integer("an offset", in: 0...67_108_863, &diagnostics) else {
                if mapping == nil { diagnostics.error("expected corrupt-byte as a mapping with 'offset: N'", at: v.location) }
                return nil
            }
            let mask = mapping?["mask"].flatMap { $0.integer("a byte mask (1 to 255)", in: 1...255, &diagnostics) } ?? 0xFF
            fault = .corruptByte(offset: Int(offset), mask: UInt8(mask))
        default: return nil
        }
        return .inject(fault, channel: channel)
    }

    mutating func readExpectations(_ value: YAMLValue) -> [ScenarioSpec.Expectation] {
        guard let m = value.mapping("the expect section", keys: ScenarioParser.metricKeys, &diagnostics) else { return [] }
        var result: [ScenarioSpec.Expectation] = []
        for entry in m.entries {
            let v = entry.value
            switch entry.key {
            case "bytes-dropped", "errors", "violations", "findings":
                if v.node.mapping != nil {
                    let keys: [String]
                    switch entry.key {
                    case "bytes-dropped": keys = DropReason.allCases.map { "\($0)" }
                    case "errors": keys = ScenarioSpec.DriverErrorName.allCases.map(\.rawValue)
                    case "findings": keys = ProtocolRule.allCases.map(\.id)
                    default: keys = UIOFindingNames.all
                    }
                    guard let sub = v.mapping("the \(entry.key) expectations", keys: keys, &diagnostics) else { continue }
                    for s in sub.entries {
                        guard let c = comparison(s.value) else { continue }
                        let metric: ScenarioSpec.Metric
                        switch entry.key {
                        case "bytes-dropped": metric = .bytesDropped(DropReason.allCases.first { "\($0)" == s.key })
                        case "errors": metric = .errors(ScenarioSpec.DriverErrorName(rawValue: s.key))
                        case "findings": metric = .findings(s.key)
                        default: metric = .violations(s.key)
                        }
                        result.append(.init(metric: metric, comparison: c, location: s.value.location))
                    }
                } else if let c = comparison(v) {
                    let metric: ScenarioSpec.Metric = switch entry.key {
                    case "bytes-dropped": .bytesDropped(nil)
                    case "errors": .errors(nil)
                    case "findings": .findings(nil)
                    default: .violations(nil)
                    }
                    result.append(.init(metric: metric, comparison: c, location: v.location))
                }
            case "driver-state":
                if let s = v.choice("a driver state", among: ["running", "recovering", "failed", "stopped"], &diagnostics) {
                    result.append(.init(metric: .driverState, comparison: .text(s), location: v.location))
                }
            case "trace-hash":
                if let s = v.string(&diagnostics, expected: "a SHA-256 hash in hex") {
                    result.append(.init(metric: .traceHash, comparison: .text(s.lowercased()), location: v.location))
                }
            case "latency-p99":
                if let c = comparison(v, durations: true) { result.append(.init(metric: .latencyP99Nanoseconds, comparison: c, location: v.location)) }
            case "after-last-step":
                guard let sub = v.mapping("the after-last-step expectations", keys: ScenarioParser.afterLastStepKeys, &diagnostics) else { continue }
                for s in sub.entries {
                    guard let c = comparison(s.value) else { continue }
                    let counted: ScenarioSpec.Metric = s.key == "completions" ? .completions : s.key == "bytes-delivered" ? .bytesDelivered : .verifiedBytes
                    result.append(.init(metric: .afterLastStep(counted), comparison: c, location: s.value.location))
                }
            default:
                let metric: ScenarioSpec.Metric
                switch entry.key {
                case "completions": metric = .completions
                case "bytes-delivered": metric = .bytesDelivered
                case "lost-irqs": metric = .lostInterrupts
                case "spurious-irqs": metric = .spuriousInterrupts
                case "delay-irqs": metric = .delayInterrupts
                case "recoveries": metric = .recoveries
                case "mismatched-bytes": metric = .mismatchedBytes
                case "verified-bytes": metric = .verifiedBytes
                case "storms": metric = .storms
                case "enables-with-cause-asserted": metric = .enablesWithCauseAsserted
                default: metric = .scriptFailures
                }
                if let c = comparison(v) { result.append(.init(metric: metric, comparison: c, location: v.location)) }
            }
        }
        return result
    }

    /// `5`, `"== 5"`, `">= 900"`, `"> 0"`, ... (quote operators: YAML reads a bare `>` as a folded
    /// block). With `durations`, the number may be a duration (`"<= 10us"`), compared in ns.
    mutating func comparison(_ v: YAMLValue, durations: Bool = false) -> ScenarioSpec.Comparison? {
        let expected = durations ? "a comparison such as \"<= 10us\"" : "a count or a comparison such as \">= 900\" (quoted)"
        guard let text = v.scalarText?.trimmingCharacters(in: .whitespaces) else { return v.mismatch(expected, &diagnostics) }
        var op = ScenarioSpec.Comparison.Operator.equal
        var rest = Substring(text)
        for candidate in [ScenarioSpec.Comparison.Operator.atLeast, .atMost, .notEqual, .equal, .greater, .less] where rest.hasPrefix(candidate.rawValue) {
            op = candidate
            rest = rest.dropFirst(candidate.rawValue.count)
            break
        }
        let number = rest.trimmingCharacters(in: .whitespaces)
        if durations, let span = DurationText.parse(number) { return .number(op, span.nanoseconds) }
        guard let value = YAMLValue.parseInteger(number), value <= UInt64(Int64.max) else { return v.mismatch(expected, &diagnostics) }
        return .number(op, Int64(value))
    }
}

/// The finding kinds of the DMA heap as scenario expectation keys, plus `stale-reads` (CPU reads
/// that saw other bytes than memory holds: the stale data of a missing sync).
enum UIOFindingNames {
    static let all = ["cpu-access-while-device-owned", "dma-while-cpu-owned", "dma-outside-buffers", "allocation-after-start",
                      "cpu-access-after-free", "stale-reads"]
}
