import CLibevent

/// Deferred work: runs on a later turn, in FIFO order, never inside the call that posted it.
extension Reactor {
    /// Queues `target.reactorEvent(tag)` for the next turn. Never allocates once the queue has grown
    /// to its steady-state size; the target must stay alive until it runs (the caller owns it).
    @inline(__always)
    public func post(_ target: ReactorTarget, tag: UInt64 = 0) {
        core.pointee.ready.push(.work(Callback(target: .passUnretained(target), tag: tag), retained: false))
        if clock == .realTime { activatePostEvent() }
    }

    /// Queues a closure for the next turn. Convenient, but allocates the closure each call: hot code
    /// posts a target instead.
    public func post(_ body: @escaping () -> Void) {
        let target: ReactorTarget = ClosureTarget(body)
        core.pointee.ready.push(.work(Callback(target: .passRetained(target), tag: 0), retained: true))
        if clock == .realTime { activatePostEvent() }
    }
}
