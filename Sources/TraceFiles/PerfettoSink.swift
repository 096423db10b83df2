import Trace

/// Chrome trace-event JSON ("JSON Object Format" of the Trace Event Format document), which
/// ui.perfetto.dev and chrome://tracing open: `{"displayTimeUnit":"ns","traceEvents":[...]}`.
///
/// One process (the board) with one thread track per DMA channel, driver and interrupt line, plus
/// tracks for each device's registers, each UIO file, the DMA buffers and the findings, each named by
/// an `M` (metadata) event when first used. Transfers and driver states are complete spans (`X`,
/// written when they end, so an aborted transfer never leaves an unmatched `B`); interrupts,
/// register accesses, faults and findings are instants (`i`); each line's level is also a counter
/// (`C`). `ts` is in microseconds with the nanoseconds as three decimals. This file is for people
/// and is not hashed.
public final class PerfettoSink: TraceSink {
    static let pid = 1

    private let file: TraceFile
    private var tids: [String: Int] = [:]
    private var firstEvent = true
    private var lastNanoseconds: Int64 = 0
    /// Open transfer per channel: start time, address and bytes.
    private var transfers: [String: (start: Int64, address: UInt64, bytes: Int)] = [:]
    /// Open state span per driver: its name and start time.
    private var driverStates: [String: (name: String, start: Int64)] = [:]

    public init(path: String) throws(TraceError) {
        file = try TraceFile(path: path)
        file.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")
        emit("{\"ph\":\"M\",\"pid\":\(Self.pid),\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"uioemu board\"}}")
    }

    /// Reads the typed event only: no canonical line is made for this sink.
    public var needsCanonicalLine: Bool { false }

    public func declare(_ track: TraceTrack) { _ = tid(track.name) }

    public func write(_ event: TraceEvent, at ns: Int64, line: UnsafeRawBufferPointer) {
        lastNanoseconds = max(lastNanoseconds, ns)
        switch event {
        case let .register(device, register, offset, value, access):
            instant(on: "\(device) registers", "\(register) \(access.rawValue)", at: ns,
                    args: "\"offset\":\(offset),\"value\":\(json(hex(value)))")
        case let .interruptLine(line, high):
            let track = TraceTrack.interruptLine(line, initialHigh: false).name
            instant(on: track, high ? "high" : "low", at: ns, args: "")
            emit("{\"ph\":\"C\",\"pid\":\(Self.pid),\"ts\":\(micro(ns)),\"name\":\(json(track)),\"args\":{\"level\":\(high ? 1 : 0)}}")
        case let .uioRead(device, count, previous):
            instant(on: "\(device) (uio)", "read \(count)", at: ns, args: "\"count\":\(count),\"previous\":\(previous)")
        case let .uioEnable(device, enabled):
            instant(on: "\(device) (uio)", enabled ? "enable" : "disable", at: ns, args: "")
        case let .uioInterrupt(device, count):
            instant(on: "\(device) (uio)", "interrupt \(count)", at: ns, args: "\"count\":\(count)")
        case let .uioStorm(device, events):
            instant(on: "\(device) (uio)", "storm", at: ns, args: "\"events\":\(events)")
        case let .dmaStart(name, address, bytes):
            let channel = name.string
            endTransfer(channel, "transfer (aborted)", at: ns, args: "")
            transfers[channel] = (ns, address, bytes)
            _ = tid(channel)
        case let .dmaDone(name, bytes):
            let channel = name.string
            if !endTransfer(channel, "transfer", at: ns, args: ",\"received\":\(bytes)") {
                instant(on: channel, "done \(bytes)", at: ns, args: "")
            }
        case let .dmaError(name, status):
            let channel = name.string
            if !endTransfer(channel, "transfer error", at: ns, args: ",\"dmasr\":\(json(hex(status)))") {
                instant(on: channel, "error", at: ns, args: "\"dmasr\":\(json(hex(status)))")
            }
        case .channelStatus:
            break  // the waveform's business (VCD); the spans already show the transfers
        case let .driverState(name, from, to, _):
            let driver = name.string
            let open = driverStates[driver] ?? (from.string, 0)
            if ns > open.start { span(on: driver, open.name, from: open.start, to: ns, args: "") }
            driverStates[driver] = (to.string, ns)
        case let .slotOwner(driver, slot, from, to):
            instant(on: driver.string, "slot \(slot): \(from) → \(to)", at: ns, args: "")
        case let .bufferOwner(buffer, from, to):
            instant(on: "dma buffers", "\(buffer): \(from) → \(to)", at: ns, args: "")
        case let .bufferLifetime(buffer, address, bytes, live):
            instant(on: "dma buffers", "\(buffer) \(live ? "allocated" : "freed")", at: ns,
                    args: "\"address\":\(json(hex(address))),\"bytes\":\(bytes)")
        case let .bufferSync(buffer, toDevice, offset, bytes):
            instant(on: "dma buffers", "\(buffer) sync for \(toDevice ? "device" : "cpu")", at: ns, args: "\"offset\":\(offset),\"bytes\":\(bytes)")
        case let .cpuAccess(buffer, offset, bytes, access):
            instant(on: "dma buffers", "\(buffer) CPU \(access.rawValue)", at: ns, args: "\"offset\":\(offset),\"bytes\":\(bytes)")
        case let .byteOrder(device, offset, access, assumed, deviceValue, cpuValue):
            instant(on: "\(device) registers", "byte order: \(access.rawValue) assumed \(assumed)", at: ns,
                    args: "\"offset\":\(offset),\"device\":\(json(hex(deviceValue))),\"cpu\":\(json(hex(cpuValue)))")
        case let .lostInterrupts(driver, count):
            instant(on: driver.string, "\(count) lost interrupt(s)", at: ns, args: "")
        case let .fault(channel, fault):
            instant(on: channel.string, "fault: \(fault)", at: ns, args: "")
        case let .descriptorFetch(channel, address, next, buffer, control, status):
            instant(on: channel.string, "descriptor \(hex(address))", at: ns,
                    args: "\"nxtdesc\":\(json(hex(next))),\"buffer\":\(json(hex(buffer))),\"control\":\(json(hex(control))),\"status\":\(json(hex(status)))")
        case let .finding(kind, severity, detail):
            instant(on: "findings", kind, at: ns, args: "\"severity\":\(json(severity)),\"detail\":\(json(detail))")
        case let .protocolFinding(rule, device, register, values):
            instant(on: "findings", rule, at: ns,
                    args: "\"device\":\(json(device)),\"register\":\(json(register)),\"values\":\(json(values))")
        }
    }

    public func close() throws(TraceError) {
        // Whatever is still open ends at the last event: a stalled transfer, the final driver state.
        for channel in transfers.keys.sorted() { endTransfer(channel, "transfer (unfinished)", at: lastNanoseconds, args: "") }
        for driver in driverStates.keys.sorted() {
            let open = driverStates[driver]!
            span(on: driver, open.name, from: open.start, to: max(lastNanoseconds, open.start), args: "")
        }
        driverStates = [:]
        file.write("\n]}\n")
        try file.close()
    }

    // MARK: events

    @discardableResult
    private func endTransfer(_ channel: String, _ name: String, at ns: Int64, args: String) -> Bool {
        guard let open = transfers.removeValue(forKey: channel) else { return false }
        span(on: channel, name, from: open.start, to: ns,
             args: "\"address\":\(json(hex(open.address))),\"bytes\":\(open.bytes)" + args)
        return true
    }

    private func span(on track: String, _ name: String, from start: Int64, to end: Int64, args: String) {
        emit("{\"ph\":\"X\",\"pid\":\(Self.pid),\"tid\":\(tid(track)),\"ts\":\(micro(start)),\"dur\":\(micro(end - start)),"
             + "\"name\":\(json(name)),\"args\":{\(args)}}")
    }

    private func instant(on track: String, _ name: String, at ns: Int64, args: String) {
        emit("{\"ph\":\"i\",\"s\":\"t\",\"pid\":\(Self.pid),\"tid\":\(tid(track)),\"ts\":\(micro(ns)),"
             + "\"name\":\(json(name)),\"args\":{\(args)}}")
    }

    /// The track's thread id, naming it (and fixing its place in the list) the first time.
    private func tid(_ track: String) -> Int {
        if let tid = tids[track] { return tid }
        let tid = tids.count + 1
        tids[track] = tid
        emit("{\"ph\":\"M\",\"pid\":\(Self.pid),\"tid\":\(tid),\"name\":\"thread_name\",\"args\":{\"name\":\(json(track))}}")
        emit("{\"ph\":\"M\",\"pid\":\(Self.pid),\"tid\":\(tid),\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":\(tid)}}")
        return tid
    }

    private func emit(_ object: String) {
        if !firstEvent { file.write(",\n") }
        firstEvent = false
        file.write(object)
    }

    // MARK: formatting

    /// Microseconds with exactly three decimals, from integer nanoseconds (no float rounding).
    private func micro(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    private func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

    private func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
