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
    /// The tracer the checker is a sink of, which owns it: unretained, since a `weak` reference would
    /// give the tracer a side table and make every retain of it, at every recording site, slow.
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access.
    @exclusivity(unchecked) var tracer: Unmanaged<Tracer>?
    /// The board time of the event being checked.
    @exclusivity(unchecked) var now: Int64 = 0
    @exclusivity(unchecked) private(set) var counts: [ProtocolRule: Int] = [:]
    @exclusivity(unchecked) private(set) var log: [ProtocolFinding] = []
    @exclusivity(unchecked) private(set) var isFinished = false

    /// Per channel (trace name), per UIO node, per DMA buffer: what the events so far say. Objects,
    /// so a rule updates them in place (no copy and write-back per event). These own them.
    let channels: [String: ChannelState]
    let nodes: [String: NodeState]
    @exclusivity(unchecked) var buffers: [TraceName: BufferState] = [:]
    /// The live buffers by address (then name), and the one the last DMA address fell in (a ring is
    /// walked in order: the next search starts after it). Unretained (`buffers` owns them): remade
    /// whenever a buffer comes or goes, so they never outlive their buffer.
    @exclusivity(unchecked) var liveBuffers: [Unmanaged<BufferState>] = []
    @exclusivity(unchecked) var lastBuffer: Unmanaged<BufferState>?
    @exclusivity(unchecked) var lastBufferIndex = 0
    /// The live buffer of each name, by the name's number (an array index, no hash), unretained.
    @exclusivity(unchecked) var buffersByName: [Unmanaged<BufferState>?] = []
    /// Each AXI DMA's register decode, by device name (the end-of-run and byte-order rules).
    let decoders: [String: RegisterDecoder]
    /// The per-event lookups: the state of the device, channel or UIO node an event names, by the
    /// name's number (an array index: no hash, no string compared, no reference counted).
    let decoderIndex: NameIndex<RegisterDecoder>
    let channelIndex: NameIndex<ChannelState>
    let nodeIndex: NameIndex<NodeState>
    /// Buffers freed so far (the last `freedLimit`), to tell a stale address from a wild one.
    @exclusivity(unchecked) var freed: [BufferState] = []
    static let freedLimit = 64
    /// The DMA address rules apply once the run has DMA buffers (a script without a heap programs raw
    /// addresses on purpose).
    @exclusivity(unchecked) var hasBuffers = false

    public init(profile: BoardProfile) {
        board = CheckedBoard(profile: profile)
        let channels = board.channels.mapValues(ChannelState.init)
        var nodes: [String: NodeState] = [:]
        for (name, channel) in board.nodeChannels.sorted(by: { $0.key < $1.key }) {
            guard let state = channels[channel] else { continue }
            let node = NodeState(name: name, channel: state)
            nodes[name] = node
            state.nodes.append(.passUnretained(node))
        }
        self.channels = channels
        self.nodes = nodes
        let decoders = board.devices.mapValues { RegisterDecoder($0, channels: channels) }
        self.decoders = decoders
        decoderIndex = NameIndex(decoders.values.map { ($0.traceName, $0) })
        channelIndex = NameIndex(channels.values.map { ($0.traceName, $0) })
        nodeIndex = NameIndex(nodes.values.map { ($0.traceName, $0) })
    }

    /// Everything found so far.
    public var report: ProtocolReport {
        ProtocolReport(counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.id, $0.value) }), findings: log)
    }

    // MARK: TraceSink

    public var needsCanonicalLine: Bool { false }

    public func attached(to tracer: Tracer) { self.tracer = .passUnretained(tracer) }

    public func declare(_ track: TraceTrack) {}

    /// The kinds `write` looks at: the tracer does not call it for the others (the `break` below).
    public var eventKinds: TraceEventKinds {
        TraceEventKinds.all.subtracting([.interruptLine, .driverState, .slotOwner, .bufferOwner, .fault, .finding, .protocolFinding])
    }

    /// Inlined into the tracer's call (`TraceSink.write(_:at:line:to:)`): one call per event, not two.
    @inline(__always)
    public func write(_ event: TraceEvent, at nanoseconds: Int64, line: UnsafeRawBufferPointer) {
        guard !isFinished else { return }
        now = nanoseconds
        // The channel and node handlers take their state guaranteed (unretained, owned by the
        // dictionaries): no retain or release per event.
        switch event {
        case let .register(device, _, offset, value, access):
            if access == .write, let decoder = decoderIndex[device] {
                decoder._withUnsafeGuaranteedRef { registerWritten($0, offset: offset, value: value) }
            }
        case let .channelStatus(channel, control, status):
            channelIndex[channel]?._withUnsafeGuaranteedRef { statusChanged($0, control: control, status: status) }
        case let .dmaStart(channel, address, bytes):
            channelIndex[channel]?._withUnsafeGuaranteedRef { transferStarted($0, address: address, bytes: bytes) }
        case let .dmaDone(channel, bytes):
            channelIndex[channel]?._withUnsafeGuaranteedRef { transferDone($0, bytes: bytes) }
        case let .descriptorFetch(channel, address, next, buffer, control, _):
            channelIndex[channel]?._withUnsafeGuaranteedRef { descriptorFetched($0, address: address, next: next, buffer: buffer, control: control) }
        case let .dmaError(channel, _):
            channelIndex[channel]?._withUnsafeGuaranteedRef { $0.inFlight = false }
        case let .uioInterrupt(device, _):
            nodeIndex[device]?._withUnsafeGuaranteedRef { handlerRan($0) }
        case let .uioEnable(device, enabled):
            nodeIndex[device]?._withUnsafeGuaranteedRef { interruptEnabled($0, enabled) }
        case let .uioRead(device, count, previous):
            nodeIndex[device]?._withUnsafeGuaranteedRef { countRead($0, count: count, previous: previous) }
        case let .uioStorm(device, events): stormDetected(node: device, events: events)
        case let .lostInterrupts(_, count): lostInterruptsAccounted(count)
        case let .bufferLifetime(buffer, address, bytes, live): bufferChanged(buffer, address: address, bytes: bytes, live: live)
        case let .bufferSync(buffer, toDevice, offset, bytes): bufferSynced(buffer, toDevice: toDevice, offset: offset, bytes: bytes)
        case let .cpuAccess(buffer, offset, bytes, access): cpuAccessed(buffer, offset: offset, bytes: bytes, write: access == .write)
        case let .byteOrder(device, offset, access, assumed, deviceValue, cpuValue):
            byteOrderMismatch(device, offset: offset, access: access, assumed: assumed, deviceValue: deviceValue, cpuValue: cpuValue)
        case .interruptLine, .driverState, .slotOwner, .bufferOwner, .fault, .finding, .protocolFinding:
            break  // not in `eventKinds`: not given to the checker
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
        tracer?._withUnsafeGuaranteedRef { $0.record(.protocolFinding(rule: rule.id, device: device, register: register, values: values)) }
    }

    /// The live buffer named `name`, unretained.
    @inline(__always)
    func buffer(_ name: TraceName) -> Unmanaged<BufferState>? {
        let index = Int(name.number)
        return index < buffersByName.count ? buffersByName[index] : nil
    }
}

/// States by the number of the `TraceName` that names them: an array index per event. Unretained:
/// the checker's dictionaries own the states for its whole life.
struct NameIndex<State: AnyObject> {
    private let table: [Unmanaged<State>?]

    init(_ states: [(TraceName, State)]) {
        var table = [Unmanaged<State>?](repeating: nil, count: Int(states.map(\.0.number).max() ?? 0) + 1)
        for (name, state) in states { table[Int(name.number)] = .passUnretained(state) }  // bounded: the states
        self.table = table
    }

    @inline(__always)
    subscript(name: TraceName) -> Unmanaged<State>? {
        let index = Int(name.number)
        return index < table.count ? table[index] : nil
    }
}
