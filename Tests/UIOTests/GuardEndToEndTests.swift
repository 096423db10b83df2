import Board
import Devices
import Reactor
import Testing
@testable import UIO

/// The UIO layer and the AXI DMA model together: registers programmed through the UIO mapping, as a
/// driver does, with the heap's guard as the engine's access policy.
@Suite("Guard mode end to end (AXI DMA S2MM through UIO)")
struct GuardEndToEndTests {
    /// An S2MM register's offset in the UIO map (the register table of the Devices layer).
    static func s2mm(_ register: ChannelRegister) -> UInt64 { UInt64(DMADirection.s2mm.baseOffset + register.rawValue) }

    /// What a driver does after RS=1: lets board time pass until DMASR.Halted reads 0 (the shipped
    /// boards' core takes `halt-lag-cycles` for it; LENGTH written before would start nothing).
    static func waitUntilRunning(_ mapping: EmulatedRegisterMapping, _ reactor: Reactor) {
        reactor.run(until: { ((try? mapping.read32(at: s2mm(.DMASR), assuming: .little).get()) ?? 1) & DMASR.Halted == 0 })
    }

    struct System {
        let rig: Rig
        let devices: DeviceSet
        let mapping: EmulatedRegisterMapping
        let file: UIOFile

        init(_ board: String = "p2020-fpga") {
            rig = Rig(board)
            devices = DeviceSet(board: rig.board, reactor: rig.reactor, seed: 7, accessPolicy: rig.uio.dmaGuard)
            let dma = devices.axiDMA(named: "fpga-dma")!
            dma.s2mm!.attach(StreamSource(pattern: .counter, packetSize: .fixed(4096), packetLimit: 1))
            mapping = try! rig.s2mm.mmap(offset: 0, length: 65536).get()
            file = rig.s2mm.open(nonBlocking: true)
        }

        func start(at address: PhysicalAddress, length: UInt32 = 4096) {
            mapping.write32(DMACR.RS | DMACR.IOC_IrqEn | DMACR.Err_IrqEn, at: GuardEndToEndTests.s2mm(.DMACR), assuming: .little)
            GuardEndToEndTests.waitUntilRunning(mapping, rig.reactor)
            mapping.write32(UInt32(truncatingIfNeeded: address.rawValue), at: GuardEndToEndTests.s2mm(.address), assuming: .little)
            mapping.write32(UInt32(truncatingIfNeeded: address.rawValue >> 32), at: GuardEndToEndTests.s2mm(.addressMSB), assuming: .little)
            mapping.write32(length, at: GuardEndToEndTests.s2mm(.LENGTH), assuming: .little)
        }

        var status: UInt32 { (try? mapping.read32(at: GuardEndToEndTests.s2mm(.DMASR), assuming: .little).get()) ?? 0xDEAD_BEEF }
    }

    @Test("an S2MM transfer outside every live buffer is refused with DMADecErr and raises the line (Err_IrqEn)")
    func outOfBufferTransferRefused() throws {
        let s = System()
        let buffer = try s.rig.uio.heap.allocate(size: 4096).get()
        buffer.syncForDevice()
        s.start(at: buffer.physicalAddress + 8192)  // past the only buffer: a computed-wrong address
        s.rig.reactor.run()
        let status = s.status
        #expect(status & DMASR.DMADecErr != 0)
        #expect(status & DMASR.Err_Irq != 0)
        #expect(status & DMASR.Halted != 0)
        #expect(status & DMASR.IOC_Irq == 0)
        #expect(s.file.readEventCount() == .success(1))
        let finding = try #require(s.rig.uio.heap.findings.log.first)
        #expect(finding.kind == .dmaOutsideBuffers)
        #expect(finding.address == buffer.physicalAddress + 8192)
        #expect(finding.buffer == buffer.name)
        // Nothing was written anywhere.
        var bytes = [UInt8](repeating: 0xFF, count: 16)
        _ = bytes.withUnsafeMutableBytes { s.rig.board.bus.read(into: $0, from: buffer.physicalAddress + 8192) }
        #expect(bytes == [UInt8](repeating: 0, count: 16))
    }

    @Test("the same transfer into a device-owned buffer completes with IOC and no finding")
    func inBufferTransferCompletes() throws {
        let s = System()
        let buffer = try s.rig.uio.heap.allocate(size: 4096).get()
        buffer.syncForDevice()
        s.start(at: buffer.physicalAddress)
        s.rig.reactor.run()
        #expect(s.status & DMASR.IOC_Irq != 0)
        #expect(s.status & DMASR.DMADecErr == 0)
        #expect(s.file.readEventCount() == .success(1))
        buffer.syncForCPU()
        let head = buffer.withCPUBytes(count: 12) { Array($0) }
        #expect(head == [0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])  // the counter pattern: little-endian words 0, 1, 2
        #expect(s.rig.uio.heap.findings.totalViolations + s.rig.uio.heap.findings.totalWarnings == 0)
    }

    @Test("on the non-coherent ML507, DMA into a buffer the CPU still owns is a reported violation")
    func dmaIntoCPUOwnedBufferOnNonCoherentBoard() throws {
        let rig = Rig("ml507-ppc440")
        let devices = DeviceSet(board: rig.board, reactor: rig.reactor, seed: 7, accessPolicy: rig.uio.dmaGuard)
        devices.axiDMA(named: rig.s2mm.maps[0].region)!.s2mm!.attach(StreamSource(packetSize: .fixed(256), packetLimit: 1))
        let mapping = try rig.s2mm.mmap(offset: 0, length: 4096).get()
        let buffer = try rig.uio.heap.allocate(size: 4096).get()  // no syncForDevice: the CPU owns it
        mapping.write32(DMACR.RS | DMACR.IOC_IrqEn, at: Self.s2mm(.DMACR), assuming: .little)
        Self.waitUntilRunning(mapping, rig.reactor)
        mapping.write32(UInt32(buffer.physicalAddress.rawValue), at: Self.s2mm(.address), assuming: .little)
        mapping.write32(256, at: Self.s2mm(.LENGTH), assuming: .little)
        rig.reactor.run()
        #expect(rig.uio.heap.findings.count(.dmaWhileCPUOwned, .violation) == 1)
    }
}
