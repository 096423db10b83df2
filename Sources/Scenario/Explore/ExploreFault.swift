import Board
import Devices
import Reactor

/// One disturbance `uioemu explore` adds to a scenario's timeline: a fault of the catalogue at a
/// board time. A disturbance with a length (a source pause, a rate change, a consumer stall) is
/// one fault that becomes two steps where it needs two (pause, then resume; the new rate, then the
/// scenario's own), so shrinking never leaves half of one behind.
public struct ExploreFault: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        /// A device fault on the driver's channel.
        case inject(AXIDMAFault)
        /// The stream source stops for this long (a pause in the stream).
        case pauseSource(TimeSpan)
        /// The source runs at this rate (nil: unlimited, a burst) for this long, then at the
        /// scenario's own rate again.
        case setRate(UInt64?, TimeSpan)
        /// The consumer keeps every buffer it gets for this long (slow, or stuck for a while).
        case consumerStall(TimeSpan)
        case restartDriver
        /// A ring buffer freed behind the driver's back (its DMA address goes stale).
        case freeBuffer(slot: Int)
    }

    /// Board time from the start of the run.
    public var at: TimeSpan
    public var action: Action

    public init(at: TimeSpan, action: Action) {
        self.at = at
        self.action = action
    }

    /// The catalogue's name of this fault (`slave-error`, `pause-source`, ...): what the summary
    /// counts faults by.
    public var kind: String {
        switch action {
        case let .inject(fault): String("\(fault)".prefix { $0 != "(" })
        case .pauseSource: "pause-source"
        case .setRate: "set-rate"
        case .consumerStall: "consumer-stall"
        case .restartDriver: "restart-driver"
        case .freeBuffer: "free-buffer"
        }
    }

    /// How long after `at` the disturbance lasts (its second step, or the delay it causes).
    public var length: TimeSpan {
        switch action {
        case let .inject(.delayCompletion(by)): by
        case let .pauseSource(span), let .setRate(_, span), let .consumerStall(span): span
        case .inject, .restartDriver, .freeBuffer: .zero
        }
    }

    public var description: String {
        let detail: String
        switch action {
        case let .inject(fault): detail = "\(fault)"
        case let .pauseSource(span): detail = "pause-source for \(span)"
        case let .setRate(rate, span): detail = "set-rate \(ScenarioWriter.rate(rate)) for \(span)"
        case let .consumerStall(span): detail = "consumer-stall \(span)"
        case .restartDriver: detail = "restart-driver"
        case let .freeBuffer(slot): detail = "free-buffer \(slot)"
        }
        return "\(detail) at \(at)"
    }

    /// The timeline steps, at `at` (and `at + length` for the second of a pair); every one optional:
    /// a fault the run ends before, or that never finds what it waits for, is no failure.
    /// `number`: the fault's place in its perturbation; its steps' location is line
    /// `stepLine + number` of the scenario (no such line: a failure names the fault it came from).
    func steps(channel: DMADirection, scenarioRate: UInt64?, file: String, number: Int) -> [ScenarioSpec.Step] {
        let here = SourceLocation(file: file, line: Self.stepLine + number, column: 1)
        func step(_ time: TimeSpan, _ action: ScenarioSpec.Step.Action) -> ScenarioSpec.Step {
            ScenarioSpec.Step(trigger: .at(time), action: action, location: here, optional: true)
        }
        switch action {
        case let .inject(fault): return [step(at, .inject(fault, channel: channel))]
        case let .pauseSource(span): return [step(at, .workload(.pauseSource)), step(at + span, .workload(.resumeSource))]
        case let .setRate(rate, span): return [step(at, .workload(.setRate(rate))), step(at + span, .workload(.setRate(scenarioRate)))]
        case let .consumerStall(span): return [step(at, .workload(.consumerStall(span)))]
        case .restartDriver: return [step(at, .workload(.restartDriver))]
        case let .freeBuffer(slot): return [step(at, .workload(.freeBuffer(slot: slot)))]
        }
    }

    /// Where explore's steps are "written" in the scenario a run plays (before the file exists).
    static let stepLine = 200_000

    /// Smaller versions of this fault, for shrinking: shorter lengths, fewer bytes, a smaller
    /// offset and a one-bit mask, in the order tried.
    var smaller: [Action] {
        func half(_ span: TimeSpan) -> TimeSpan? {
            span.nanoseconds >= 2_000 ? TimeSpan(nanoseconds: span.nanoseconds / 2 / 1_000 * 1_000) : nil
        }
        switch action {
        case let .inject(.delayCompletion(by)): return half(by).map { [.inject(.delayCompletion($0))] } ?? []
        case let .inject(.shortPacket(bytes)): return bytes > 1 ? [.inject(.shortPacket(bytes: 1)), .inject(.shortPacket(bytes: bytes / 2))] : []
        case let .inject(.corruptByte(offset, mask)):
            var candidates: [Action] = []
            if offset > 0 { candidates += [.inject(.corruptByte(offset: 0, mask: mask)), .inject(.corruptByte(offset: offset / 2, mask: mask))] }
            if mask != 1 { candidates.append(.inject(.corruptByte(offset: offset, mask: 1))) }
            return candidates
        case let .pauseSource(span): return half(span).map { [.pauseSource($0)] } ?? []
        case let .setRate(rate, span): return half(span).map { [.setRate(rate, $0)] } ?? []
        case let .consumerStall(span): return half(span).map { [.consumerStall($0)] } ?? []
        case let .freeBuffer(slot): return slot > 0 ? [.freeBuffer(slot: 0)] : []
        case .inject, .restartDriver: return []
        }
    }
}
