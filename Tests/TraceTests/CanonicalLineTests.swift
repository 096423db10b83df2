import Foundation
import Reactor
import Testing
@testable import Trace
import TraceFiles

@Suite struct CanonicalLineTests {
    @Test func `a line is one JSON object with t and ev first and integers only`() throws {
        let line = CanonicalLine()
        line.encode(.register(device: "axi-dma0", register: "S2MM_DMASR", offset: 0x34, value: 0x1002, access: .read), at: 1250)
        let text = String(decoding: line.bytes, as: UTF8.self)
        #expect(text == #"{"t":1250,"ev":"register","device":"axi-dma0","register":"S2MM_DMASR","offset":52,"value":4098,"access":"read"}"# + "\n")
    }

    @Test func `every line names its own strings past the string table's first growth (more than 64 distinct names and texts)`() throws {
        let line = CanonicalLine()
        for k in 0..<300 {  // bounded: the test's events
            let channel = TraceName("grown-table-channel-\(k)")
            line.encode(.fault(channel: channel, fault: "fault text number \(k), long enough to live on the heap"), at: Int64(k))
            let object = try JSONSerialization.jsonObject(with: Data(line.bytes)) as? [String: Any]
            #expect(object?["channel"] as? String == "grown-table-channel-\(k)", "event \(k)")
            #expect(object?["fault"] as? String == "fault text number \(k), long enough to live on the heap", "event \(k)")
        }
    }

    @Test func `strings are escaped as JSON requires`() throws {
        let line = CanonicalLine()
        line.encode(.finding(kind: "k", severity: "violation", detail: "a \"quoted\" \\ back\nslash\u{1}"), at: 0)
        let object = try JSONSerialization.jsonObject(with: Data(line.bytes)) as? [String: Any]
        #expect(object?["detail"] as? String == "a \"quoted\" \\ back\nslash\u{1}")
    }
}

/// `uioemu trace hash` reads JSON lines back into events: the inverse of the canonical line.
@Suite struct CanonicalLineParserTests {
    @Test func `every line of a run reads back into the event that encodes to the same line`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.jsonl").path
        let w = receiveWorkload(seed: 2, randomPackets)
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options(jsonLinesPath: path))
        w.attach(tracer)
        try w.start()
        try w.run(completions: 200)
        try w.channel.inject(.slaveError)
        try w.run(completions: 300)
        let hash = try tracer.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let encoder = CanonicalLine()
        var kinds: Set<String> = []
        for line in text.split(separator: "\n") {
            let (t, event) = try CanonicalLineParser.parse(String(line))
            encoder.clear()
            encoder.encode(event, at: t)
            #expect(String(decoding: encoder.bytes, as: UTF8.self) == line + "\n")
            kinds.insert(event.kind)
        }
        #expect(kinds.isSuperset(of: ["register", "irq", "dma-error", "fault", "driver-state", "buffer-sync"]))
        #expect(try TraceHasher.hash(ofJSONLines: path) == hash)
    }

    @Test func `escaped strings and extreme numbers read back exactly`() throws {
        let events: [TraceEvent] = [
            .finding(kind: "k", severity: "violation", detail: "a \"quoted\" \\ back\nslash\u{1} caf\u{E9}"),
            .dmaStart(channel: "c", address: UInt64.max, bytes: Int.max),
            .uioRead(device: "u", count: Int32.min, previous: Int32.max),
        ]
        let encoder = CanonicalLine()
        for event in events {
            encoder.clear()
            encoder.encode(event, at: -5)
            let parsed = try CanonicalLineParser.parse(String(decoding: encoder.bytes.dropLast(), as: UTF8.self))
            #expect(parsed.event == event)
            #expect(parsed.nanoseconds == -5)
        }
    }

    @Test(arguments: [
        (#"{"t":1,"ev":"irq","line":2}"#, 1, #"missing key "level""#),
        (#"{"t":1,"ev":"irq","line":2,"level":1,"x":3}"#, 42, #"unexpected key "x""#),
        (#"{"t":1,"ev":"irq","line":2,"level":2}"#, 36, "expected 0 or 1"),
        (#"{"t":1,"ev":"register","device":"d","register":"r","offset":1,"value":4294967296,"access":"read"}"#, 71, "expected an integer from 0 to 4294967295"),
        (#"{"t":1,"ev":"nope"}"#, 13, #"unknown event kind "nope""#),
        (#"{"t":1,"ev":"irq","line":2,"level":1} x"#, 38, "expected the end of the line"),
        (#"{"t":1.5,"ev":"irq"}"#, 7, "expected , or }"),
    ])
    func `a line that is not a canonical event is refused at its column`(line: String, column: Int, says: String) {
        #expect {
            try CanonicalLineParser.parse(line)
        } throws: { error in
            guard let failure = error as? CanonicalLineParser.Failure else { return false }
            return failure.column == column && failure.message.contains(says)
        }
    }
}
