import Attach
import Checks
import Devices
import Reactor
import UIO

/// What `uioemu attach` reports: how the program ended and when, what the board did, every finding,
/// and the exit status that follows from them.
public struct AttachReport: Encodable, Sendable {
    public struct Node: Codable, Sendable {
        public let name: String
        public let interrupts: UInt32
        public let storms: Int
        public let enablesWithCauseAsserted: Int
    }

    public let command: [String]
    public let seed: UInt64
    public let board: String
    public let time: String
    /// How the program ended ("exited with status 0", ...), or why it is still unknown.
    public let ending: String
    public let programStatus: Int32?
    public let boardTimeNanoseconds: Int64
    public let completions: Int
    public let bytesDelivered: UInt64
    /// In all, and by reason.
    public let bytesDropped: UInt64
    public let bytesDroppedByReason: [String: UInt64]
    public let registerAccesses: Int
    public let nodes: [Node]
    public let findings: [String: Int]
    /// What the protocol checker found.
    public let protocolFindings: ProtocolReport
    public let problems: [String]
    public let notes: [String]
    public let streamBalances: Bool
    public let traceHash: String?
    /// PASS, FAIL or INTERRUPTED, as `play` and `run` say it (`"pass"`... in JSON).
    public let result: Verdict
    /// SIGINT or SIGTERM when interrupted.
    public let signal: String?
    public let exitStatus: Int32

    /// `strict`: any protocol finding fails the run (`attach --strict`).
    public init(workload: AttachWorkload, seed: UInt64, traceHash: String? = nil, stuckAt: Instant?, interruptedBy signal: Int32?,
                protocolFindings: ProtocolReport = ProtocolReport(), strict: Bool = false) {
        let session = workload.session
        command = session.options.command
        self.seed = seed
        self.traceHash = traceHash
        board = workload.board.profile.name
        time = workload.reactor.clock == .virtual ? "virtual" : "realtime"
        let end = session.endedAt ?? workload.reactor.now
        boardTimeNanoseconds = end.nanosecondsSinceStart
        completions = workload.completions
        var delivered: UInt64 = 0
        var dropped: [String: UInt64] = [:]
        var balances = true
        for dma in workload.devices.axiDMAs {
            if let a = dma.s2mm?.accounting {
                delivered += a.deliveredBytes
                balances = balances && a.balances
                for reason in DropReason.allCases where a.dropped[reason] > 0 { dropped["\(reason)", default: 0] += a.dropped[reason] }
            }
            if let sink = dma.mm2s?.sinkStatistics { delivered += sink.bytes }
        }
        bytesDelivered = delivered
        bytesDropped = dropped.values.reduce(0, +)
        bytesDroppedByReason = dropped
        streamBalances = balances
        registerAccesses = session.registerAccesses
        nodes = workload.uio.devices.map {
            Node(name: $0.name, interrupts: $0.eventCount, storms: $0.storms, enablesWithCauseAsserted: $0.enablesWithCauseAsserted)
        }
        var findings: [String: Int] = [:]
        var violations = 0
        for kind in DMAFinding.Kind.allCases {
            let v = workload.uio.heap.findings.count(kind, .violation)
            let w = workload.uio.heap.findings.count(kind, .warning)
            if v + w > 0 { findings[kind.rawValue] = v + w }
            violations += v
        }
        for node in nodes {
            if node.storms > 0 { findings["storm", default: 0] += node.storms }
            if node.enablesWithCauseAsserted > 0 { findings["enables-with-cause-asserted", default: 0] += node.enablesWithCauseAsserted }
        }
        self.findings = findings
        self.protocolFindings = protocolFindings
        var problems = session.problems
        if let stuckAt {
            problems.append("at board time \(stuckAt) the program waits for the board, and nothing on the board can happen any more (no transfer armed, no timer): on hardware it would wait for ever")
        }
        self.problems = problems
        notes = session.notes
        self.signal = signal.map(Verdict.signalName)
        let failed = !problems.isEmpty || violations > 0 || findings["storm"] != nil || findings["enables-with-cause-asserted"] != nil
            || !balances || (strict && !protocolFindings.isEmpty)
        switch session.ending {
        case let .exited(status)?:
            ending = "the program exited with status \(status)"
            programStatus = status
        case let .signalled(s)?:
            ending = "the program was \(AttachSession.Ending.signalled(signal: s))"
            programStatus = 128 + s
        case let .stopped(s)?:
            ending = signal != nil ? "uioemu was interrupted; the program was stopped with signal \(s)" : "the program was \(AttachSession.Ending.stopped(signal: s))"
            programStatus = nil
        case nil:
            ending = "the program's end is unknown"
            programStatus = nil
        }
        // The program's own non-zero status is a FAIL that exits with that status.
        let status = programStatus ?? 0
        result = Verdict(failed: failed || status != 0, interruptedBy: signal)
        switch result {
        case .pass: exitStatus = 0
        case .fail: exitStatus = failed ? 1 : status
        case .interrupted: exitStatus = result.exitStatus
        }
    }

    public var summary: String {
        var lines: [String] = []
        lines.append("seed \(seed)")
        lines.append("\(command.joined(separator: " ")) on \(board) (\(time) time)")
        lines.append("\(ending) at board time \(Instant(nanosecondsSinceStart: boardTimeNanoseconds))")
        lines.append("completions \(completions), bytes delivered \(bytesDelivered), register accesses \(registerAccesses)")
        if !bytesDroppedByReason.isEmpty {
            lines.append("bytes dropped: " + bytesDroppedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        for node in nodes { lines.append("  \(node.name): \(node.interrupts) interrupt(s)") }
        for (kind, count) in findings.sorted(by: { $0.key < $1.key }) { lines.append("finding \(kind): \(count)") }
        lines += protocolFindings.lines
        for problem in problems { lines.append("problem: \(problem)") }
        for note in notes { lines.append("note: \(note)") }
        lines.append("stream accounting (produced = delivered + held + dropped): \(streamBalances ? "holds" : "BROKEN")")
        if let traceHash { lines.append("trace-hash \(traceHash)") }
        if case let .interrupted(signal) = result {
            lines.append(Verdict.interruptionLine(signal: signal, at: Instant(nanosecondsSinceStart: boardTimeNanoseconds)))
        } else {
            lines.append("\(result.word) (exit \(exitStatus))")
        }
        return lines.joined(separator: "\n")
    }
}
