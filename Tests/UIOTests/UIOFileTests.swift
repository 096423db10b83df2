import Board
import Reactor
import SystemPackage
import Testing
@testable import UIO

@Suite("UIO read, write and poll (drivers/uio/uio.c)")
struct UIOFileTests {
    @Test("a read of other than 4 bytes fails with EINVAL")
    func readNeedsFourBytes() {
        let rig = Rig()
        let file = rig.s2mm.open(nonBlocking: true)
        rig.pulse()
        for size in [0, 1, 3, 5, 8] {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4)
            defer { buffer.deallocate() }
            #expect(file.read(into: buffer) == .failure(.invalidArgument), "size \(size)")
        }
        // The event is still there for a correct read.
        #expect(file.readEventCount() == .success(1))
    }

    @Test("read returns the total event count as an s32 in the CPU's byte order")
    func readReturnsCountBigEndian() {
        let rig = Rig()
        let file = rig.s2mm.open(nonBlocking: true)
        rig.pulse(); rig.pulse(); rig.pulse()
        _ = file.setInterruptEnabled(true)  // the handler disabled the line after the first pulse
        var bytes: [UInt8] = [0, 0, 0, 0]
        let result = bytes.withUnsafeMutableBytes { file.read(into: $0) }
        #expect(result == .success(4))
        // One interrupt got through: the line stayed disabled until the enable, and the later pulses
        // were edges of a level that had already dropped.
        #expect(bytes == [0, 0, 0, 1])  // e500 is big-endian
    }

    @Test("a fresh file's first read waits for the next interrupt; non-blocking gives EAGAIN")
    func firstReadWaitsForNextInterrupt() {
        let rig = Rig()
        rig.pulse()
        #expect(rig.s2mm.eventCount == 1)
        let file = rig.s2mm.open(nonBlocking: true)
        #expect(file.readEventCount() == .failure(.resourceTemporarilyUnavailable))
        #expect(file.poll() == .success(false))
        _ = file.setInterruptEnabled(true)
        rig.pulse()
        #expect(file.poll() == .success(true))
        #expect(file.readEventCount() == .success(2))
        #expect(file.readEventCount() == .failure(.resourceTemporarilyUnavailable))
    }

    @Test("a blocking read lets emulated time pass until the interrupt")
    func blockingReadWaits() {
        let rig = Rig()
        let file = rig.s2mm.open()
        rig.reactor.schedule(after: .microseconds(250)) { rig.pulse() }
        #expect(file.readEventCount() == .success(1))
        #expect(rig.reactor.now == .start + .microseconds(250))
    }

    @Test("a blocking read that no pending event can satisfy fails with EDEADLK instead of hanging")
    func blockingReadWithNothingPending() {
        let rig = Rig()
        let file = rig.s2mm.open()
        #expect(file.readEventCount() == .failure(.deadlock))
    }

    @Test("a blocking read from inside a reactor callback fails with EDEADLK (it would block the loop)")
    func blockingReadInsideCallback() {
        let rig = Rig()
        let file = rig.s2mm.open()
        var result: Result<Int32, Errno>? = nil
        rig.reactor.schedule(after: .microseconds(10)) { result = file.readEventCount() }
        rig.reactor.schedule(after: .microseconds(20)) { rig.pulse() }
        rig.reactor.run()
        #expect(result == .failure(.deadlock))
    }

    @Test("each open file keeps its own last-seen count")
    func perFileCounts() {
        let rig = Rig()
        let a = rig.s2mm.open(nonBlocking: true)
        rig.pulse()
        let b = rig.s2mm.open(nonBlocking: true)
        #expect(a.readEventCount() == .success(1))
        #expect(b.readEventCount() == .failure(.resourceTemporarilyUnavailable))
        _ = a.setInterruptEnabled(true)
        rig.pulse()
        #expect(a.poll() == .success(true))
        #expect(b.poll() == .success(true))
        #expect(b.readEventCount() == .success(2))
        #expect(a.readEventCount() == .success(2))
        #expect(rig.s2mm.openFileCount == 2)
        a.close()
        #expect(rig.s2mm.openFileCount == 1)
        #expect(a.readEventCount() == .failure(.badFileDescriptor))
    }

    @Test("a write of other than 4 bytes fails with EINVAL")
    func writeNeedsFourBytes() {
        let rig = Rig()
        let file = rig.s2mm.open()
        for size in [0, 2, 8] {
            let bytes = [UInt8](repeating: 1, count: size)
            #expect(bytes.withUnsafeBytes { file.write($0) } == .failure(.invalidArgument), "size \(size)")
        }
    }

    @Test("writing 1 enables and 0 disables the interrupt, in the CPU's byte order")
    func writeEnablesAndDisables() {
        let rig = Rig()
        let file = rig.s2mm.open()
        #expect(!rig.board.interrupts.isMasked(rig.s2mmLine))  // uio_pdrv_genirq starts enabled
        #expect([UInt8]([0, 0, 0, 0]).withUnsafeBytes { file.write($0) } == .success(4))
        #expect(rig.board.interrupts.isMasked(rig.s2mmLine))
        #expect([UInt8]([0, 0, 0, 1]).withUnsafeBytes { file.write($0) } == .success(4))
        #expect(!rig.board.interrupts.isMasked(rig.s2mmLine))
    }

    @Test("on a device without an interrupt, read, write and poll fail with EIO")
    func noInterruptMeansEIO() {
        let board = boardWithoutInterrupt()
        let uio = UIOSystem(board: board, reactor: Reactor(clock: .virtual))
        let file = uio.devices[0].open()
        #expect(uio.devices[0].interruptLine == nil)
        #expect(file.readEventCount() == .failure(.ioError))
        #expect(file.poll() == .failure(.ioError))
        #expect([UInt8]([0, 0, 0, 1]).withUnsafeBytes { file.write($0) } == .failure(.ioError))
        // EIO comes before the size check, as in uio_read.
        #expect([UInt8]([1]).withUnsafeBytes { file.write($0) } == .failure(.ioError))
    }
}

@Suite("UIO interrupt handling (uio_pdrv_genirq)")
struct UIOInterruptTests {
    @Test("the handler disables the line on every interrupt and counts it")
    func handlerDisablesLine() {
        let rig = Rig()
        let file = rig.s2mm.open(nonBlocking: true)
        rig.drive(true)
        #expect(rig.s2mm.eventCount == 1)
        #expect(rig.s2mm.interruptDisabled)
        #expect(rig.board.interrupts.isMasked(rig.s2mmLine))
        #expect(file.poll() == .success(true))
    }

    @Test("enabling and disabling are idempotent")
    func idempotent() {
        let rig = Rig()
        let file = rig.s2mm.open()
        _ = file.setInterruptEnabled(true)
        _ = file.setInterruptEnabled(true)
        #expect(!rig.board.interrupts.isMasked(rig.s2mmLine))
        rig.pulse()
        #expect(rig.s2mm.eventCount == 1)
        _ = file.setInterruptEnabled(false)
        _ = file.setInterruptEnabled(false)
        #expect(rig.board.interrupts.isMasked(rig.s2mmLine))
        _ = file.setInterruptEnabled(true)
        #expect(rig.s2mm.eventCount == 1)  // nothing pending: enabling twice fired nothing
    }

    @Test("enabling while the level cause is still asserted interrupts again at once")
    func levelRefiresOnEnable() {
        let rig = Rig()
        let file = rig.s2mm.open(nonBlocking: true)
        rig.drive(true)  // the device's cause stays set
        #expect(file.readEventCount() == .success(1))
        _ = file.setInterruptEnabled(true)
        #expect(rig.s2mm.eventCount == 2)
        #expect(file.readEventCount() == .success(2))
        rig.drive(false)  // cleared (W1C) before the next enable: the correct order
        _ = file.setInterruptEnabled(true)
        #expect(rig.s2mm.eventCount == 2)
    }

    @Test("the file's doorbell fires its watch on a later turn, once per batch of interrupts")
    func readinessThroughReactor() {
        let rig = Rig()
        let file = rig.s2mm.open(nonBlocking: true)
        var seen: [Int32] = []
        let watch = rig.reactor.watch(file.readiness, for: .read) {
            if case let .success(n) = file.readEventCount() { seen.append(n) }
            _ = file.setInterruptEnabled(true)
        }
        rig.reactor.schedule(after: .microseconds(5)) { rig.pulse() }
        rig.reactor.schedule(after: .microseconds(9)) { rig.pulse() }
        rig.reactor.run()
        rig.reactor.cancel(watch)
        #expect(seen == [1, 2])
    }

    @Test("in real time the file's readiness can be a real eventfd; the watcher cannot tell the difference")
    func eventfdReadinessInRealTime() {
        let board = shippedBoard("p2020-fpga")
        let reactor = Reactor(clock: .realTime)
        let uio = UIOSystem(board: board, reactor: reactor)
        let device = uio.device(named: "axi-dma-s2mm")!
        let file = device.open(nonBlocking: true, backing: .eventfd)
        #expect(file.backing == .eventfd)
        var seen: [Int32] = []
        var watch: WatchID? = nil
        watch = reactor.watch(file.readiness, for: .read) {
            if case let .success(n) = file.readEventCount() { seen.append(n) }
            _ = file.setInterruptEnabled(true)
            if seen.count == 2 { reactor.cancel(watch!) }
        }
        for delay: Int64 in [100, 300] {
            reactor.schedule(after: .microseconds(delay)) {
                board.interrupts.drive(line: device.interruptLine!, high: true)
                board.interrupts.drive(line: device.interruptLine!, high: false)
            }
        }
        reactor.run()
        #expect(seen == [1, 2])
    }

    @Test("an interrupt storm (enable without clearing the cause) is detected and the line held disabled")
    func stormDetected() {
        let rig = Rig(stormThreshold: 50)
        let file = rig.s2mm.open(nonBlocking: true)
        let mapping = try! rig.s2mm.mmap(offset: 0, length: 4096).get()
        var reads = 0
        let watch = rig.reactor.watch(file.readiness, for: .read) {
            _ = file.readEventCount()
            reads += 1
            _ = file.setInterruptEnabled(true)  // never clears the device's cause
        }
        rig.drive(true)
        rig.reactor.run()
        #expect(rig.s2mm.storms == 1)
        #expect(rig.s2mm.isHeldForStorm)
        #expect(rig.s2mm.eventCount == 51)
        #expect(rig.s2mm.enablesRefusedInStorm >= 1)
        #expect(rig.board.interrupts.isMasked(rig.s2mmLine))
        // A register write (clearing the cause) releases the hold.
        rig.drive(false)
        mapping.write32(0x1000, at: 0x34, assuming: .little)
        _ = file.setInterruptEnabled(true)
        #expect(!rig.s2mm.isHeldForStorm)
        #expect(!rig.board.interrupts.isMasked(rig.s2mmLine))
        rig.reactor.cancel(watch)
        #expect(reads == 51)
    }
}
