import Board
import Devices
import Foundation
import Reactor
import Testing
@testable import UIO

@Suite("DMA buffer heap (u-dma-buf style)")
struct DMABufferHeapTests {
    @Test("buffers are carved from the pool in whole pages, first fit, and freed space is reused")
    func allocation() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        let a = try heap.allocate(size: 100).get()
        let b = try heap.allocate(size: 4096).get()
        #expect(a.physicalAddress == heap.pool.base)
        #expect(a.size == 4096)
        #expect(b.physicalAddress == heap.pool.base + 4096)
        #expect(a.name == "udmabuf0")
        #expect(b.name == "udmabuf1")
        #expect(heap.free(a) == nil)
        let c = try heap.allocate(size: 4096).get()
        #expect(c.physicalAddress == heap.pool.base)  // the hole a left
    }

    @Test("alignment must be a power of two of at least a page, and is honoured")
    func alignment() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        _ = try heap.allocate(size: 4096).get()
        let aligned = try heap.allocate(size: 4096, alignment: 65536).get()
        #expect(aligned.physicalAddress.rawValue % 65536 == 0)
        #expect(heap.allocate(size: 4096, alignment: 3000).failure == .badAlignment(3000))
        #expect(heap.allocate(size: 4096, alignment: 2048).failure == .badAlignment(2048))
    }

    @Test("zero size, exhaustion and double free are clear errors")
    func errors() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        #expect(heap.allocate(size: 0).failure == .zeroSize)
        let all = try heap.allocate(size: heap.pool.size - 8192).get()
        #expect(heap.allocate(size: 16384).failure == .exhausted(requested: 16384, largestFree: 8192))
        #expect(heap.free(all) == nil)
        #expect(heap.free(all) == .doubleFree(buffer: "udmabuf0"))
        #expect(all.syncForCPU() == .syncOutOfRange(buffer: "udmabuf0", offset: 0, length: 0, size: all.size))
    }

    @Test("allocations after the driver started are counted as findings")
    func allocationAfterStart() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        _ = try heap.allocate(size: 4096).get()
        heap.driverStarted()
        #expect(heap.allocationsAfterStart == 0)
        _ = try heap.allocate(size: 4096).get()
        #expect(heap.allocationsAfterStart == 1)
        #expect(heap.findings.count(.allocationAfterStart, .violation) == 1)
    }

    @Test("a CPU touch of a freed buffer is cpu-access-after-free (a violation), whoever owned it at the free; never cpu-access-while-device-owned")
    func accessAfterFree() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        let cpuOwned = try heap.allocate(size: 4096).get()
        let deviceOwned = try heap.allocate(size: 4096).get()
        #expect(deviceOwned.syncForDevice() == nil)
        _ = cpuOwned.withCPUBytes(count: 4) { $0.count }
        #expect(heap.findings.count(.cpuAccessAfterFree, .violation) == 0, "live and the CPU's: no finding")
        #expect(heap.free(cpuOwned) == nil && heap.free(deviceOwned) == nil)
        _ = cpuOwned.withCPUBytes(count: 4) { $0.count }
        deviceOwned.withMutableCPUBytes(count: 4) { $0.storeBytes(of: 1, as: UInt8.self) }
        #expect(heap.findings.count(.cpuAccessAfterFree, .violation) == 2)
        #expect(heap.findings.count(.cpuAccessWhileDeviceOwned, .violation) + heap.findings.count(.cpuAccessWhileDeviceOwned, .warning) == 0)
    }
}

@Suite("Buffer ownership (Linux DMA API) and the guard")
struct DMAOwnershipTests {
    /// Writes `bytes` where the device would: into memory, through the bus.
    func deviceWrites(_ rig: Rig, _ bytes: [UInt8], at address: PhysicalAddress) {
        #expect(bytes.withUnsafeBytes { rig.board.bus.write($0, to: address) } == nil)
    }

    @Test("non-coherent board: the CPU sees DMA data only after sync-for-cpu; reading before is stale and reported")
    func nonCoherentStaleRead() throws {
        let rig = Rig("ml507-ppc440")
        let heap = rig.uio.heap
        #expect(!heap.isCoherent)
        let buffer = try heap.allocate(size: 4096).get()
        buffer.syncForDevice()
        #expect(heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: buffer.physicalAddress, byteCount: 4)))
        deviceWrites(rig, [1, 2, 3, 4], at: buffer.physicalAddress)
        let stale = buffer.withCPUBytes(count: 4) { Array($0) }
        #expect(stale == [0, 0, 0, 0])
        #expect(heap.findings.count(.cpuAccessWhileDeviceOwned, .violation) == 1)
        buffer.syncForCPU()
        #expect(buffer.withCPUBytes(count: 4) { Array($0) } == [1, 2, 3, 4])
        #expect(heap.findings.count(.cpuAccessWhileDeviceOwned, .violation) == 1)
    }

    @Test("non-coherent board: CPU writes reach the device only after sync-for-device")
    func nonCoherentWriteBack() throws {
        let rig = Rig("ml507-ppc440")
        let buffer = try rig.uio.heap.allocate(size: 4096).get()
        buffer.withMutableCPUBytes(count: 2) { $0[0] = 0xAB; $0[1] = 0xCD }
        #expect((try? rig.board.bus.read8(at: buffer.physicalAddress).get()) == 0)
        buffer.syncForDevice()
        #expect((try? rig.board.bus.read8(at: buffer.physicalAddress).get()) == 0xAB)
    }

    @Test("DMA into a CPU-owned buffer is a violation on a non-coherent board and a warning on a coherent one")
    func dmaWhileCPUOwned() throws {
        for (board, severity) in [("ml507-ppc440", DMAFinding.Severity.violation), ("p2020-fpga", .warning)] {
            let rig = Rig(board)
            let buffer = try rig.uio.heap.allocate(size: 4096).get()
            #expect(rig.uio.heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: buffer.physicalAddress, byteCount: 4096)))
            #expect(rig.uio.heap.findings.count(.dmaWhileCPUOwned, severity) == 1, "\(board)")
        }
    }

    @Test("coherent board: the CPU view is the memory itself; touching a device-owned buffer is a warning")
    func coherentView() throws {
        let rig = Rig("p2020-fpga")
        let buffer = try rig.uio.heap.allocate(size: 4096).get()
        buffer.syncForDevice()
        deviceWrites(rig, [9, 8], at: buffer.physicalAddress)
        #expect(buffer.withCPUBytes(count: 2) { Array($0) } == [9, 8])
        #expect(rig.uio.heap.findings.count(.cpuAccessWhileDeviceOwned, .warning) == 1)
        #expect(rig.uio.heap.findings.totalViolations == 0)
    }

    @Test("guard mode refuses DMA not fully inside one live buffer and names the nearest buffer")
    func guardRefuses() throws {
        let rig = Rig()
        let heap = rig.uio.heap
        let a = try heap.allocate(size: 4096).get()
        _ = try heap.allocate(size: 4096).get()
        a.syncForDevice()
        #expect(heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: a.physicalAddress, byteCount: 4096)))
        // Straddles two buffers, past the end, outside the pool, and a freed buffer.
        #expect(!heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: a.physicalAddress + 2048, byteCount: 4096)))
        #expect(!heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: heap.pool.base + 3 * 4096, byteCount: 16)))
        #expect(!heap.admit(DMAAccess(deviceIndex: 0, direction: .mm2s, address: PhysicalAddress(0x1000), byteCount: 16)))
        #expect(heap.free(a) == nil)
        #expect(!heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: a.physicalAddress, byteCount: 16)))
        #expect(heap.findings.count(.dmaOutsideBuffers, .violation) == 4)
        let first = heap.findings.log.first { $0.kind == .dmaOutsideBuffers }!
        #expect(first.address == a.physicalAddress + 2048)
        #expect(first.buffer == "udmabuf0")
    }

    @Test("the guard is on by default and switched off by the profile's dma-pool guard: false")
    func guardFromProfile() throws {
        #expect(Rig().uio.heap.guardEnabled)
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/p2020-fpga.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\n  coherent: true", with: "\n  guard: false\n  coherent: true")
        let profile = try BoardProfile.parse(text, file: "guard-off.yaml", registry: DeviceKinds.standard)
        let uio = UIOSystem(board: Board(profile: profile), reactor: Reactor(clock: .virtual))
        #expect(!uio.heap.guardEnabled)
    }

    @Test("with the guard off, out-of-buffer DMA goes through and is still recorded")
    func guardOff() {
        let rig = Rig(guardEnabled: false)
        #expect(rig.uio.heap.admit(DMAAccess(deviceIndex: 0, direction: .s2mm, address: PhysicalAddress(0x1000), byteCount: 16)))
        #expect(rig.uio.heap.findings.count(.dmaOutsideBuffers, .violation) == 1)
    }
}
