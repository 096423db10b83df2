import Reactor

/// A run that stopped short of its goal: the reactor had nothing left to do (no transfer armed, no
/// timer) before the driver reached the completions asked for. A stalled driver is a failure, never
/// a quiet return: the error says when it stopped, how far it got and the driver's state.
public struct WorkloadStall: Error, Sendable, CustomStringConvertible {
    public let boardTime: Instant
    public let completions: Int
    public let goal: Int
    public let driverState: String

    public var description: String {
        "the run stopped at board time \(TimeSpan(nanoseconds: boardTime.nanosecondsSinceStart)) with \(completions) of \(goal) completions: "
            + "nothing on the board could happen any more (driver \(driverState))"
    }
}

extension Reactor {
    /// Runs until `count()` reaches `goal`; a stop signal ends it early without an error (the caller
    /// reports the interruption), anything else that ends it short is a `WorkloadStall`.
    func run(toCompletions goal: Int, count: () -> Int, state: () -> String) throws(WorkloadStall) {
        run(until: { count() >= goal })
        guard count() >= goal || stoppedBySignal != nil else {
            throw WorkloadStall(boardTime: now, completions: count(), goal: goal, driverState: state())
        }
    }
}
