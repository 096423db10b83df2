import Crypto
import Foundation
import Testing
import Trace
import TraceFiles

/// The hash and the JSON-lines file are made on a thread of each sink's own: what comes out must be
/// exactly the blocks given, in order, whatever their sizes, however fast they come and wherever the
/// hash is read.
@Suite("Hashing and writing beside the reactor")
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

    @Test func `the hash is the SHA-256 of every block given, in order, also read midway`() throws {
        let blocks = Self.blocks(count: 120)
        let sink = TraceHasher()
        var expected = SHA256()
        for (k, block) in blocks.enumerated() {
            block.withUnsafeBytes { sink.write(stream: $0) }
            expected.update(data: block)
            if k == blocks.count / 2 {
                #expect(sink.digest == Self.hex(expected.finalize()), "digest after \(k + 1) blocks")
            }
        }
        #expect(sink.digest == Self.hex(expected.finalize()))
        try sink.close()
        #expect(sink.digest == Self.hex(expected.finalize()), "the digest stays readable after close")
    }

    @Test func `a traced run's hash, read every 500 completions and at the end, is the SHA-256 of the records it was given`() throws {
        let w = receiveWorkload(seed: 9, randomPackets)
        let records = RecordCapture()
        let tracer = Tracer(reactor: w.reactor, sinks: [records, TraceHasher()])
        w.attach(tracer)
        try w.start()
        var done = 0
        while done < 3_000 {  // 3,000 completions: several 64 KiB blocks of records
            done += 500
            try w.run(completions: done)
            #expect(tracer.hash == Self.hex(SHA256.hash(data: records.bytes)), "after \(done) completions")
        }
        let last = try tracer.finish()
        #expect(records.bytes.count > 2 * CanonicalRecords.blockBytes)
        #expect(last == Self.hex(SHA256.hash(data: records.bytes)))
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}

