import Checks
import Devices
import Driver
import Reactor
import UIO

/// What a workload run did, and whether the invariants of DESIGN.md held:
/// bytes produced = delivered + held + dropped with a reason; every delivered byte matches the
/// pattern; buffers cycle through exactly the ring allocated at start (no allocation after start);
/// no DMA outside live buffers; no level-interrupt storm.
public struct WorkloadReport: Sendable, Encodable {
    public struct Invariant: Sendable, Codable {
        public let name: String
        public let holds: Bool
        public let detail: String
    }

    public let board: String
    public let boardTimeNanoseconds: Int64
    public let driverState: String
    public let completions: Int
    public let bytes: Int
    public let lostInterrupts: Int
    public let spuriousInterrupts: Int
    public let errors: [String: Int]
    public let recoveries: Int
    public let ringFullStalls: Int
    public let maxHeldByConsumer: Int
    public let producedBytes: UInt64
    public let deliveredBytes: UInt64
    public let heldBytes: UInt64
    public let droppedBytes: [String: UInt64]
    public let verifiedBytes: UInt64
    public let mismatchedBytes: UInt64
    public let uioEvents: UInt32
    public let latencyNanoseconds: [String: UInt64]
    public let findings: [String: Int]
    public let invariants: [Invariant]
    /// SHA-256 of the canonical trace so far, when a hashing tracer is attached.
    public let traceHash: String?
    /// What the protocol checker found, when it ran (`run --check`, `--strict`).
    public var protocolFindings: ProtocolReport?

    public var allInvariantsHold: Bool { invariants.allSatisfy(\.holds) }

    /// The JSON keys: what `play` and `attach` call the same figure, they call it too (in
    /// camelCase here; `--json` prints snake_case: `bytes_delivered`, `lost_irqs`).
    enum CodingKeys: String, CodingKey {
        case board, boardTimeNanoseconds, driverState, completions, bytes, errors, recoveries, ringFullStalls, maxHeldByConsumer
        case lostInterrupts = "lostIrqs", spuriousInterrupts = "spuriousIrqs"
        case producedBytes = "bytesProduced", deliveredBytes = "bytesDelivered", heldBytes = "bytesHeld"
        case droppedTotal = "bytesDropped", droppedBytes = "bytesDroppedByReason"
        case verifiedBytes, mismatchedBytes, uioEvents, latencyNanoseconds, findings, invariants, traceHash
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(board, forKey: .board)
        try c.encode(boardTimeNanoseconds, forKey: .boardTimeNanoseconds)
        try c.encode(driverState, forKey: .driverState)
        try c.encode(completions, forKey: .completions)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(lostInterrupts, forKey: .lostInterrupts)
        try c.encode(spuriousInterrupts, forKey: .spuriousInterrupts)
        try c.encode(errors, forKey: .errors)
        try c.encode(recoveries, forKey: .recoveries)
        try c.encode(ringFullStalls, forKey: .ringFullStalls)
        try c.encode(maxHeldByConsumer, forKey: .maxHeldByConsumer)
        try c.encode(producedBytes, forKey: .producedBytes)
        try c.encode(deliveredBytes, forKey: .deliveredBytes)
        try c.encode(heldBytes, forKey: .heldBytes)
        try c.encode(droppedBytes.values.reduce(0, +), forKey: .droppedTotal)
        try c.encode(droppedBytes, forKey: .droppedBytes)
        try c.encode(verifiedBytes, forKey: .verifiedBytes)
        try c.encode(mismatchedBytes, forKey: .mismatchedBytes)
        try c.encode(uioEvents, forKey: .uioEvents)
        try c.encode(latencyNanoseconds, forKey: .latencyNanoseconds)
        try c.encode(findings, forKey: .findings)
        try c.encode(invariants, forKey: .invariants)
        try c.encodeIfPresent(traceHash, forKey: .traceHash)
    }

    init(_ w: ReceiveWorkload) {
        let m = w.driver.metrics
        let a = w.channel.accounting
        let v = w.consumer.statistics
        let heap = w.uio.heap
        board = w.board.profile.name
        boardTimeNanoseconds = w.reactor.now.nanosecondsSinceStart
        driverState = "\(w.driver.state)"
        completions = m.completions
        bytes = m.bytes
        lostInterrupts = m.lostInterrupts
        spuriousInterrupts = m.spuriousInterrupts
        errors = Dictionary(uniqueKeysWithValues: m.errors.map { ($0.key.rawValue, $0.value) })
        recoveries = m.recoveries
        ringFullStalls = m.ringFullStalls
        maxHeldByConsumer = m.maxHeldByConsumer
        producedBytes = a.producedBytes
        deliveredBytes = a.deliveredBytes
        heldBytes = a.heldBytes
        droppedBytes = Dictionary(uniqueKeysWithValues: DropReason.allCases.compactMap { reason in
            a.dropped[reason] > 0 ? ("\(reason)", a.dropped[reason]) : nil
        })
        verifiedBytes = v.verifiedBytes
        mismatchedBytes = v.mismatchedBytes
        uioEvents = w.uioDevice.eventCount
        let h = w.driver.latency
        latencyNanoseconds = h.totalCount == 0 ? [:] : [
            "p50": h.valueAtPercentile(50), "p99": h.valueAtPercentile(99), "p99.9": h.valueAtPercentile(99.9), "max": h.max,
        ]
        var f: [String: Int] = [:]
        for kind in DMAFinding.Kind.allCases {
            let n = heap.findings.count(kind, .violation) + heap.findings.count(kind, .warning)
            if n > 0 { f[kind.rawValue] = n }
        }
        findings = f
        traceHash = w.tracer?.hash

        let ringAddresses = Set(w.driver.buffers.map(\.dmaAddress))
        let usedAddresses = Set(w.consumer.addressBySlot.filter { $0 != 0 })
        let dropped = a.dropped.total
        invariants = [
            Invariant(name: "bytes accounted", holds: a.producedBytes == a.deliveredBytes + a.heldBytes + dropped,
                      detail: "produced \(a.producedBytes) = delivered \(a.deliveredBytes) + held \(a.heldBytes) + dropped \(dropped)"),
            Invariant(name: "every byte verified",
                      holds: v.mismatchedBytes == 0 && v.outOfOrder == 0 && v.unexplainedGaps == 0 && UInt64(m.bytes) == v.receivedBytes
                          && (!w.consumer.checksData || v.verifiedBytes == v.receivedBytes),
                      detail: "delivered \(m.bytes) = received \(v.receivedBytes) = verified \(w.consumer.checksData ? "\(v.verifiedBytes)" : "(pattern: none)"), "
                          + "\(v.mismatchedBytes) mismatched, \(v.outOfOrder) out of order; gaps \(v.skippedBytes) bytes = dropped with a reason "
                          + "\(v.skippedBytes - v.abandonedBytes) + abandoned after a driver error \(v.abandonedBytes)"
                          + (v.firstUnexplainedGap.map { "; \(v.unexplainedGaps) unexplained, first: \($0)" } ?? "")),
            Invariant(name: "ring reused", holds: usedAddresses.isSubset(of: ringAddresses) && v.addressChanges == 0
                          && heap.allocationsAfterStart == 0,
                      detail: "\(usedAddresses.count) of \(ringAddresses.count) ring buffers used, \(heap.allocationsAfterStart) allocations after start"),
            Invariant(name: "no DMA outside buffers", holds: heap.findings.count(.dmaOutsideBuffers, .violation) == 0,
                      detail: "\(heap.findings.count(.dmaOutsideBuffers, .violation)) refused or unguarded transfers"),
            Invariant(name: "no level-interrupt storm", holds: w.uioDevice.storms == 0, detail: "\(w.uioDevice.storms) storms"),
            Invariant(name: "no enable with the cause asserted", holds: w.uioDevice.enablesWithCauseAsserted == 0,
                      detail: "\(w.uioDevice.enablesWithCauseAsserted) enables of the line with the last interrupt's cause never cleared"),
            Invariant(name: "completions signalled once", holds: m.completionMisuses == 0,
                      detail: "\(m.completionMisuses) misuses"),
        ]
    }

    /// A few lines for people.
    public var summary: String {
        var lines: [String] = []
        let seconds = Double(boardTimeNanoseconds) / 1e9
        lines.append("board \(board), \(String(format: "%.6f", seconds)) s of board time, driver \(driverState)")
        lines.append("completions \(completions), bytes \(bytes), verified \(verifiedBytes) (\(mismatchedBytes) mismatched)")
        lines.append("interrupts: \(uioEvents) events, \(lostInterrupts) lost, \(spuriousInterrupts) spurious")
        let errorText = errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("errors: \(errorText); recoveries \(recoveries); ring full \(ringFullStalls) times, consumer held up to \(maxHeldByConsumer)")
        let dropText = droppedBytes.isEmpty ? "none" : droppedBytes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("stream: produced \(producedBytes), delivered \(deliveredBytes), held \(heldBytes), dropped: \(dropText)")
        if !latencyNanoseconds.isEmpty {
            lines.append("interrupt-to-handler latency (ns): " + ["p50", "p99", "p99.9", "max"].map { "\($0) \(latencyNanoseconds[$0]!)" }.joined(separator: ", "))
        }
        if !findings.isEmpty {
            lines.append("DMA findings: " + findings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        for i in invariants { lines.append("\(i.holds ? "ok  " : "FAIL") \(i.name): \(i.detail)") }
        if let protocolFindings {
            lines.append(protocolFindings.isEmpty ? "protocol checker: no findings" : "protocol checker: \(protocolFindings.total) finding(s)")
            lines += protocolFindings.lines
        }
        if let traceHash { lines.append("trace-hash \(traceHash)") }
        return lines.joined(separator: "\n")
    }
}
