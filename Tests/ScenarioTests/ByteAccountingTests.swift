import Board
import Devices
import Foundation
import Reactor
@testable import Scenario
import Testing
import UIO

/// "Every byte verified" means it: what the driver delivered is what the consumer received and
/// verified, and every gap in the stream is bytes the device dropped with a reason or a transfer
/// the driver abandoned after an error. A driver that loses completed buffers fails it.
@Suite("Every byte accounted for")
struct ByteAccountingTests {
    /// The S2MM channel of a P2020 driven through its registers, as a driver would, and a consumer
    /// that is handed only the buffers `deliver` says.
    func stream(transfers: Int, deliver: (Int) -> Bool, driverErrors: @escaping () -> Int) throws -> VerifyingConsumer.Statistics {
        let emulated = EmulatedBoard(profile: board(for: try ScenarioParser.parse("board: p2020-fpga\nduration: 1ms\n", file: "t.yaml")),
                                     clock: .virtual, seed: 1)
        let dma = try #require(emulated.devices.axiDMAs.first)
        let channel = try #require(dma.s2mm)
        channel.attach(StreamSource(pattern: .counter, packetSize: .fixed(4096)))
        let buffer = try emulated.uio.heap.allocate(size: 4096, name: "ring0", coherent: true).get()
        let consumer = VerifyingConsumer(channel: channel, pattern: .counter, bufferBytes: 4096, ringSize: 1, reactor: emulated.reactor)
        consumer.driverErrors = driverErrors
        let base = try #require(emulated.board.profile.device(named: dma.name)).range.base
        func write(_ offset: UInt64, _ value: UInt32) { _ = emulated.board.bus.write32(value, at: base + offset, assuming: .little) }
        func read(_ offset: UInt64) -> UInt32 { (try? emulated.board.bus.read32(at: base + offset, assuming: .little).get()) ?? 0 }
        write(0x30, DMACR.RS | DMACR.IOC_IrqEn)
        emulated.reactor.run(until: { read(0x34) & DMASR.Halted == 0 })  // Halted drops a few cycles after RS=1
        for transfer in 0..<transfers {  // bounded: `transfers` transfers
            write(0x48, UInt32(truncatingIfNeeded: buffer.dmaAddress))
            write(0x4C, UInt32(truncatingIfNeeded: buffer.dmaAddress >> 32))
            write(0x58, 4096)
            emulated.reactor.run(until: { read(0x34) & DMASR.IOC_Irq != 0 })
            write(0x34, DMASR.IOC_Irq)
            if deliver(transfer) {
                _ = consumer.receive(slot: 0, buffer: buffer, length: Int(read(0x58)), transfer: UInt64(transfer))
            }
        }
        return consumer.statistics
    }

    @Test("a completed buffer the driver loses without an error is an unexplained gap")
    func lostBuffer() throws {
        let statistics = try stream(transfers: 4, deliver: { $0 != 1 }, driverErrors: { 0 })
        #expect(statistics.unexplainedGaps == 1)
        #expect(statistics.firstUnexplainedGap?.contains("1 completed transfer(s) (4096 bytes) never reached the consumer and the driver recorded no error") == true,
                "\(statistics.firstUnexplainedGap ?? "none")")
        #expect(statistics.mismatchedBytes == 0, "the bytes it did get are right: only the accounting catches the loss")
    }

    @Test("the same buffer abandoned after a driver error is explained")
    func abandonedAfterAnError() throws {
        var errors = 0
        let statistics = try stream(transfers: 4, deliver: { transfer in
            if transfer == 1 { errors += 1 }
            return transfer != 1
        }, driverErrors: { errors })
        #expect(statistics.unexplainedGaps == 0)
        #expect(statistics.abandonedBytes == 4096 && statistics.abandonedTransfers == 1)
        #expect(statistics.verifiedBytes == 3 * 4096 && statistics.receivedBytes == 3 * 4096)
    }

    @Test("in a scenario, every gap of a FIFO overflow is bytes dropped with a reason")
    func overflowGapsAreDrops() throws {
        let spec = try ScenarioParser.load(path: repositoryRoot.appendingPathComponent("scenarios/burst-overflow.yaml").path)
        let workload = try ReceiveWorkload(profile: board(for: spec), seed: spec.seed, configuration: spec.workload)
        _ = try ScenarioRunner(spec: spec, profile: board(for: spec)).run(workload)
        let v = workload.consumer.statistics
        #expect(v.skippedBytes == 139_264 && v.abandonedBytes == 0 && v.unexplainedGaps == 0)
        let invariant = try #require(workload.report.invariants.first { $0.name == "every byte verified" })
        #expect(invariant.holds, "\(invariant.detail)")
        #expect(invariant.detail.contains("gaps 139264 bytes = dropped with a reason 139264 + abandoned after a driver error 0"))
    }

    @Test("a workload whose run stops short of its goal throws, with the board time and the driver's state")
    func stalledRunThrows() throws {
        var configuration = WorkloadConfiguration()
        configuration.source.packetLimit = 10  // the source stops after 10 packets: completion 11 never comes
        configuration.driver.maxRetries = 0
        let w = try ReceiveWorkload(profile: board(for: try ScenarioParser.parse("board: p2020-fpga\nduration: 1ms\n", file: "t.yaml")),
                                    configuration: configuration)
        try w.start()
        #expect(throws: WorkloadStall.self) { try w.run(completions: 100) }
        do throws(WorkloadStall) {
            try w.run(completions: 100)
        } catch {
            #expect(error.completions == 10 && error.goal == 100)
            #expect(error.description.hasPrefix("the run stopped at board time "))
            #expect(error.description.contains("with 10 of 100 completions: nothing on the board could happen any more (driver "))
        }
    }
}
