import AllocationCounting
import Foundation
import Scenario
import Testing
import Trace
import TraceFiles

/// Runs in its own `swift test` invocation (`make test`), because the interposer is process-wide.
@Suite("DriverAllocationTests", .serialized)
struct DriverAllocationTests {
    @Test("100,000 completions after warm-up allocate nothing, data copied and every byte verified", arguments: [
        "counter", "none",
    ])
    func zeroAllocationsPerCompletion(pattern: String) throws {
        let w = workload { $0.pattern = pattern == "none" ? .none : .counter }
        try w.run(completions: 1_000)  // warm-up: queues and histogram grow to their steady size
        let mallocs = mallocsOnThisThread { try? w.run(completions: 101_000) }
        #expect(w.completions >= 101_000)
        #expect(w.report.completions == 101_000)
        #expect(mallocs == 0)
    }

    @Test("100,000 traced completions after warm-up allocate nothing: the trace hashed, and hashed with the JSON-lines file written",
          arguments: [false, true])
    func zeroAllocationsTraced(withFile: Bool) throws {
        let file = withFile ? FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-alloc-\(getpid()).jsonl").path : nil
        defer { if let file { try? FileManager.default.removeItem(atPath: file) } }
        let w = try ReceiveWorkload(profile: profile(), seed: 1, configuration: WorkloadConfiguration())
        let tracer = try Tracer(reactor: w.reactor, options: Tracer.Options(hashing: true, jsonLinesPath: file))
        w.attach(tracer)
        try w.start()
        try w.run(completions: 1_000)  // warm-up: the blocks and the strings of the run are there
        let eventsBefore = tracer.eventCount
        let mallocs = mallocsOnThisThread { try? w.run(completions: 101_000) }
        #expect(w.report.completions == 101_000)
        #expect(tracer.eventCount - eventsBefore > 100_000 * 20, "the run was traced")
        #expect(mallocs == 0)
        #expect(try tracer.finish()?.count == 64)
    }

    @Test("scatter-gather: 20,000 descriptor completions after warm-up allocate nothing (reap, deliver, recycle, TAILDESC), every byte verified",
          arguments: [1, 4])
    func zeroAllocationsPerSGCompletion(threshold: Int) throws {
        let w = sgWorkload { $0.driver.ringSize = 16; $0.driver.coalescing = .init(threshold: threshold, delay: 10) }
        try w.run(completions: 1_000)  // warm-up
        let mallocs = mallocsOnThisThread { try? w.run(completions: 21_000) }
        #expect(w.completions >= 21_000)
        #expect(w.consumer.statistics.mismatchedBytes == 0 && w.consumer.statistics.verifiedBytes == w.consumer.statistics.receivedBytes)
        #expect(mallocs == 0)
    }

    @Test("the count is real: a run that allocates per completion is seen")
    func countingWorks() {
        var kept: [[UInt8]] = []
        let mallocs = mallocsOnThisThread { for n in 0..<10 { kept.append([UInt8](repeating: UInt8(n), count: 100)) } }
        #expect(mallocs >= 10)
        #expect(kept.count == 10)
    }
}
