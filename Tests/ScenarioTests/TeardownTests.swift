import Board
import Devices
import Driver
import Reactor
import Scenario
import Testing
import UIO

/// A finished run leaves nothing behind (LeakSanitizer found every run's board leaked through
/// reference cycles): a process that plays thousands of runs (`explore`) must not grow with them.
@Suite("Teardown: a finished run is freed")
struct TeardownTests {
    final class Watch {
        weak var reactor: Reactor?
        weak var board: Board?
        weak var ram: RAM?
        weak var driver: EmulatedReceiveDriver?
        weak var consumer: VerifyingConsumer?
        weak var channel: DMAChannel?
        weak var heap: DMABufferHeap?
        weak var device: EmulatedUIODevice?
        weak var file: UIOFile?

        var survivors: [String] {
            [("reactor", reactor as AnyObject?), ("board", board), ("ram", ram), ("driver", driver), ("consumer", consumer),
             ("channel", channel), ("heap", heap), ("device", device), ("file", file)]
                .compactMap { $0.1 == nil ? nil : $0.0 }
        }
    }

    @Test("the receive workload, run and finished, frees its reactor, board, RAM, driver and devices")
    func receiveWorkloadIsFreed() throws {
        let watch = Watch()
        do {
            let profile = try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml").path,
                                                registry: DeviceKinds.standard)
            let w = try ReceiveWorkload(profile: profile)
            try w.start()
            try w.run(completions: 100)
            #expect(w.report.completions >= 100)
            watch.reactor = w.reactor
            watch.board = w.board
            watch.ram = w.board.ram["ddr"]
            watch.driver = w.driver
            watch.consumer = w.consumer
            watch.channel = w.channel
            watch.heap = w.uio.heap
            watch.device = w.uioDevice
            watch.file = w.file
            w.finish()
            #expect(w.report.completions >= 100, "the figures stay readable")
        }
        #expect(watch.survivors == [])
    }

    @Test("the transmit workload, run and finished, frees its reactor, board and devices")
    func transmitWorkloadIsFreed() throws {
        let watch = Watch()
        do {
            let profile = try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml").path,
                                                registry: DeviceKinds.standard)
            let w = try TransmitWorkload(profile: profile)
            try w.start()
            try w.run(completions: 100)
            watch.reactor = w.reactor
            watch.board = w.board
            watch.ram = w.board.ram["ddr"]
            watch.channel = w.channel
            watch.heap = w.uio.heap
            watch.device = w.uioDevice
            watch.file = w.file
            w.finish()
            #expect(w.completions >= 100, "the figures stay readable")
        }
        #expect(watch.survivors == [])
    }
}

extension TeardownTests {
    @Test("the script workload with UIO steps, played and finished, frees its reactor, board, RAM, channel, heap and UIO node")
    func scriptWorkloadIsFreed() throws {
        let watch = Watch()
        do {
            guard case let .success(spec) = parse("""
                board: p2020-fpga
                mode: script
                duration: 1ms
                timeline:
                  - at: 100us
                    uio-write: 1
                  - at: 200us
                    write: { register: S2MM_DMACR, value: 0x1001 }
                """) else { Issue.record("did not parse"); return }
            let runner = ScenarioRunner(spec: spec, profile: board(for: spec))
            let workload = try runner.makeWorkload()
            guard let script = workload as? ScriptWorkload else { Issue.record("not a script workload"); return }
            watch.reactor = script.reactor
            watch.board = script.board
            watch.ram = script.board.ram["ddr"]
            watch.channel = script.scriptedDMA?.s2mm
            watch.heap = script.uio?.heap
            watch.device = script.node
            let outcome = try runner.run(script)
            #expect(outcome.passed, "\(outcome.failures)")
        }
        #expect(watch.survivors == [])
    }
}
