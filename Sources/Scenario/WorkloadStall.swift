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
    /// After a run towards `goal` completions that reached `count`: a stop signal ended it early
    /// without an error (the caller reports the interruption); anything else short is a stall.
    /// (The run itself stays in the caller, its condition a closure over the driver alone: one more
    /// closure in between cost ~65 instructions per completion.)
    func checkGoal(_ goal: Int, reached count: Int, state: @autoclosure () -> String) throws(WorkloadStall) {
        guard count >= goal || stoppedBySignal != nil else {
            throw WorkloadStall(boardTime: now, completions: count, goal: goal, driverState: state())
        }
    }
}
