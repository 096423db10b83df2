import Attach
import Board
import Foundation
import Reactor
import Scenario
import Testing
import UIO

/// An attached run, finished, leaves nothing behind: `explore` plays thousands of runs in one process.
@Suite("Teardown: a finished attached run is freed")
struct AttachTeardownTests {
    final class Watch {
        weak var workload: AttachWorkload?
        weak var reactor: Reactor?
        weak var board: Board?
        weak var session: AttachSession?
        weak var uio: UIOSystem?

        var survivors: [String] {
            [("workload", workload as AnyObject?), ("reactor", reactor), ("board", board), ("session", session), ("uio", uio)]
                .compactMap { $0.1 == nil ? nil : $0.0 }
        }
    }

    @Test("the attached workload, its program run to its end and finished, frees its reactor, board, UIO nodes and session")
    func attachedWorkloadIsFreed() throws {
        let preload = uioemuExecutable.deletingLastPathComponent().appendingPathComponent("libuioemu-attach.so").path
        let watch = Watch()
        do {
            let profile = try ShippedBoard.profile("p2020-fpga")
            // A program that opens the UIO node's sysfs name through the preload library, then exits.
            let command = ["/bin/sh", "-c", "cat /sys/class/uio/uio0/name >/dev/null"]
            let w = try AttachWorkload(profile: profile, seed: 1,
                                       configuration: AttachWorkload.Configuration(session: AttachSession.Options(command: command, preloadLibrary: preload)))
            try w.start()
            _ = w.run(until: .start + .milliseconds(100))
            #expect(w.session.isFinished)
            watch.workload = w
            watch.reactor = w.reactor
            watch.board = w.board
            watch.session = w.session
            watch.uio = w.uio
            w.finish()
            #expect(w.session.isFinished, "the figures stay readable")
        }
        #expect(watch.survivors == [])
    }
}
