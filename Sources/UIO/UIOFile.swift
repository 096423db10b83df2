import Board
import Reactor
import SystemPackage
import Trace

/// One open file of a UIO device: what `open("/dev/uioN")` returns.
///
/// `read` and `write` follow `uio_read`/`uio_write` in drivers/uio/uio.c, in their order of checks:
/// - a device without an interrupt: EIO (read, write and poll);
/// - a buffer other than 4 bytes: EINVAL;
/// - read: returns the event count as an s32 (CPU byte order) once it differs from the count this
///   file last read; a fresh file's first read waits for the next interrupt. O_NONBLOCK: EAGAIN.
/// - write: a non-zero s32 enables the interrupt, zero disables it.
///
/// The file is watched through `readiness` (a doorbell, rung on every interrupt), exactly as a
/// driver on the board polls the fd; it is readable exactly while the count differs.
public final class UIOFile {
    public let device: EmulatedUIODevice
    public let isNonBlocking: Bool
    let doorbell: Doorbell
    /// `listener->event_count`: the count this file last returned (set to the current count at open).
    // Stored `var`s are `@exclusivity(unchecked)`: single reactor thread, no overlapping access (DESIGN.md, per-completion hot path).
    @exclusivity(unchecked) public private(set) var lastSeenCount: UInt32
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// Records successful reads and enable/disable writes when set (nil: tracing off).
    @exclusivity(unchecked) public var tracer: Tracer?

    init(device: EmulatedUIODevice, nonBlocking: Bool, doorbell: Doorbell) {
        self.device = device
        isNonBlocking = nonBlocking
        self.doorbell = doorbell
        lastSeenCount = device.eventCount
    }

    /// What a reactor watches for `.read`, like the fd of `/dev/uioN`.
    public var readiness: ReadinessSource { doorbell.source }

    /// The eventfd behind an eventfd-backed file (readable while the count differs), or -1.
    public var readinessDescriptor: Int32 { doorbell.fileDescriptor }

    /// The doorbell behind `readiness` (an eventfd-backed one has a real fd).
    public var backing: Doorbell.Backing { doorbell.backing }

    /// poll(): readable while the device's count differs from this file's; EIO without an interrupt.
    public func poll() -> Result<Bool, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        guard device.interruptLine != nil else { return .failure(.ioError) }
        return .success(device.eventCount != lastSeenCount)
    }

    // MARK: read

    /// `read(fd, buffer, buffer.count)`: returns the number of bytes read (4) or the errno.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        switch readEventCount(bufferSize: buffer.count) {
        case let .success(count):
            let bytes = device.cpuEndianness == .big ? UInt32(bitPattern: count).bigEndian : UInt32(bitPattern: count).littleEndian
            buffer.storeBytes(of: bytes, as: UInt32.self)
            return .success(4)
        case let .failure(errno):
            return .failure(errno)
        }
    }

    /// The 4-byte read as a value: the total interrupt count, as the kernel's s32.
    @inline(__always)
    public func readEventCount() -> Result<Int32, Errno> { readEventCount(bufferSize: 4) }

    /// The read of `bufferSize` bytes as a value, with the kernel's checks in their order (EIO,
    /// EINVAL, EAGAIN): the total interrupt count as the kernel's s32.
    /// Inlined into the driver (its interrupt handler reads once per completion); waiting for a
    /// count is out of line.
    @inline(__always)
    public func readEventCount(bufferSize: Int) -> Result<Int32, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        guard device.interruptLine != nil else { return .failure(.ioError) }
        guard bufferSize == 4 else { return .failure(.invalidArgument) }
        if device.eventCount == lastSeenCount, let failure = waitForEvent() { return .failure(failure) }
        let previous = lastSeenCount
        lastSeenCount = device.eventCount
        _ = doorbell.drain()
        if tracer != nil { traceRead(previous: previous) }
        return .success(Int32(bitPattern: lastSeenCount))
    }

    /// The count has not moved since this file last read it: EAGAIN on a non-blocking file, else
    /// wait for it (nil once it moved).
    @inline(never)
    func waitForEvent() -> Errno? {
        if isNonBlocking { return .resourceTemporarilyUnavailable }
        // A blocking read lets emulated time pass until the next interrupt. From inside a reactor
        // callback that can never happen (the one thread would wait for itself): the driver must
        // read when the file is readable. With nothing left that could interrupt, the read would
        // sleep forever on the board: EDEADLK says so instead of hanging.
        guard !device.reactor.isDispatching,
              device.reactor.run(until: { self.device.eventCount != self.lastSeenCount })
        else { return .deadlock }
        return nil
    }

    // MARK: write

    /// `write(fd, bytes, bytes.count)`: returns the number of bytes written (4) or the errno.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        guard device.interruptLine != nil else { return .failure(.ioError) }
        guard bytes.count == 4 else { return .failure(.invalidArgument) }
        let raw = bytes.loadUnaligned(as: UInt32.self)
        let value = device.cpuEndianness == .big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
        if tracer != nil { traceEnable(value != 0) }
        device.setInterrupt(enabled: value != 0)
        return .success(4)
    }

    /// The 4-byte write as a call: enable (1) or disable (0) the interrupt.
    /// Inlined into the driver, which re-enables once per completion.
    @inline(__always)
    @discardableResult
    public func setInterruptEnabled(_ enabled: Bool) -> Result<Void, Errno> {
        guard !isClosed else { return .failure(.badFileDescriptor) }
        guard device.interruptLine != nil else { return .failure(.ioError) }
        if tracer != nil { traceEnable(enabled) }
        device.setInterrupt(enabled: enabled)
        return .success(())
    }

    // MARK: tracing (out of line: without a tracer each site is one branch)

    @inline(never)
    func traceRead(previous: UInt32) {
        tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.uioRead(device: device.traceName, count: Int32(bitPattern: lastSeenCount), previous: Int32(bitPattern: previous))) }
    }

    @inline(never)
    func traceEnable(_ enabled: Bool) { tracer.unretained?._withUnsafeGuaranteedRef { $0.record(.uioEnable(device: device.traceName, enabled: enabled)) } }

    // MARK: close

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        device.close(self)
    }
}
