import Foundation
import Testing
@testable import Trace
import TraceFiles

/// The hashed form (README "Traces", `CanonicalRecords`): bytes checked by hand, and a whole run's
/// records read back by a reader written from the documented format alone.
@Suite("Canonical records")
struct CanonicalRecordsTests {
    func encode(_ events: [(Int64, TraceEvent)]) -> [UInt8] {
        let records = CanonicalRecords()
        for (t, event) in events { records.encode(event, at: t) }
        return Array(records.bytes)
    }

    @Test func `a small sequence encodes to the bytes worked out by hand from the documented format`() {
        let bytes = encode([
            (1250, .interruptLine(line: 2, high: true)),
            (1300, .uioInterrupt(device: "u", count: 7)),
            (1300, .uioRead(device: "u", count: 300, previous: -1)),
            (1299, .dmaStart(channel: "dma.s2mm", address: UInt64.max, bytes: 4096)),
            (1299, .uioEnable(device: "u", enabled: false)),
        ])
        let expected: [UInt8] = [
            // irq (2): t 1250 = 0x4e2 -> e2 09; line 2; level 1
            0x02, 0xE2, 0x09, 0x02, 0x01,
            // uio-irq (5): +50; new string (0) of 1 byte "u" -> string 1; count 7
            0x05, 0x32, 0x00, 0x01, 0x75, 0x07,
            // uio-read (3): +0; string 1; count 300 = ac 02; previous -1: ten bytes
            0x03, 0x00, 0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            // dma-start (7): -1 (ten bytes); new string "dma.s2mm" -> 2; address 2^64-1 (ten bytes); bytes 4096 = 80 20
            0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            0x00, 0x08, 0x64, 0x6D, 0x61, 0x2E, 0x73, 0x32, 0x6D, 0x6D,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x80, 0x20,
            // uio-enable (4): +0; string 1; enabled 0
            0x04, 0x00, 0x01, 0x00,
        ]
        #expect(bytes == expected)
    }

    @Test func `strings are numbered by their bytes: a copy built anew is the same string, canonically equal Unicode is not`() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed, "Swift equates them")
        let built = String(repeating: "x", count: 40)
        let bytes = encode([
            (0, .fault(channel: TraceName(built), fault: composed)),
            (0, .fault(channel: TraceName(String(repeating: "x", count: 40)), fault: decomposed)),
        ])
        // Second record: kind 19, +0, string 1 (the copy), then a new string: the decomposed bytes.
        let second = Array(bytes.suffix(2 + 1 + 2 + decomposed.utf8.count))
        #expect(second == [19, 0, 1, 0, UInt8(decomposed.utf8.count)] + Array(decomposed.utf8))
    }

    @Test func `a run's records read back by the documented format are its JSON lines, event for event`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.jsonl").path
        let w = receiveWorkload(seed: 4, randomPackets)
        let capture = RecordCapture()
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options(jsonLinesPath: path), also: [capture])
        w.attach(tracer)
        try w.start()
        try w.run(completions: 400)
        try w.channel.inject(.slaveError)
        try w.run(completions: 500)
        try tracer.finish()
        let lines = try jsonLines(path)
        var reader = RecordReader(capture.bytes)
        let decoded = try reader.all()
        #expect(decoded.count == lines.count)
        #expect(capture.bytes.count > CanonicalRecords.blockBytes, "the run spans several blocks")
        for (k, (line, record)) in zip(lines, decoded).enumerated() {
            let keys = TraceFileFormatTests.keys[line["ev"] as! String]!
            #expect(record.kind == Self.kinds[line["ev"] as! String], "event \(k)")
            #expect(record.t == Int64(line["t"] as! Int), "event \(k)")
            let values = keys.map { key -> String in
                if let s = line[key] as? String { return "s:" + s }
                return "n:\((line[key] as! NSNumber).int64Value)"
            }
            #expect(record.values == values, "event \(k): \(line)")
            if record.values != values { break }
        }
    }

    @Test func `the hash does not depend on when it is read or where the blocks end`() throws {
        let (_, whole) = try tracedRun(seed: 9, completions: 3_000, randomPackets)
        let w = receiveWorkload(seed: 9, randomPackets)
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options())
        w.attach(tracer)
        try w.start()
        var early: [String?] = []
        for n in stride(from: 7, through: 3_000, by: 331) {  // blocks handed on at odd places
            try w.run(completions: n)
            early.append(tracer.hash)
        }
        try w.run(completions: 3_000)
        #expect(try tracer.finish() == whole.hash)
        #expect(Set(early).count == early.count, "the hash moved with the trace")
    }

    /// `ev` → kind number, from the documented list.
    static let kinds: [String: UInt8] = [
        "register": 1, "irq": 2, "uio-read": 3, "uio-enable": 4, "uio-irq": 5, "uio-storm": 6, "dma-start": 7, "dma-done": 8,
        "dma-error": 9, "dma-status": 10, "driver-state": 11, "slot-owner": 12, "buffer-owner": 13, "buffer": 14, "buffer-sync": 15,
        "cpu-access": 16, "byte-order": 17, "lost-irqs": 18, "fault": 19, "finding": 20, "protocol-finding": 21, "descriptor-fetch": 22,
    ]
}

/// Keeps the record stream a tracer hands its hash.
final class RecordCapture: TraceSink {
    private(set) var bytes: [UInt8] = []
    var stream: CanonicalForm? { .records }
    func declare(_ track: TraceTrack) {}
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}
    func write(stream bytes: UnsafeRawBufferPointer) { self.bytes += bytes }
    func close() throws(TraceError) {}
}

/// A reader of the record stream written from the format's description alone: kind, time delta,
/// then per the kind's JSON keys a number or a string reference.
struct RecordReader {
    let bytes: [UInt8]
    var at = 0
    var strings: [String] = []
    var time: Int64 = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The string-valued keys of each kind; the others are numbers.
    static let stringKeys: Set<String> = ["device", "register", "access", "channel", "driver", "from", "to", "buffer", "assumed", "fault",
                                          "kind", "severity", "detail", "rule", "values"]

    mutating func number() throws -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard at < bytes.count, shift < 64 else { throw TraceTestError("truncated number at \(at)") }
            let b = bytes[at]
            at += 1
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func string() throws -> String {
        let n = try number()
        if n > 0 {
            guard n <= strings.count else { throw TraceTestError("string \(n) before it was introduced") }
            return strings[Int(n) - 1]
        }
        let count = Int(try number())
        guard at + count <= bytes.count else { throw TraceTestError("truncated string") }
        strings.append(String(decoding: bytes[at..<(at + count)], as: UTF8.self))
        at += count
        return strings.last!
    }

    mutating func all() throws -> [(kind: UInt8, t: Int64, values: [String])] {
        let names = Dictionary(uniqueKeysWithValues: CanonicalRecordsTests.kinds.map { ($0.value, $0.key) })
        var result: [(kind: UInt8, t: Int64, values: [String])] = []
        while at < bytes.count {
            let kind = bytes[at]
            at += 1
            guard let name = names[kind], let keys = TraceFileFormatTests.keys[name] else { throw TraceTestError("unknown kind \(kind)") }
            time &+= Int64(bitPattern: try number())
            var values: [String] = []
            for key in keys {
                if Self.stringKeys.contains(key) {
                    values.append("s:" + (try string()))
                } else {
                    values.append("n:\(Int64(bitPattern: try number()))")
                }
            }
            result.append((kind, time, values))
        }
        return result
    }
}
