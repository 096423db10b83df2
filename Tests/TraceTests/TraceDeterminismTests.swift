import Devices
import Foundation
import Scenario
import Testing
import Trace
import TraceFiles

@Suite("Trace determinism")
struct TraceDeterminismTests {
    @Test func `the same seed gives the same trace hash`() throws {
        let (first, a) = try tracedRun(seed: 7, completions: 2_000, randomPackets)
        let (_, b) = try tracedRun(seed: 7, completions: 2_000, randomPackets)
        #expect(a.eventCount > 2_000 * 10)
        #expect(a.hash != nil)
        #expect(a.hash == b.hash)
        #expect(first.report.traceHash == a.hash)
    }

    @Test func `a different seed gives a different trace hash`() throws {
        let (_, a) = try tracedRun(seed: 7, completions: 2_000, randomPackets)
        let (_, b) = try tracedRun(seed: 8, completions: 2_000, randomPackets)
        #expect(a.hash != b.hash)
    }

    @Test func `tracing does not change what the workload does`() throws {
        let untraced = receiveWorkload(seed: 3, randomPackets)
        try untraced.start()
        try untraced.run(completions: 3_000)
        let (traced, _) = try tracedRun(seed: 3, completions: 3_000, randomPackets)
        #expect(untraced.report.traceHash == nil)
        #expect(try reportWithoutHash(untraced.report) == reportWithoutHash(traced.report))
    }

    @Test func `the hash is the SHA-256 of the canonical records, and the JSON lines file gives it back`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.jsonl").path
        let capture = RecordCapture()
        let w = receiveWorkload()
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options(jsonLinesPath: path), also: [capture])
        w.attach(tracer)
        try w.start()
        try w.run(completions: 2_000)
        try tracer.finish()
        #expect(sha256Hex(Data(capture.bytes)) == tracer.hash)
        #expect(try TraceHasher.hash(ofJSONLines: path) == tracer.hash)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(sha256Hex(bytes) != tracer.hash, "the JSON text is not what is hashed")
        #expect(capture.bytes.count * 8 < bytes.count, "the records are a fraction of the text (\(capture.bytes.count) vs \(bytes.count) bytes)")
    }

    @Test func `without hashing or sinks a tracer only counts`() throws {
        let (w, tracer) = try tracedRun(completions: 100, options: Tracer.Options(hashing: false))
        #expect(tracer.hash == nil)
        #expect(tracer.eventCount > 0)
        #expect(w.report.traceHash == nil)
    }

    @Test func `a fault and the recovery it causes are in the trace`() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trace.jsonl").path
        let w = receiveWorkload()
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options(jsonLinesPath: path))
        w.attach(tracer)
        try w.start()
        try w.run(completions: 10)
        try w.channel.inject(.slaveError)
        try w.run(completions: 20)
        try tracer.finish()
        let kinds = try jsonLines(path).map { $0["ev"] as? String ?? "" }
        let faultAt = try #require(kinds.firstIndex(of: "fault"))
        let errorAt = try #require(kinds.firstIndex(of: "dma-error"))
        #expect(faultAt < errorAt)
        let states = try jsonLines(path).filter { $0["ev"] as? String == "driver-state" }.compactMap { $0["to"] as? String }
        #expect(states.contains { $0.hasPrefix("recovering") })
    }

    @Test func `a transmit workload traces deterministically too`() throws {
        func run() throws -> String? {
            var c = WorkloadConfiguration()
            c.pattern = .prbs31()
            let w = try TransmitWorkload(profile: profile(), seed: 5, configuration: c)
            let tracer = Tracer(reactor: w.reactor, sinks: [TraceHasher()])
            w.attach(tracer)
            try w.start()
            try w.run(completions: 500)
            return try tracer.finish()
        }
        let a = try run()
        #expect(a != nil)
        #expect(a == (try run()))
    }

    private func reportWithoutHash(_ report: WorkloadReport) throws -> NSDictionary {
        let data = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return object.filter { $0.key != "traceHash" } as NSDictionary
    }
}
