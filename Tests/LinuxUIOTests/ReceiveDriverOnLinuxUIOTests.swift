import Driver
import Foundation
import Reactor
import SystemPackage
import Testing
@testable import LinuxUIO

/// Takes each buffer, remembers what it held, gives it back, and stops the reactor.
private final class RecordingConsumer: ReceiveConsumer {
    let reactor: Reactor
    var received: [(slot: Int, bytes: [UInt8])] = []
    init(reactor: Reactor) { self.reactor = reactor }

    func receive(slot: Int, buffer: UDMABuffer, length: Int, transfer: UInt64) -> ConsumerDecision {
        received.append((slot, buffer.withCPUBytes(count: length) { Array($0) }))
        reactor.stop()
        return .release
    }
}

@Suite("the receive driver on the Linux backend")
struct ReceiveDriverOnLinuxUIOTests {
    /// The test plays the AXI DMA core by writing the mmap'ed register file and the buffer file, and
    /// the kernel by sending the interrupt count on the socketpair.
    @Test("start programs S2MM through the mapped file; a completion hands the buffer's bytes to the consumer")
    func startAndComplete() throws {
        let tree = try ExportedTree(buffers: 2)
        let registers = try tree.locator().locate(name: "axi-dma-s2mm").mapRegisters()
        let socket = try InterruptSocket()
        defer { _ = try? socket.kernel.close() }
        let interrupts = UIOInterruptSource(adopting: socket.driver)
        let buffers = UDMABufferProvider(names: ["udmabuf0", "udmabuf1"], sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot,
                                         direction: .fromDevice)
        let reactor = Reactor(clock: .realTime)
        let consumer = RecordingConsumer(reactor: reactor)
        let driver = ReceiveDriver(reactor: reactor, registers: registers, interrupts: interrupts, buffers: buffers,
                                   consumer: consumer,
                                   configuration: DriverConfiguration(ringSize: 2, bufferBytes: 4096, resetPollLimit: 1))
        #expect(throws: Never.self) { try driver.start().get() }

        // Armed buffer 0: run, address of udmabuf0, length last; synced for the device; interrupt unmasked.
        #expect(registers.read32(0x30, .little) & 1 == 1)
        #expect(registers.read32(0x48, .little) == 0x3c00_0000)
        #expect(registers.read32(0x4C, .little) == 0)
        #expect(registers.read32(0x58, .little) == 4096)
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf0/sync_for_device") == "1\n")
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf0/sync_direction") == "2\n")
        #expect(try socket.nextWrite() == withUnsafeBytes(of: Int32(1)) { Array($0) })

        // The core received 5 bytes into udmabuf0: IOC_Irq in DMASR, the count in LENGTH; IRQ 1.
        let data = try FileHandle(forWritingTo: tree.url("dev/udmabuf0"))
        try data.write(contentsOf: Data("hello".utf8))
        try data.close()
        registers.write32(0x34, 0x1002, .little)
        registers.write32(0x58, 5, .little)
        try socket.raise(total: 1)
        reactor.run(until: reactor.now + .seconds(10))

        #expect(consumer.received.count == 1)
        #expect(consumer.received.first?.slot == 0)
        #expect(consumer.received.first?.bytes == Array("hello".utf8))
        #expect(driver.metrics.completions == 1)
        #expect(driver.metrics.bytes == 5)
        #expect(driver.metrics.lostInterrupts == 0)
        #expect(try tree.read("sys/class/u-dma-buf/udmabuf0/sync_for_cpu") == "1\n")
        // The next buffer is armed and the interrupt unmasked again.
        #expect(registers.read32(0x48, .little) == 0x3c00_1000)
        #expect(try socket.nextWrite() == withUnsafeBytes(of: Int32(1)) { Array($0) })
        driver.stop()
        #expect(registers.faults == 0)
    }
}
