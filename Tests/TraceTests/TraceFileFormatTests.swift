import Foundation
import Scenario
import Testing
import Trace
import TraceFiles

/// The three files a run can write: canonical JSON lines, Perfetto JSON, VCD.
@Suite("Trace file formats")
struct TraceFileFormatTests {
    /// The keys of each event kind, in their fixed order (after `t` and `ev`).
    static let keys: [String: [String]] = [
        "register": ["device", "register", "offset", "value", "access"],
        "irq": ["line", "level"],
        "uio-read": ["device", "count", "previous"],
        "uio-enable": ["device", "enabled"],
        "uio-irq": ["device", "count"],
        "uio-storm": ["device", "events"],
        "dma-start": ["channel", "address", "bytes"],
        "dma-done": ["channel", "bytes"],
        "descriptor-fetch": ["channel", "address", "nxtdesc", "buffer-address", "control", "status"],
        "dma-error": ["channel", "dmasr"],
        "dma-status": ["channel", "dmacr", "dmasr"],
        "driver-state": ["driver", "from", "to", "code"],
        "slot-owner": ["driver", "slot", "from", "to"],
        "buffer-owner": ["buffer", "from", "to"],
        "buffer": ["buffer", "address", "bytes", "live"],
        "buffer-sync": ["buffer", "to", "offset", "bytes"],
        "cpu-access": ["buffer", "offset", "bytes", "access"],
        "byte-order": ["device", "offset", "access", "assumed", "device-value", "cpu-value"],
        "lost-irqs": ["driver", "count"],
        "fault": ["channel", "fault"],
        "finding": ["kind", "severity", "detail"],
        "protocol-finding": ["rule", "device", "register", "values"],
    ]

    @Test func `every JSON line is an object with t, ev and the fixed keys of its kind, in order`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.jsonl").path
        _ = try tracedRun(completions: 300, options: Tracer.Options(jsonLinesPath: path), randomPackets)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        var kinds: Set<String> = []
        var lastTime = 0
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let kind = try #require(object["ev"] as? String)
            let expected = try #require(Self.keys[kind], "unknown event kind \(kind)")
            kinds.insert(kind)
            #expect(Set(object.keys) == Set(["t", "ev"] + expected), "\(line)")
            // The order is part of the canonical form: check it on the text itself.
            let order = (["t", "ev"] + expected).map { "\"\($0)\":" }
            var cursor = line.startIndex
            for key in order {
                let found = try #require(line.range(of: key, range: cursor..<line.endIndex), "\(key) out of order in \(line)")
                cursor = found.upperBound
            }
            #expect(line.hasPrefix("{\"t\":"))
            #expect(!line.contains(" "), "no spaces outside strings expected in \(line)")
            let time = try #require(object["t"] as? Int)
            #expect(time >= lastTime)
            lastTime = time
        }
        #expect(kinds.isSuperset(of: ["register", "irq", "uio-read", "uio-enable", "dma-start", "dma-done", "dma-status",
                                      "driver-state", "slot-owner", "buffer-owner", "uio-irq", "buffer", "buffer-sync",
                                      "cpu-access"]))
        // Integers only: no fraction or exponent anywhere in the file.
        #expect(text.range(of: #":-?[0-9]+[.eE]"#, options: .regularExpression) == nil)
    }

    @Test func `the Perfetto file parses and has a track for the channel, the driver and the line`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.json").path
        let (w, _) = try tracedRun(completions: 100, options: Tracer.Options(hashing: false, perfettoPath: path))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require(root["traceEvents"] as? [[String: Any]])
        var trackByName: [String: Int] = [:]
        for event in events {
            let phase = try #require(event["ph"] as? String)
            #expect(event["pid"] as? Int != nil && event["name"] as? String != nil)
            if phase == "M", event["name"] as? String == "thread_name" {
                let name = try #require((event["args"] as? [String: Any])?["name"] as? String)
                trackByName[name] = event["tid"] as? Int
            } else if phase != "M" {
                #expect(event["ts"] is NSNumber, "\(event)")
            }
        }
        let channel = try #require(trackByName["fpga-dma.s2mm"])
        let driver = try #require(trackByName[w.driver.traceName])
        let line = try #require(trackByName["irq\(w.channel.route.line)"])
        func on(_ tid: Int, _ phase: String) -> [[String: Any]] {
            events.filter { $0["ph"] as? String == phase && $0["tid"] as? Int == tid }
        }
        let transfers = on(channel, "X").filter { $0["name"] as? String == "transfer" }
        #expect(transfers.count >= 100)
        #expect(transfers.allSatisfy { ($0["dur"] as? NSNumber)?.doubleValue ?? -1 >= 0 })
        #expect(on(line, "i").count >= 200)  // raised and lowered per completion
        #expect(!on(driver, "X").isEmpty)
    }

    @Test func `the VCD declares its signals, then has increasing times and changes of declared signals only`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.vcd").path
        let (w, _) = try tracedRun(completions: 100, options: Tracer.Options(hashing: false, vcdPath: path))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let end = try #require(lines.firstIndex(of: "$enddefinitions $end"))
        let header = lines[..<end]
        #expect(header.contains("$timescale 1ns $end"))
        var identifiers: [String: String] = [:]  // id -> name
        var depth = 0
        for line in header {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "$scope" { depth += 1 }
            if words.first == "$upscope" { depth -= 1 }
            if words.first == "$var" {
                #expect(words.count == 6 && words[5] == "$end", "\(line)")
                #expect(["wire", "reg"].contains(words[1]))
                #expect(Int(words[2]) != nil)
                #expect(identifiers[words[3]] == nil, "identifier \(words[3]) declared twice")
                identifiers[words[3]] = words[4]
            }
        }
        #expect(depth == 0)
        #expect(Set(identifiers.values).isSuperset(of: ["irq\(w.channel.route.line)", "IOC_Irq", "Err_Irq", "RS", "state", "busy"]))
        var lastTime = -1
        var changes = 0
        var inDumpvars = false
        for line in lines[(end + 1)...] {
            if line == "$dumpvars" { inDumpvars = true; continue }
            if line == "$end" { inDumpvars = false; continue }
            if line.hasPrefix("#") {
                let time = try #require(Int(line.dropFirst()))
                #expect(time > lastTime, "time \(time) after \(lastTime)")
                lastTime = time
                continue
            }
            #expect(lastTime >= 0, "a value before the first time stamp")
            let id: Substring
            if line.hasPrefix("b") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 2 && parts[0].dropFirst().allSatisfy { $0 == "0" || $0 == "1" }, "\(line)")
                id = parts.last ?? ""
            } else {
                #expect(["0", "1", "x", "z"].contains(line.first.map(String.init) ?? ""), "\(line)")
                id = line.dropFirst()
            }
            #expect(identifiers[String(id)] != nil, "undeclared identifier in \(line)")
            if !inDumpvars { changes += 1 }
        }
        #expect(changes > 400)
    }
}
