import Crypto
import Foundation
import Reactor
import Testing
@testable import Trace
import TraceFiles

/// The canonical forms are encoded on the tracer's own thread, and the JSON-lines file is written
/// on the sink's own: what comes out must be exactly what encoding and writing in place gave,
/// whatever the blocks' sizes, however fast they come and wherever the hash is read.
@Suite("Trace encoding and writing beside the reactor")
struct StreamSinkThreadTests {
    /// Blocks of many sizes (one byte to more than twice a JSON-lines block, so a writer's slot must
    /// grow), many more of them than the writer has slots, each filled with its own bytes. The seed
    /// is fixed: the sizes are part of the test.
    static func blocks(count: Int, seed: UInt64 = 17) -> [[UInt8]] {
        var state = seed
        func next() -> UInt64 {  // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var result: [[UInt8]] = []
        for k in 0..<count {
            let size: Int
            switch k % 10 {
            case 0: size = 1
            case 7: size = CanonicalLine.blockBytes * 2 + 1 + Int(next() % 4096)
            default: size = 1 + Int(next() % UInt64(CanonicalLine.blockBytes + 1024))
            }
            result.append((0..<size).map { _ in UInt8(truncatingIfNeeded: next()) })
        }
        return result
    }

    @Test func `the JSON-lines file holds every block given, in order, once close returns`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("blocks.jsonl").path
        let blocks = Self.blocks(count: 40)
        let sink = try JSONLinesSink(path: path)
        for block in blocks { block.withUnsafeBytes { sink.write(stream: $0) } }
        try sink.close()
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written == Data(blocks.joined()))
    }

    @Test func `a write that fails on the writer's thread is reported by close`() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let sink = try JSONLinesSink(path: "/dev/full")
        let block = [UInt8](repeating: 0x41, count: 4096)
        block.withUnsafeBytes { sink.write(stream: $0) }
        #expect(throws: TraceError.writeFailed(path: "/dev/full", errno: ENOSPC)) { try sink.close() }
    }

    /// Both canonical streams and the hash of one run, the hash read every `hashEvery` completions
    /// too; `inPlace` adds a sink of events that reads each line, which keeps the encoding on the
    /// reactor's thread.
    func run(inPlace: Bool, hashEvery: Int) throws -> (records: [UInt8], lines: [UInt8], hashes: [String]) {
        let w = receiveWorkload(seed: 9, randomPackets)
        let records = RecordCapture(), lines = LineCapture()
        var sinks: [any TraceSink] = [records, lines, TraceHasher()]
        let reader = LineReader()
        if inPlace { sinks.append(reader) }
        let tracer = Tracer(reactor: w.reactor, sinks: sinks)
        w.attach(tracer)
        try w.start()
        var hashes: [String] = []
        // 3,000 completions are over 70,000 events: several blocks of the encoding thread.
        var done = 0
        while done < 3_000 {
            done += hashEvery
            try w.run(completions: done)
            hashes.append(tracer.hash ?? "none")
        }
        hashes.append(try tracer.finish() ?? "none")
        if inPlace { #expect(reader.linesRead == tracer.eventCount && reader.malformed == 0, "every event's line was there for the sink") }
        return (records.bytes, lines.bytes, hashes)
    }

    @Test func `encoding on the tracer's own thread gives the same records, lines and hashes as encoding in place`() throws {
        let inPlace = try run(inPlace: true, hashEvery: 700)
        let offThread = try run(inPlace: false, hashEvery: 700)
        #expect(inPlace.records.count > 64 << 10, "the records fill more than one block")
        #expect(offThread.records == inPlace.records)
        #expect(offThread.lines == inPlace.lines)
        #expect(offThread.hashes == inPlace.hashes)
        // The hash is the SHA-256 of the records handed on, read midway or at the end.
        #expect(offThread.hashes.last == SHA256.hash(data: offThread.records).map { String(format: "%02x", $0) }.joined())
    }

    /// Events with text built anew for each (so each string is its own heap object, released by the
    /// caller as soon as `record` returns), mixed with plain ones, over several blocks.
    func recordTextEvents(inPlace: Bool) throws -> (records: [UInt8], lines: [UInt8]) {
        let reactor = Reactor(clock: .virtual)
        let records = RecordCapture(), lines = LineCapture()
        var sinks: [any TraceSink] = [records, lines]
        if inPlace { sinks.append(LineReader()) }
        let tracer = Tracer(reactor: reactor, sinks: sinks)
        let device = TraceName("text-device")
        for k in 0..<(3 * Tracer.blockEvents) {  // several blocks
            switch k % 4 {
            case 0: tracer.record(.fault(channel: device, fault: String(repeating: "slave-error ", count: 1 + k % 5) + "\(k)"))
            case 1: tracer.record(.finding(kind: "kind \(k) of a long enough text", severity: "error", detail: String(repeating: "d", count: 20 + k % 40)))
            case 2: tracer.record(.uioRead(device: device, count: Int32(k), previous: Int32(k - 1)))
            default: tracer.record(.byteOrder(device: device, offset: 0x34, access: .read, assumed: "big-endian \(k % 3) assumed here",
                                              deviceValue: UInt32(k), cpuValue: UInt32(k).byteSwapped))
            }
        }
        try tracer.finish()
        return (records.bytes, lines.bytes)
    }

    @Test func `events carrying text are kept alive until encoded on the tracer's thread: the same bytes as in place`() throws {
        let inPlace = try recordTextEvents(inPlace: true)
        let offThread = try recordTextEvents(inPlace: false)
        #expect(!inPlace.records.isEmpty && !inPlace.lines.isEmpty)
        #expect(offThread.records == inPlace.records)
        #expect(offThread.lines == inPlace.lines)
    }
}

/// Keeps the JSON-lines stream a tracer hands its file.
final class LineCapture: TraceSink {
    private(set) var bytes: [UInt8] = []
    var stream: CanonicalForm? { .jsonLines }
    func declare(_ track: TraceTrack) {}
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {}
    func write(stream bytes: UnsafeRawBufferPointer) { self.bytes += bytes }
    func close() throws(TraceError) {}
}

/// A sink of events that reads each event's canonical line (one line, ending with its newline).
final class LineReader: TraceSink {
    private(set) var linesRead = 0
    private(set) var malformed = 0
    func declare(_ track: TraceTrack) {}
    func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        linesRead += 1
        if line.last != UInt8(ascii: "\n") || line.dropLast().contains(UInt8(ascii: "\n")) { malformed += 1 }
    }
    func close() throws(TraceError) {}
}
