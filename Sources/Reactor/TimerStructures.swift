import Glibc

/// The timer structure alone, for `uioemu-bench floors`: the timing wheel the reactor uses
/// (`TimerQueue`) against the binary heap it replaced (`TimerHeap`), at a given number of armed
/// timers. The "hold" model of priority-queue benchmarks: `depth` timers armed, then each step pops
/// the earliest, moves the clock to its deadline and arms it again a pseudo-random delay later (1 ns
/// to 20 µs, the span of the emulator's transfer and packet timers), so the depth stays constant.
public enum TimerStructures {
    public enum Kind: String, Sendable, CaseIterable {
        case wheel
        case heap
    }

    /// Nanoseconds per step (one pop and one arm) with `depth` timers armed, over `steps` steps after
    /// a warm-up of `steps / 10`; and a checksum of the deadlines fired (equal for both kinds with the
    /// same seed: they fire the same timers in the same order).
    public static func measure(_ kind: Kind, depth: Int, steps: Int, seed: UInt64 = 17) -> (nanosecondsPerStep: Double, checksum: UInt64) {
        switch kind {
        case .wheel: return hold(TimerQueue(), depth: depth, steps: steps, seed: seed)
        case .heap: return hold(TimerHeap(), depth: depth, steps: steps, seed: seed)
        }
    }

    private static func hold<Q: TimerStructure>(_ empty: Q, depth: Int, steps: Int, seed: UInt64) -> (nanosecondsPerStep: Double, checksum: UInt64) {
        var queue = empty
        defer { queue.deallocate() }
        let target = ReactorTarget()
        var random = SplitMix64(seed: seed)
        for _ in 0..<max(depth, 1) {  // bounded: depth
            let id = queue.allocate(Callback(target: .passUnretained(target), tag: 0), disposable: false)
            queue.arm(slot: Int(id.slot), deadline: Int64(random.next() % 20_000) + 1)
        }
        var checksum: UInt64 = 0
        func run(_ n: Int) {
            for _ in 0..<n {  // bounded: n steps
                let (deadline, slot) = queue.popEarliest()
                checksum = checksum &* 31 &+ UInt64(bitPattern: deadline) &+ UInt64(slot)
                queue.arm(slot: slot, deadline: deadline + Int64(random.next() % 20_000) + 1)
            }
        }
        run(steps / 10 + 1)
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        run(steps)
        clock_gettime(CLOCK_MONOTONIC, &t1)
        let ns = Double((Int64(t1.tv_sec) - Int64(t0.tv_sec)) * 1_000_000_000 + Int64(t1.tv_nsec) - Int64(t0.tv_nsec))
        withExtendedLifetime(target) {}
        return (ns / Double(max(steps, 1)), checksum)
    }
}

/// What the comparison needs of a timer structure; static dispatch only (generic, specialised).
protocol TimerStructure {
    mutating func allocate(_ callback: Callback, disposable: Bool) -> TimerID
    mutating func arm(slot: Int, deadline: Int64)
    mutating func popEarliest() -> (deadline: Int64, slot: Int)
    func deallocate()
}

extension TimerQueue: TimerStructure {
    @inline(__always)
    mutating func popEarliest() -> (deadline: Int64, slot: Int) {
        let e = popFirst()
        return (e.deadline, Int(e.slot))
    }
}

extension TimerHeap: TimerStructure {
    @inline(__always)
    mutating func popEarliest() -> (deadline: Int64, slot: Int) {
        let e = popFirst()
        return (e.deadline, Int(e.slot))
    }
}
