import CBenchFloors
import Reactor

/// Issue 17, target 4: many channels in one reactor, and the timer structure that makes it possible.
/// - `scale-1024`: 1,024 independent channels in one reactor (2,048 timers armed), ns per completion
///   against the single-channel run of the same `floors` run; target ≤ 2×.
/// - `timers-N`: the reactor's timer structure alone (a hierarchical timing wheel) against the
///   binary heap it replaced, at N timers armed (`TimerStructures`: pop the earliest, arm it again
///   1 ns to 20 µs later). Both must fire the same timers in the same order (checksum), else the
///   row fails.
/// - `timers-depth`: the wheel at 1,024 timers armed against the wheel at 1: its cost must not grow
///   with depth (≤ 1.5×; the heap's grows with log2 of it).
enum ScaleRows {
    static func rows(singleChannel: (ns: Double, invariantsHeld: Bool), runs: Int, n: (Int) -> Int) throws -> [Row] {
        var rows: [Row] = []
        var fleet: [(ns: Double, invariantsHeld: Bool)] = []
        for _ in 0..<runs { fleet.append(try EndToEnd.fleet(channels: 1_024, completions: n(400_000))) }  // bounded: runs
        let best = fleet.map(\.ns).min()!
        rows.append(Row(id: "scale-1024", name: "1024 channel(s) in one reactor, ns per completion (1 channel in C column)",
                        c: singleChannel.ns, swift: best, target: .ratioAtMost(2), invariantsHeld: fleet.allSatisfy(\.invariantsHeld)))

        // What stands in the way of the scale rows: the fleet's buffer traffic alone, in C with the
        // emulator's own pattern kernels (`floor_ring_stream_ns`): N rings of 8 × 4 KiB, every
        // channel's next buffer written, then each verified, as the lock-stepped fleet does. Its
        // growth from 1 ring to N is memory the job itself moves; added to the single channel's
        // cost it is the least the scale-N row can be with the same work.
        var ringFloor: [Int: Double] = [:]
        for channels in [1, 64, 1_024] {
            var best = Double.infinity
            for _ in 0..<max(runs, 3) {  // bounded: repetitions
                let ns = floor_ring_stream_ns(Int32(channels), 8, 4096, max(n(400_000) / channels, 64))
                if ns >= 0 { best = min(best, ns) }
            }
            ringFloor[channels] = best
        }
        for channels in [64, 1_024] {
            let held = ringFloor[channels]!.isFinite && ringFloor[1]!.isFinite
            rows.append(Row(id: "mem-\(channels)", name: "C floor: \(channels) rings of 8 × 4 KiB, ns per buffer written + verified, as the fleet does (1 ring in C column)",
                            c: ringFloor[1]!, swift: ringFloor[channels]!, target: nil, invariantsHeld: held))
            rows.append(Row(id: "scale-\(channels)-least", name: "least scale-\(channels) can be with the same bytes: 1 channel + mem-\(channels)'s growth over 1 ring (1 channel in C column)",
                            c: singleChannel.ns, swift: singleChannel.ns + ringFloor[channels]! - ringFloor[1]!, target: nil, invariantsHeld: held))
        }

        var wheelAtOne = 0.0
        for depth in [1, 64, 1_024] {
            var wheel = Double.infinity, heap = Double.infinity
            var sameOrder = true
            for _ in 0..<max(runs, 3) {  // bounded: repetitions
                let w = TimerStructures.measure(.wheel, depth: depth, steps: n(5_000_000))
                let h = TimerStructures.measure(.heap, depth: depth, steps: n(5_000_000))
                wheel = min(wheel, w.nanosecondsPerStep)
                heap = min(heap, h.nanosecondsPerStep)
                sameOrder = sameOrder && w.checksum == h.checksum
            }
            if depth == 1 { wheelAtOne = wheel }
            rows.append(Row(id: "timers-\(depth)", name: "timer wheel vs binary heap, \(depth) armed: ns per pop + re-arm (heap in C column)",
                            c: heap, swift: wheel, target: nil, invariantsHeld: sameOrder))
            if depth == 1_024 {
                rows.append(Row(id: "timers-depth", name: "timer wheel, 1024 armed vs 1 armed: ns per pop + re-arm (1 armed in C column)",
                                c: wheelAtOne, swift: wheel, target: .ratioAtMost(1.5), invariantsHeld: sameOrder))
            }
        }
        return rows
    }
}
