import Reactor
import Testing
@testable import uioemu_bench

/// The issue-17 rows of `uioemu-bench floors` (ScaleRows): what they compare must be comparable.
@Suite("Scale and timer-structure rows")
struct ScaleRowsTests {
    @Test("the timers rows compare like with like: wheel and heap fire the same timers in the same order at 1, 64 and 1,024 armed; another seed fires others")
    func wheelAndHeapFireTheSameTimers() {
        for depth in [1, 64, 1_024] {
            let wheel = TimerStructures.measure(.wheel, depth: depth, steps: 20_000)
            let heap = TimerStructures.measure(.heap, depth: depth, steps: 20_000)
            #expect(wheel.checksum == heap.checksum, "depth \(depth)")
            #expect(wheel.nanosecondsPerStep > 0 && heap.nanosecondsPerStep > 0)
            let other = TimerStructures.measure(.wheel, depth: depth, steps: 20_000, seed: 18)
            #expect(other.checksum != wheel.checksum, "depth \(depth): the seed must change what fires")
        }
    }

    @Test("the 1,024-channel board loads (one S2MM engine per MPIC line, each with its UIO node) and its run keeps every channel's invariants")
    func thousandChannelBoardRuns() throws {
        let profile = try EndToEnd.fleetProfile(channels: 1_024)
        #expect(profile.devices.count == 1_024)
        #expect(profile.uioNodes.count == 1_024)
        #expect(profile.interruptController.lineCount == 1_024)
        let run = try EndToEnd.fleet(channels: 1_024, completions: 2_048)
        #expect(run.invariantsHeld)
        #expect(run.ns > 0)
    }
}
