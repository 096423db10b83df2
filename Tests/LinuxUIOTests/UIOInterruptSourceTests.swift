import Driver
import Foundation
import Reactor
import SystemPackage
import Testing
@testable import LinuxUIO

/// A connected pair of SOCK_SEQPACKET sockets standing in for the uio fd: the test (the "kernel")
/// sends 4-byte counts on `kernel` and reads what the driver writes (1/0 to unmask/mask); the
/// driver's end is non-blocking like the O_NONBLOCK uio fd, the test's too so that "nothing
/// written" is EAGAIN rather than a hang. A socketpair rather than a pipe because
/// the uio fd goes both ways (read counts, write enables), and SEQPACKET keeps each count one message
/// as the kernel's 4-byte reads do.
struct InterruptSocket {
    let driver: FileDescriptor
    let kernel: FileDescriptor

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw Errno(rawValue: errno)
        }
        for fd in fds {
            guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else { throw Errno(rawValue: errno) }
        }
        driver = FileDescriptor(rawValue: fds[0])
        kernel = FileDescriptor(rawValue: fds[1])
    }

    /// What the kernel's read hands out: the total count, an s32 in host order.
    func raise(total count: Int32) throws {
        var value = count
        _ = try withUnsafeBytes(of: &value) { try kernel.write($0) }
    }

    /// The next 4-byte value the driver wrote, or nil if it wrote nothing.
    func nextWrite() throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = try bytes.withUnsafeMutableBytes { buffer -> Int in
            do {
                return try kernel.read(into: buffer)
            } catch Errno.wouldBlock {
                return -1
            }
        }
        return n < 0 ? nil : Array(bytes.prefix(n))
    }
}

@Suite("UIO interrupt source over a descriptor delivering 4-byte counts")
struct UIOInterruptSourceTests {
    @Test("the count the kernel hands out is read as a host-order s32, one read per interrupt")
    func readsCounts() throws {
        let socket = try InterruptSocket()
        let source = UIOInterruptSource(adopting: socket.driver)
        defer { _ = try? socket.kernel.close() }
        try socket.raise(total: 1)
        try socket.raise(total: 0x0102_0304)
        #expect(try source.readEventCount().get() == 1)
        #expect(try source.readEventCount().get() == 0x0102_0304)
    }

    @Test("with no new interrupt a read fails with EAGAIN instead of blocking")
    func emptyIsEAGAIN() throws {
        let socket = try InterruptSocket()
        let source = UIOInterruptSource(adopting: socket.driver)
        defer { _ = try? socket.kernel.close() }
        #expect(source.readEventCount() == .failure(.wouldBlock))
    }

    @Test("enable and disable write a 4-byte 1 and 0 in host order")
    func enableWrites() throws {
        let socket = try InterruptSocket()
        let source = UIOInterruptSource(adopting: socket.driver)
        defer { _ = try? socket.kernel.close() }
        #expect(throws: Never.self) { try source.setInterruptEnabled(true).get() }
        #expect(throws: Never.self) { try source.setInterruptEnabled(false).get() }
        let one = withUnsafeBytes(of: Int32(1)) { Array($0) }
        let zero = withUnsafeBytes(of: Int32(0)) { Array($0) }
        #expect(try socket.nextWrite() == one)
        #expect(try socket.nextWrite() == zero)
        #expect(try socket.nextWrite() == nil)
    }

    @Test("a short read (only a stand-in can give one) or end of file is EIO")
    func shortRead() throws {
        let socket = try InterruptSocket()
        let source = UIOInterruptSource(adopting: socket.driver)
        _ = try [UInt8](arrayLiteral: 1, 0).withUnsafeBytes { try socket.kernel.write($0) }
        #expect(source.readEventCount() == .failure(.ioError))
        try socket.kernel.close()
        #expect(source.readEventCount() == .failure(.ioError))
    }

    @Test("errnos forced through the seam come back unchanged; a closed source answers EBADF")
    func forcedErrnos() throws {
        let socket = try InterruptSocket()
        defer { _ = try? socket.kernel.close() }
        let recorder = CallRecorder()
        recorder.failures = [("read", nil, .ioError), ("write", nil, .interrupted), ("close", nil, .ioError)]
        let source = UIOInterruptSource(adopting: socket.driver, path: "/dev/uio0", calls: recorder.seam)
        try socket.raise(total: 7)
        #expect(source.readEventCount() == .failure(.ioError))
        #expect(source.readEventCount() == .success(7))
        #expect(failure(source.setInterruptEnabled(true)) == .interrupted)
        #expect(linuxError { try source.close() } == .systemCall("close", path: "/dev/uio0", .ioError))
        #expect(source.readEventCount() == .failure(.badFileDescriptor))
        #expect(failure(source.setInterruptEnabled(true)) == .badFileDescriptor)
        _ = try? socket.driver.close()
    }

    @Test("the reactor sees the descriptor readable when an interrupt is pending")
    func reactorReadiness() throws {
        let socket = try InterruptSocket()
        let source = UIOInterruptSource(adopting: socket.driver)
        defer { _ = try? socket.kernel.close() }
        guard case let .fd(fd) = source.readiness else {
            Issue.record("expected an fd readiness source")
            return
        }
        #expect(fd == socket.driver.rawValue)
        let reactor = Reactor(clock: .realTime)
        var counts: [Int32] = []
        let watch = reactor.watch(source.readiness, for: .read) {
            if case let .success(count) = source.readEventCount() { counts.append(count) }
        }
        try socket.raise(total: 3)
        #expect(reactor.run(until: { !counts.isEmpty }))
        reactor.cancel(watch)
        #expect(counts == [3])
    }

    @Test("the device node is opened O_RDWR | O_NONBLOCK | O_CLOEXEC; a FIFO node delivers counts")
    func opensTheNode() throws {
        let tree = try ExportedTree()
        try tree.remove("dev/uio0")
        #expect(mkfifo(tree.path("dev/uio0"), 0o600) == 0)
        let recorder = CallRecorder()
        let source = try tree.locator(recorder.seam).locate(name: "axi-dma-s2mm").openInterrupts()
        #expect(recorder.openOptions[tree.path("dev/uio0")] == [.nonBlocking, .closeOnExec])
        #expect(source.path == tree.devRoot.appending("uio0"))
        #expect(source.readEventCount() == .failure(.wouldBlock))
        let writer = try FileDescriptor.open(tree.path("dev/uio0"), .writeOnly, options: [.nonBlocking, .closeOnExec])
        var count: Int32 = 42
        _ = try withUnsafeBytes(of: &count) { try writer.write($0) }
        try writer.close()
        #expect(source.readEventCount() == .success(42))
        try source.close()
    }

    @Test("a missing node or a forced open errno is a located error")
    func openErrors() throws {
        let tree = try ExportedTree()
        let recorder = CallRecorder()
        recorder.failures = [("open", "dev/uio1", .permissionDenied)]
        #expect(linuxError { try tree.locator(recorder.seam).locate(name: "axi-dma-mm2s").openInterrupts() }
            == .systemCall("open", path: tree.path("dev/uio1"), .permissionDenied))
        try tree.remove("dev/uio1")
        #expect(linuxError { try tree.locator().locate(name: "axi-dma-mm2s").openInterrupts() }
            == .systemCall("open", path: tree.path("dev/uio1"), .noSuchFileOrDirectory))
    }
}

private func failure(_ result: Result<Void, Errno>) -> Errno? {
    if case let .failure(errno) = result { return errno }
    return nil
}
