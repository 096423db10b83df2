import Foundation
import Glibc
import Scenario
import Testing
import Trace
import TraceFiles

/// The Perfetto and VCD files read back by real parsers (Python's json module; a VCD reader that
/// follows IEEE 1364 §18 for the subset written) and compared, event by event, with the canonical
/// trace of the same run: the driver's states and the channel's DMASR and DMACR bits.
@Suite("Perfetto and VCD files read back")
struct TraceReadbackTests {
    /// A run with a slave error, so the driver goes running → recovering → running, written three ways.
    func run(_ directory: URL) throws -> (jsonl: [[String: Any]], perfetto: String, vcd: String, driver: String) {
        let jsonl = directory.appendingPathComponent("t.jsonl").path
        let perfetto = directory.appendingPathComponent("t.json").path
        let vcd = directory.appendingPathComponent("t.vcd").path
        let w = receiveWorkload()
        let tracer = try Tracer(reactor: w.reactor, options: .init(jsonLinesPath: jsonl, perfettoPath: perfetto, vcdPath: vcd))
        w.attach(tracer)
        try w.start()
        try w.run(completions: 20)
        try w.channel.inject(.slaveError)
        try w.run(completions: 40)
        try tracer.finish()
        return (try jsonLines(jsonl), perfetto, vcd, w.driver.traceName)
    }

    @Test("Python's json module reads the Perfetto file, and the driver's spans are the run's states at their times")
    func perfettoDriverStates() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (events, perfetto, _, driver) = try run(directory)
        // The states from the canonical trace: each lasts from its change to the next (zero-length
        // ones are not drawn), the last to the end of the trace.
        let changes = events.filter { $0["ev"] as? String == "driver-state" && $0["driver"] as? String == driver }
        let end = try #require(events.last?["t"] as? Int)
        var expected: [String] = []
        var open: (name: String, start: Int) = (try #require(changes.first?["from"] as? String), 0)
        for change in changes {
            let t = try #require(change["t"] as? Int)
            if t > open.start { expected.append("\(open.start) \(open.name)") }
            open = (try #require(change["to"] as? String), t)
        }
        expected.append("\(open.start) \(open.name)")
        #expect(expected.contains { $0.contains("recovering") }, "the recovery is among the states: \(expected)")
        #expect(end > 0)
        let script = """
            import json, sys
            trace = json.load(open(sys.argv[1]))
            events = trace["traceEvents"]
            tid = next(e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name" and e["args"]["name"] == sys.argv[2])
            for e in sorted((e for e in events if e["ph"] == "X" and e["tid"] == tid), key=lambda e: e["ts"]):
                print(round(e["ts"] * 1000), e["name"])
            """
        let output = try python(script, arguments: [perfetto, driver])
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }

    @Test("the VCD read back is the run's waveform: every change of the DMASR and DMACR bits, the line and the driver state, in order, at its time")
    func vcdMatchesTheRun() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (events, _, vcdPath, driver) = try run(directory)
        let vcd = try VCDReader(text: String(contentsOfFile: vcdPath, encoding: .utf8))
        /// The changes of one signal the canonical trace implies: its initial value at 0, then each
        /// event's value where it differs from the one before.
        func expected(initial: Int, _ values: [(time: Int, value: Int)]) -> [String] {
            var result = ["0 \(initial)"], last = initial
            for (time, value) in values where value != last {
                result.append("\(time) \(value)")
                last = value
            }
            return result
        }
        let channel = "fpga-dma.s2mm"
        let scope = "board.fpga_dma_s2mm"
        let statuses = events.filter { $0["ev"] as? String == "dma-status" && $0["channel"] as? String == channel }
            .map { (time: $0["t"] as! Int, dmacr: $0["dmacr"] as! Int, dmasr: $0["dmasr"] as! Int) }
        let bits: [(name: String, control: Bool, bit: Int)] = [("RS", true, 0), ("Halted", false, 0), ("Idle", false, 1), ("IOC_Irq", false, 12),
                                                              ("Dly_Irq", false, 13), ("Err_Irq", false, 14)]
        for bit in bits {
            let values = statuses.map { (time: $0.time, value: ((bit.control ? $0.dmacr : $0.dmasr) >> bit.bit) & 1) }
            #expect(try vcd.changes(of: "\(scope).\(bit.name)") == expected(initial: bit.name == "Halted" ? 1 : 0, values), "\(bit.name)")
        }
        let states = events.filter { $0["ev"] as? String == "driver-state" }.map { (time: $0["t"] as! Int, value: min($0["code"] as! Int, 15)) }
        #expect(try vcd.changes(of: "board.\(driver.replacingOccurrences(of: "-", with: "_")).state") == expected(initial: 0, states))
        let line = try #require(events.first { $0["ev"] as? String == "irq" }?["line"] as? Int)
        let levels = events.filter { $0["ev"] as? String == "irq" && $0["line"] as? Int == line }.map { (time: $0["t"] as! Int, value: $0["level"] as! Int) }
        #expect(try vcd.changes(of: "board.interrupts.irq\(line)") == expected(initial: 0, levels))
        // What the waveform shows includes the error: DMASlvErr's Err_Irq rises and is cleared.
        #expect(try vcd.changes(of: "\(scope).Err_Irq").count == 3)
        #expect(try vcd.changes(of: "\(scope).IOC_Irq").count > 60)
    }

    @Test("a Python script written from README's description of the records alone gives the run's trace hash from its JSON lines")
    func recordsReimplemented() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.jsonl").path
        let w = receiveWorkload(seed: 6, randomPackets)
        let tracer = try Tracer(reactor: w.reactor, options: .init(jsonLinesPath: path))
        w.attach(tracer)
        try w.start()
        try w.run(completions: 300)
        try w.channel.inject(.slaveError)
        try w.run(completions: 600)
        let hash = try #require(try tracer.finish())
        let script = """
            import hashlib, json, sys
            kinds = ["register", "irq", "uio-read", "uio-enable", "uio-irq", "uio-storm", "dma-start", "dma-done", "dma-error",
                     "dma-status", "driver-state", "slot-owner", "buffer-owner", "buffer", "buffer-sync", "cpu-access", "byte-order",
                     "lost-irqs", "fault", "finding", "protocol-finding", "descriptor-fetch"]
            def number(v):
                v &= (1 << 64) - 1
                out = bytearray()
                while v >= 0x80:
                    out.append((v & 0x7F) | 0x80)
                    v >>= 7
                out.append(v)
                return bytes(out)
            strings, out, previous = {}, bytearray(), 0
            for line in open(sys.argv[1]):
                pairs = json.loads(line, object_pairs_hook=list)
                assert pairs[0][0] == "t" and pairs[1][0] == "ev"
                out.append(kinds.index(pairs[1][1]) + 1)
                out += number(pairs[0][1] - previous)
                previous = pairs[0][1]
                for key, value in pairs[2:]:
                    if isinstance(value, str):
                        b = value.encode()
                        if b in strings:
                            out += number(strings[b])
                        else:
                            strings[b] = len(strings) + 1
                            out += number(0) + number(len(b)) + b
                    else:
                        out += number(value)
            print(hashlib.sha256(out).hexdigest())
            """
        #expect(try python(script, arguments: [path]) == hash + "\n")
    }

    /// Runs a Python 3 script; its standard output.
    func python(_ script: String, arguments: [String]) throws -> String {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("read.py")
        try Data(script.utf8).write(to: file)
        let out = directory.appendingPathComponent("out").path
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = (["python3", file.path] + arguments).map(quote).joined(separator: " ") + " > " + quote(out)
        let status = system(command)
        #expect(status == 0, "python3 failed: \(status)")
        return try String(contentsOfFile: out, encoding: .utf8)
    }
}

/// A reader for the VCD subset the sink writes (IEEE 1364 §18.2): `$scope`/`$upscope`, `$var TYPE
/// WIDTH ID NAME $end`, `#TIME`, scalar changes `0!` and vector changes `b0101 !`, `$dumpvars`.
struct VCDReader {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Full name (`board.scope.name`) → identifier, and each identifier's changes in time order.
    private(set) var identifiers: [String: String] = [:]
    private(set) var changes: [String: [(time: Int, value: Int)]] = [:]

    init(text: String) throws {
        var scopes: [String] = []
        var time = 0
        var inHeader = true
        for raw in text.split(separator: "\n") {  // bounded by the file
            let words = raw.split(separator: " ").map(String.init)
            guard let first = words.first else { continue }
            if inHeader {
                switch first {
                case "$scope": scopes.append(words[2])
                case "$upscope": scopes.removeLast()
                case "$var":
                    guard words.count == 6, words[5] == "$end" else { throw Failure(description: "bad $var: \(raw)") }
                    identifiers[(scopes + [words[4]]).joined(separator: ".")] = words[3]
                case "$enddefinitions": inHeader = false
                default: break
                }
                continue
            }
            if first.hasPrefix("#") {
                guard let t = Int(first.dropFirst()), t >= time else { throw Failure(description: "bad or decreasing time: \(raw)") }
                time = t
            } else if first.hasPrefix("b") {
                guard words.count == 2, let value = Int(first.dropFirst(), radix: 2) else { throw Failure(description: "bad vector: \(raw)") }
                changes[words[1], default: []].append((time, value))
            } else if let value = Int(String(first.prefix(1))), first.count > 1 {
                changes[String(first.dropFirst()), default: []].append((time, value))
            } else if first != "$dumpvars" && first != "$end" {
                throw Failure(description: "unexpected line: \(raw)")
            }
        }
    }

    /// Every value `name` took, as `TIME VALUE`, its initial value (`$dumpvars`) first.
    func changes(of name: String) throws -> [String] {
        guard let id = identifiers[name] else { throw Failure(description: "no signal \(name) in \(identifiers.keys.sorted())") }
        return (changes[id] ?? []).map { "\($0.time) \($0.value)" }
    }
}
