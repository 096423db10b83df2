import Board
import Devices
import Foundation
import Reactor
import Testing

@Suite struct DeviceSetTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("every shipped board gets its AXI DMA attached to its window", arguments: [("p2020-fpga", "fpga-dma"), ("ml507-ppc440", "axi-dma")])
    func shippedBoards(board name: String, device: String) throws {
        let path = Self.repositoryRoot.appendingPathComponent("boards/\(name).yaml").path
        let board = Board(profile: try BoardProfile.load(path: path, registry: DeviceKinds.standard))
        let reactor = Reactor(clock: .virtual)
        let devices = DeviceSet(board: board, reactor: reactor, seed: 1)
        let dma = try #require(devices.axiDMA(named: device))
        #expect(dma.mm2s != nil && dma.s2mm != nil)
        #expect(dma.mm2s!.setupNanoseconds == 160, "16 cycles at 100 MHz")
        let window = try #require(board.bus.window(named: device))
        #expect(try board.bus.read32(at: window.range.base, assuming: .little).get() == 0x0001_0002)
        #expect(try board.bus.read32(at: window.range.base + 0x34, assuming: .little).get() == DMASR.Halted)
    }

    @Test("a transfer completes on a real-time reactor too")
    func realTime() throws {
        let bench = try Bench(clock: .realTime)
        bench.s2mm.attach(StreamSource(packetSize: .fixed(4096)))
        bench.start(.s2mm, length: 4096)
        let started = bench.reactor.now
        bench.reactor.run()  // returns once the completion timer has fired and nothing is left
        #expect(bench.status(.s2mm) == DMASR.IOC_Irq | DMASR.Idle)
        #expect(bench.reactor.now - started >= .nanoseconds(200 + 10_240))
        #expect(bench.memory(at: Bench.buffer, count: 4096) == patternBytes(.counter, count: 4096))
    }

    @Test("a core built without a channel reads 0 there and ignores writes")
    func missingChannel() throws {
        let text = testProfileText().replacingOccurrences(of: "    mm2s:\n      interrupt: 2\n      sense: level-high\n", with: "")
        let board = Board(profile: try BoardProfile.parse(text, file: "one-channel.yaml", registry: DeviceKinds.standard))
        let reactor = Reactor(clock: .virtual)
        let dma = try #require(DeviceSet(board: board, reactor: reactor, seed: 1).axiDMA(named: "dma"))
        #expect(dma.mm2s == nil)
        _ = board.bus.write32(DMACR.RS, at: Bench.base, assuming: .little)
        #expect(try board.bus.read32(at: Bench.base, assuming: .little).get() == 0)
        #expect(try board.bus.read32(at: Bench.base + 0x30, assuming: .little).get() == 0x0001_0002)
    }
}
