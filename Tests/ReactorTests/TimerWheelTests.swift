import Testing
@testable import Reactor

/// The timer structure on its own (`TimerQueue`, the timing wheel), against a sorted reference model
/// and against the heap it replaced: the reactor's event order, and so every pinned trace hash,
/// depends on it popping in (deadline, arming order).
@Suite("Timer wheel")
struct TimerWheelTests {
    /// A reference: armed timers by slot, popped by (deadline, sequence).
    struct Model {
        var armed: [Int: (deadline: Int64, sequence: UInt64)] = [:]
        var sequence: UInt64 = 0
        mutating func arm(_ slot: Int, _ deadline: Int64) {
            armed[slot] = (deadline, sequence)
            sequence += 1
        }
        mutating func popFirst() -> (slot: Int, deadline: Int64)? {
            guard let first = armed.min(by: { ($0.value.deadline, $0.value.sequence) < ($1.value.deadline, $1.value.sequence) })
            else { return nil }
            armed[first.key] = nil
            return (first.key, first.value.deadline)
        }
    }

    enum Spread: CaseIterable {
        /// 0..<64 ns ahead: level 0 only, many equal deadlines.
        case tight
        /// up to 20 µs ahead: the emulator's transfers and packets (levels 0-2).
        case workload
        /// up to 2^50 ns ahead (13 days): levels 0-8, and the clock stays far from overflow over a run.
        case wide
        func delay(_ rng: inout SplitMix64) -> Int64 {
            switch self {
            case .tight: return Int64(rng.next() % 64)
            case .workload: return Int64(rng.next() % 20_000)
            case .wide: return Int64(rng.next() >> (14 + rng.next() % 50))
            }
        }
    }

    /// Random arms, re-arms, disarms and pops on `slots` timers; every pop must match the model.
    /// `disciplined`: arm only at or after the last popped deadline, as the reactor does (its clock);
    /// otherwise anywhere from 0, which takes the wheel's slow path (a deadline before its base).
    static func check(seed: UInt64, slots: Int, spread: Spread, disciplined: Bool, steps: Int = 6_000) {
        var rng = SplitMix64(seed: seed)
        var wheel = TimerQueue()
        var heap = TimerHeap()
        defer { wheel.deallocate(); heap.deallocate() }
        var model = Model()
        let target = ReactorTarget()
        for _ in 0..<slots {
            _ = wheel.allocate(Callback(target: .passUnretained(target), tag: 0), disposable: false)
            _ = heap.allocate(Callback(target: .passUnretained(target), tag: 0), disposable: false)
        }
        var clock: Int64 = 0
        var popped = 0
        for step in 0..<steps {
            let op = rng.next() % 10
            let slot = Int(rng.next() % UInt64(slots))
            if op < 5 {
                let deadline = (disciplined ? clock : Int64(rng.next() % UInt64(max(clock, 1)))) + spread.delay(&rng)
                wheel.arm(slot: slot, deadline: deadline)
                heap.arm(slot: slot, deadline: deadline)
                model.arm(slot, deadline)
            } else if op < 6 {
                wheel.disarm(slot: slot)
                heap.disarm(slot: slot)
                model.armed[slot] = nil
            } else {
                guard let expected = model.popFirst() else {
                    #expect(wheel.isEmpty, "seed \(seed) step \(step): the model is empty, the wheel is not")
                    continue
                }
                let w = wheel.popFirst()
                let h = heap.popFirst()
                #expect(Int(w.slot) == expected.slot && w.deadline == expected.deadline,
                        "seed \(seed) step \(step): wheel popped slot \(w.slot) at \(w.deadline), model slot \(expected.slot) at \(expected.deadline)")
                #expect(h.slot == w.slot && h.deadline == w.deadline && h.sequence == w.sequence,
                        "seed \(seed) step \(step): heap and wheel differ")
                clock = max(clock, expected.deadline)
                popped += 1
            }
            #expect(wheel.count == model.armed.count, "seed \(seed) step \(step): count")
            #expect(wheel.isArmed(slot: slot) == (model.armed[slot] != nil), "seed \(seed) step \(step): isArmed")
        }
        while let expected = model.popFirst() {  // bounded: what is armed
            let w = wheel.popFirst()
            #expect(Int(w.slot) == expected.slot && w.deadline == expected.deadline, "seed \(seed) drain: wheel and model differ")
        }
        #expect(wheel.isEmpty && popped > 0)
    }

    @Test("pops in (deadline, arming order) like a sorted model and like the heap, 1 ns to 13 days ahead, with re-arms and disarms", arguments: Spread.allCases)
    func matchesModelAndHeap(spread: Spread) {
        for (seed, slots) in [(UInt64(1), 1), (2, 3), (3, 64), (4, 1_024)] {
            Self.check(seed: seed, slots: slots, spread: spread, disciplined: true)
        }
    }

    @Test("a deadline before the wheel's base (earlier than the last one popped) still comes out in order", arguments: Spread.allCases)
    func deadlinesBeforeTheBase(spread: Spread) {
        for (seed, slots) in [(UInt64(11), 2), (12, 64), (13, 700)] {
            Self.check(seed: seed, slots: slots, spread: spread, disciplined: false)
        }
    }

    @Test("equal deadlines armed far ahead and near come out in arming order after moving down the levels")
    func equalDeadlinesAcrossLevels() {
        var wheel = TimerQueue()
        defer { wheel.deallocate() }
        let target = ReactorTarget()
        let ids = (0..<6).map { _ in wheel.allocate(Callback(target: .passUnretained(target), tag: 0), disposable: false) }
        let far: Int64 = 5_000_000  // level 3 from 0
        wheel.arm(slot: 0, deadline: far)
        wheel.arm(slot: 1, deadline: far - 70)  // pops first and moves the base next to `far`
        wheel.arm(slot: 2, deadline: far)
        #expect(wheel.popFirst().slot == 1)
        wheel.arm(slot: 3, deadline: far)  // armed near: straight onto level 0
        wheel.arm(slot: 4, deadline: far - 1)
        wheel.arm(slot: 5, deadline: far)
        let order = (0..<5).map { _ in Int(wheel.popFirst().slot) }
        #expect(order == [4, 0, 2, 3, 5])
        #expect(wheel.isEmpty)
        #expect(ids.count == 6)
    }

    @Test("the reactor fires equal deadlines in arming order when they were armed at different distances")
    func reactorEqualDeadlinesAtDifferentDistances() {
        let r = Reactor(clock: .virtual)
        var fired: [Int] = []
        // Armed 1 s, then 1 ms, then 64 ns, then 0 ns before the same instant: each lands on another level.
        let at = Instant.start + .seconds(1)
        r.schedule(at: at) { fired.append(0) }
        r.schedule(at: .start + (.seconds(1) - .milliseconds(1))) {
            r.schedule(at: at) { fired.append(1) }
            r.schedule(at: .start + (.seconds(1) - .nanoseconds(64))) {
                r.schedule(at: at) { fired.append(2) }
                r.schedule(at: at) { fired.append(3) }
            }
        }
        r.run()
        #expect(fired == [0, 1, 2, 3])
        #expect(r.now == at)
    }
}
