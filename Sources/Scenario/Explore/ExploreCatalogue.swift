import Board
import Devices
import Reactor

/// The faults one scenario can be given: every kind the catalogue has that its mode and board
/// support. Not drawn: `lost-interrupt` on a level line (a level cannot be lost; the channel
/// refuses it), `stall` without a watchdog (`driver: { watchdog: ... }`: nothing else ends a
/// stalled transfer, so the run would only show that), the built-in driver's own steps
/// (consumer, restart, buffers) for an attached program, and `corrupt-byte` for one (it checks its
/// bytes itself and exits 1 on a corrupted one, which is what it should do). A scatter-gather run
/// also gets the descriptor faults (a stale descriptor not in cyclic mode, where Cmplt is ignored;
/// nor a consumer stall there, which the engine overruns by design).
public struct ExploreCatalogue: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case slaveError = "slave-error", decodeError = "decode-error", internalError = "internal-error", stall
        case delayCompletion = "delay-completion", shortPacket = "short-packet", corruptByte = "corrupt-byte"
        case delayInterrupt = "delay-interrupt", spuriousInterrupt = "spurious-interrupt", lostInterrupt = "lost-interrupt"
        case pauseSource = "pause-source", setRate = "set-rate", consumerStall = "consumer-stall", restartDriver = "restart-driver"
        case freeBuffer = "free-buffer"
        // Scatter-gather only (mode: sg-receive).
        case descriptorSlaveError = "descriptor-slave-error", descriptorDecodeError = "descriptor-decode-error"
        case staleDescriptor = "stale-descriptor"
    }

    /// What a run may draw, in catalogue order.
    public let kinds: [Kind]
    /// The channel the driver uses (its faults go there).
    public let channel: DMADirection
    /// The source's rate in the scenario (what a rate change returns to).
    public let scenarioRate: UInt64?
    let ringSize: Int
    let bufferBytes: Int
    /// Faults are drawn in [`windowStart`, `windowEnd`) and end before `windowEnd` + a tenth of the
    /// run; the rest of the run shows whether the driver came back.
    public let windowStart: TimeSpan
    public let windowEnd: TimeSpan

    /// Nil for `mode: script`, which has no driver to explore.
    public init?(spec: ScenarioSpec, profile: BoardProfile) {
        let w = spec.workload
        let channel: DMADirection
        switch spec.mode {
        case .script: return nil
        case .receive, .sgReceive, .attached: channel = .s2mm
        case .transmit: channel = .mm2s
        }
        self.channel = channel
        let edge = profile.interruptRoutes.contains { $0.route.output == channel.rawValue && $0.route.sense.isEdge }
        var kinds: [Kind] = [.slaveError, .decodeError, .internalError]
        if w.driver.watchdog != nil && spec.mode != .attached { kinds.append(.stall) }
        kinds.append(.delayCompletion)
        if channel == .s2mm { kinds.append(.shortPacket) }
        if spec.mode != .attached { kinds.append(.corruptByte) }
        kinds += [.delayInterrupt, .spuriousInterrupt]
        if edge { kinds.append(.lostInterrupt) }
        if channel == .s2mm { kinds += [.pauseSource, .setRate] }
        // Not on a cyclic ring: the engine ignores Cmplt there (PG021 cyclic BD mode) and overwrites a
        // buffer a stalled consumer holds a lap later, the documented limit of cyclic capture (README,
        // "Scatter-gather mode"), so a stall would only show that.
        if spec.mode == .receive || (spec.mode == .sgReceive && !w.driver.cyclic) { kinds.append(.consumerStall) }
        if spec.mode == .receive || spec.mode == .sgReceive { kinds += [.restartDriver, .freeBuffer] }
        // The descriptor faults; a stale descriptor needs Cmplt to be looked at, which cyclic mode does not.
        if spec.mode == .sgReceive { kinds += w.driver.cyclic ? [.descriptorSlaveError, .descriptorDecodeError] : [.descriptorSlaveError, .descriptorDecodeError, .staleDescriptor] }
        if spec.mode == .transmit { kinds.append(.restartDriver) }
        self.kinds = kinds
        scenarioRate = w.source.rateBytesPerSecond
        ringSize = w.driver.ringSize
        bufferBytes = w.command == nil ? w.driver.bufferBytes : 4096
        let duration = spec.duration.nanoseconds
        windowStart = TimeSpan(nanoseconds: duration / 20)
        windowEnd = TimeSpan(nanoseconds: duration * 6 / 10)
    }

    /// The longest a disturbance with a length may last: a tenth of the run.
    var longest: TimeSpan { TimeSpan(nanoseconds: max(windowEnd.nanoseconds / 6, 2_000)) }

    /// One fault of a kind drawn from `random`, at a time drawn in the window (whole microseconds
    /// plus a jitter of up to 1 µs in nanoseconds, so faults also land between the device's own
    /// events).
    func draw(_ random: inout SplitMix64) -> ExploreFault {
        let span = UInt64(max(windowEnd.nanoseconds - windowStart.nanoseconds, 1))
        let at = TimeSpan(nanoseconds: windowStart.nanoseconds + Int64(random.next() % span))
        let kind = kinds[Int(random.next() % UInt64(kinds.count))]
        func length(atLeast low: Int64) -> TimeSpan {
            let high = max(longest.nanoseconds / 1_000, low + 1)
            return .microseconds(low + Int64(random.next() % UInt64(high - low)))
        }
        let action: ExploreFault.Action
        switch kind {
        case .slaveError: action = .inject(.slaveError)
        case .decodeError: action = .inject(.decodeError)
        case .internalError: action = .inject(.internalError)
        case .stall: action = .inject(.stall)
        case .delayCompletion: action = .inject(.delayCompletion(.microseconds(1 + Int64(random.next() % 100))))
        case .shortPacket: action = .inject(.shortPacket(bytes: 1 + Int(random.next() % UInt64(max(bufferBytes - 1, 1)))))
        case .corruptByte: action = .inject(.corruptByte(offset: Int(random.next() % UInt64(bufferBytes)), mask: UInt8(1 + random.next() % 255)))
        case .delayInterrupt: action = .inject(.delayInterrupt)
        case .spuriousInterrupt: action = .inject(.spuriousInterrupt)
        case .lostInterrupt: action = .inject(.lostInterrupt)
        case .pauseSource: action = .pauseSource(length(atLeast: 10))
        case .setRate:
            let rates: [UInt64?] = [nil, 50_000_000, 100_000_000, 400_000_000]
            action = .setRate(rates[Int(random.next() % UInt64(rates.count))], length(atLeast: 50))
        case .consumerStall: action = .consumerStall(length(atLeast: 10))
        case .restartDriver: action = .restartDriver
        case .freeBuffer: action = .freeBuffer(slot: Int(random.next() % UInt64(ringSize)))
        case .descriptorSlaveError: action = .inject(.descriptorSlaveError)
        case .descriptorDecodeError: action = .inject(.descriptorDecodeError)
        case .staleDescriptor: action = .inject(.staleDescriptor)
        }
        return ExploreFault(at: at, action: action)
    }
}
