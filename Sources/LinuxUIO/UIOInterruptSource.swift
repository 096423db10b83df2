import DriverPorts
import Reactor
import SystemPackage

/// The interrupt side of a UIO device node (drivers/uio/uio.c): the reactor watches the descriptor
/// for readability (uio_poll: the event count differs from what this open file last read), a 4-byte
/// read returns the total interrupt count as an s32 in the CPU's byte order (copy_to_user of the
/// kernel's counter, so no conversion), and a 4-byte write of 1 or 0 unmasks or masks the line
/// (uio_write calling the driver's irqcontrol).
///
/// The descriptor should be non-blocking (EAGAIN when there is no new interrupt).
public final class UIOInterruptSource: InterruptSource {
    public let fileDescriptor: FileDescriptor
    /// Where the descriptor came from, for messages.
    public let path: FilePath
    public private(set) var isClosed = false
    let calls: SystemCalls

    /// Takes over `fileDescriptor` (closed by `close()` or when this goes away): an already opened
    /// uio node, or anything that behaves like one (a socket delivering 4-byte counts in tests).
    public convenience init(adopting fileDescriptor: FileDescriptor, path: FilePath = "(adopted descriptor)") {
        self.init(adopting: fileDescriptor, path: path, calls: .live)
    }

    init(adopting fileDescriptor: FileDescriptor, path: FilePath, calls: SystemCalls) {
        self.fileDescriptor = fileDescriptor
        self.path = path
        self.calls = calls
    }

    deinit {
        if !isClosed { _ = calls.close(fileDescriptor) }
    }

    public var readiness: ReadinessSource { .fd(fileDescriptor.rawValue) }

    /// read(fd, &count, 4). The kernel moves exactly 4 bytes or fails; a short read (only a stand-in
    /// can do that) or end of file is reported as EIO.
    public func readEventCount() -> Result<Int32, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        var count: Int32 = 0
        let result = withUnsafeMutableBytes(of: &count) { calls.read(fileDescriptor, $0) }
        switch result {
        case .success(4): return .success(count)
        case .success: return .failure(.ioError)
        case let .failure(errno): return .failure(errno)
        }
    }

    /// write(fd, &one_or_zero, 4), an s32 in the CPU's byte order; a short write is EIO.
    public func setInterruptEnabled(_ enabled: Bool) -> Result<Void, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        var value: Int32 = enabled ? 1 : 0
        let result = withUnsafeBytes(of: &value) { calls.write(fileDescriptor, $0) }
        switch result {
        case .success(4): return .success(())
        case .success: return .failure(.ioError)
        case let .failure(errno): return .failure(errno)
        }
    }

    /// close(2); unwatch the descriptor in the reactor first.
    public func close() throws(LinuxUIOError) {
        guard !isClosed else { return }
        isClosed = true
        try calls.close(fileDescriptor).get(orThrow: "close", path)
    }
}
