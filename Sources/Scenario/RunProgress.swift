import Foundation
import Reactor

/// A look at a long run while it plays, for a progress line: every `period` of board time the
/// reactor calls `report` with the board time and the completions so far. What to show, and how
/// often (by the wall clock), is the caller's: this type neither prints nor reads a clock.
///
/// It must not change the run. Its timer only reads state, so the model sees the same events in
/// the same order (a test compares trace hashes with and without it); and it re-arms only while
/// something else is pending, so a run that would end because nothing is left to do still ends
/// (`Reactor.run(until:)` returns when nothing is pending).
public final class RunProgress: ReactorTarget {
    public struct Sample: Sendable {
        public let boardTime: Instant
        public let completions: Int
        public init(boardTime: Instant, completions: Int) {
            self.boardTime = boardTime
            self.completions = completions
        }
    }

    private let reactor: Reactor
    private let workload: any Workload
    private let period: TimeSpan
    private let report: (Sample) -> Void
    private var timer: TimerID? = nil

    /// Starts reporting `workload`'s progress every `period` of board time (default 1 ms: at a few
    /// million completions per second that is a timer per hundreds of completions).
    public init(workload: any Workload, every period: TimeSpan = .milliseconds(1), report: @escaping (Sample) -> Void) {
        precondition(period.nanoseconds > 0, "a progress period must be positive")
        self.reactor = workload.reactor
        self.workload = workload
        self.period = period
        self.report = report
        super.init()
        let timer = reactor.makeTimer(target: self)
        self.timer = timer
        reactor.arm(timer, after: period)
    }

    override public func reactorEvent(_ tag: UInt64) {
        report(Sample(boardTime: reactor.now, completions: workload.completions))
        // The timer fired and is no longer armed: whatever is pending now is the run's own.
        if let timer, reactor.hasPendingWork { reactor.arm(timer, after: period) }
    }

    /// Stops reporting and frees the timer (the reactor releases its target then).
    public func cancel() {
        if let timer { reactor.freeTimer(timer) }
        timer = nil
    }
}

/// The text of a progress line: board time against the goal, completions, the rate by the wall
/// clock and the time left at that rate. Pure, so tests read it as a user does.
public struct ProgressText: Sendable {
    /// What the run is heading for.
    public enum Goal: Sendable {
        case boardTime(Instant)
        case completions(Int)
    }

    public let label: String
    public let goal: Goal

    public init(label: String, goal: Goal) {
        self.label = label
        self.goal = goal
    }

    /// `wallSeconds`: wall time since the run started.
    public func line(_ sample: RunProgress.Sample, wallSeconds: Double) -> String {
        let wall = max(wallSeconds, 1e-9)
        let board = TimeSpan(nanoseconds: sample.boardTime.nanosecondsSinceStart)
        var parts: [String] = []
        let fractionDone: Double
        switch goal {
        case let .boardTime(end):
            let total = max(end.nanosecondsSinceStart, 1)
            fractionDone = min(Double(sample.boardTime.nanosecondsSinceStart) / Double(total), 1)
            parts.append("board \(Self.span(board)) of \(Self.span(TimeSpan(nanoseconds: total))) (\(Self.percent(fractionDone)))")
            parts.append("\(Self.count(sample.completions)) completions")
        case let .completions(goal):
            fractionDone = min(Double(sample.completions) / Double(max(goal, 1)), 1)
            parts.append("\(Self.count(sample.completions)) of \(Self.count(goal)) completions (\(Self.percent(fractionDone)))")
            parts.append("board \(Self.span(board))")
        }
        parts.append("\(Self.rate(Double(sample.completions) / wall))/s")
        parts.append(fractionDone > 0 ? "ETA \(Self.clock(wall * (1 - fractionDone) / fractionDone))" : "ETA unknown")
        return "\(label): " + parts.joined(separator: " · ")
    }

    /// Board time with three significant decimals in the largest unit that fits: `12.500 ms`.
    static func span(_ t: TimeSpan) -> String {
        let n = Double(t.nanoseconds)
        if n >= 3_600e9 { return String(format: "%.2f h", n / 3_600e9) }
        if n >= 60e9 { return String(format: "%.2f min", n / 60e9) }
        if n >= 1e9 { return String(format: "%.3f s", n / 1e9) }
        if n >= 1e6 { return String(format: "%.3f ms", n / 1e6) }
        if n >= 1e3 { return String(format: "%.3f us", n / 1e3) }
        return "\(t.nanoseconds) ns"
    }

    static func percent(_ f: Double) -> String { String(format: "%.1f%%", f * 100) }

    /// A count with thousands separators: `1,234,567`.
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {  // bounded: at most 20 digits
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    static func rate(_ perSecond: Double) -> String {
        if perSecond >= 1e6 { return String(format: "%.2f M", perSecond / 1e6) }
        if perSecond >= 1e3 { return String(format: "%.1f k", perSecond / 1e3) }
        return String(format: "%.0f", perSecond)
    }

    /// Wall seconds as `42s`, `4m10s` or `2h05m`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "unknown" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
