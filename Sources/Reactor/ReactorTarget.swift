/// Something the reactor can call: the closure-free path for hot code.
///
/// Timers, watches and posted work name a target and a small `tag`; the reactor calls
/// `reactorEvent(_:)` with that tag and the subclass dispatches with a `switch`. A class method
/// called through `Unmanaged` costs one indirect call and no reference counting, which is what the
/// per-completion path needs (DESIGN.md, "The per-completion hot path"). Closures are offered on
/// top of this for convenience (`ClosureTarget`).
open class ReactorTarget {
    public init() {}

    /// Called on the reactor's thread for every timer, watch or posted item that names this target.
    open func reactorEvent(_ tag: UInt64) {}
}

/// Adapts a closure to a target. Created once when the timer, watch or work item is created.
final class ClosureTarget: ReactorTarget {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    override func reactorEvent(_ tag: UInt64) { body() }
}

/// A target and its tag, stored in the reactor's queues as a plain value: no retain, no release.
/// Whoever stores a `Callback` keeps the target alive by other means (the reactor's owner table).
@usableFromInline
struct Callback {
    let target: Unmanaged<ReactorTarget>
    let tag: UInt64

    @inline(__always)
    func invoke() {
        target._withUnsafeGuaranteedRef { $0.reactorEvent(tag) }
    }
}
