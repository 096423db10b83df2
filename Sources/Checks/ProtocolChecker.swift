import Board
import Reactor
import Trace

/// The protocol checker (DESIGN.md, "Protocol checker"): a trace sink that reads the same typed
/// events as every other sink (register accesses, channel status, transfers, UIO reads, enables and
/// handler runs, buffer lifetimes, syncs and CPU accesses, byte-order mismatches) and reports each
/// rule of `ProtocolRule` a driver breaks, with the board time, the device, the register and the
/// values. It sees the built-in drivers and attached programs alike, because both reach the board
/// through the same models.
///
/// It needs no canonical line, so a tracer whose only sink it is encodes none: checking costs the
/// events and the rules, not the trace file. Each finding is also recorded into the trace (a
/// `protocol-finding` event right after the event that caused it). The rules that need the run to
/// be over (an interrupt never re-enabled, missed interrupts nobody accounted for) are decided by
/// `finish()`, which the run calls before the tracer's own finish.
///
/// The rules live in extensions by subject: `+Channels` (registers, LENGTH, reset), `+Interrupts`
/// (UIO), `+Buffers` (DMA addresses and syncs). Not thread-safe: it lives on the reactor's thread.
public final class ProtocolChecker: TraceSink {
    /// Findings kept in detail; beyond it they are only counted (`counts` is exact).
    public static let logLimit = 256

    let board: CheckedBoard
    weak var tracer: Tracer?
    /// The board time of the event being checked.
    var now: Int64 = 0
    private(set) var counts: [ProtocolRule: Int] = [:]
    private(set) var log: [ProtocolFinding] = []
    private(set) var isFinished = false

    /// Per channel (trace name), per UIO node, per DMA buffer: what the events so far say.
    var channels: [String: ChannelState] = [:]
    var nodes: [String: NodeState] = [:]
    var buffers: [String: BufferState] = [:]
    /// Buffers freed so far (the last `freedLimit`), to tell a stale address from a wild one.
    var freed: [BufferState] = []
    static let freedLimit = 64
    /// The DMA address rules apply once the run has DMA buffers (a script without a heap programs raw
    /// addresses on purpose).
    var hasBuffers = false

    public init(profile: BoardProfile) {
        board = CheckedBoard(profile: profile)
        for (name, channel) in board.channels { channels[name] = ChannelState(channel) }
        for (node, channel) in board.nodeChannels { nodes[node] = NodeState(channel: channel) }
    }

    /// Everything found so far.
    public var report: ProtocolReport {
        ProtocolReport(counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.id, $0.value) }), findings: log)
    }

    // MARK: TraceSink

    public var needsCanonicalLine: Bool { false }

    public func attached(to tracer: Tracer) { self.tracer = tracer }

    public func declare(_ track: TraceTrack) {}

    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        guard !isFinished else { return }
        now = nanoseconds
        switch event {
        case let .register(device, _, offset, value, access):
            if access == .write { registerWritten(device: device, offset: offset, value: value) }
        case let .channelStatus(channel, control, status): statusChanged(channel, control: control, status: status)
        case let .dmaStart(channel, address, bytes): transferStarted(channel, address: address, bytes: bytes)
        case let .dmaDone(channel, bytes): transferDone(channel, bytes: bytes)
        case let .dmaError(channel, _): transferFailed(channel)
        case let .uioInterrupt(device, _): handlerRan(node: device)
        case let .uioEnable(device, enabled): interruptEnabled(node: device, enabled)
        case let .uioRead(device, count, previous): countRead(node: device, count: count, previous: previous)
        case let .uioStorm(device, events): stormDetected(node: device, events: events)
        case let .lostInterrupts(_, count): lostInterruptsAccounted(count)
        case let .bufferLifetime(buffer, address, bytes, live): bufferChanged(buffer, address: address, bytes: bytes, live: live)
        case let .bufferSync(buffer, toDevice, offset, bytes): bufferSynced(buffer, toDevice: toDevice, offset: offset, bytes: bytes)
        case let .cpuAccess(buffer, offset, bytes, access): cpuAccessed(buffer, offset: offset, bytes: bytes, write: access == .write)
        case let .byteOrder(device, offset, access, assumed, deviceValue, cpuValue):
            byteOrderMismatch(device, offset: offset, access: access, assumed: assumed, deviceValue: deviceValue, cpuValue: cpuValue)
        case .interruptLine, .driverState, .slotOwner, .bufferOwner, .fault, .finding, .protocolFinding:
            break
        }
    }

    /// Decides the end-of-run rules; idempotent. Call it before the tracer finishes, so its findings
    /// reach the trace.
    public func finish() {
        guard !isFinished else { return }
        runEnded()
        isFinished = true
    }

    public func close() throws(TraceError) { finish() }

    // MARK: findings

    /// Counts a finding, keeps it (the first `logLimit`) and records it into the trace.
    func report(_ rule: ProtocolRule, at nanoseconds: Int64? = nil, device: String, register: String = "", values: String) {
        let finding = ProtocolFinding(rule: rule, nanoseconds: nanoseconds ?? now, device: device, register: register, values: values)
        counts[rule, default: 0] += 1
        if log.count < Self.logLimit { log.append(finding) }
        tracer?.record(.protocolFinding(rule: rule.id, device: device, register: register, values: values))
    }
}
