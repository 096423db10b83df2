import DriverPorts
import SystemPackage

/// The driver's buffers from u-dma-buf: a fixed set of named buffers (`udmabuf0`, ...) that the
/// board's device tree or `insmod u-dma-buf.ko udmabuf0=SIZE` created. "Allocating" opens and maps
/// the first `count` of them; it can be done once.
public final class UDMABufferProvider: DMABufferProvider {
    public typealias Buffer = UDMABuffer

    public let names: [String]
    public let sysfsRoot: FilePath
    public let devRoot: FilePath
    public let direction: UDMABuffer.SyncDirection
    public private(set) var isDriverStarted = false
    /// Buffers handed out so far (empty until `allocateBuffers`).
    public private(set) var buffers: [UDMABuffer] = []
    let calls: SystemCalls

    /// `direction`: `.fromDevice` for a receive (S2MM) ring, `.toDevice` for transmit.
    public convenience init(names: [String], sysfsRoot: FilePath = "/sys", devRoot: FilePath = "/dev",
                            direction: UDMABuffer.SyncDirection = .bidirectional) {
        self.init(names: names, sysfsRoot: sysfsRoot, devRoot: devRoot, direction: direction, calls: .live)
    }

    init(names: [String], sysfsRoot: FilePath, devRoot: FilePath, direction: UDMABuffer.SyncDirection, calls: SystemCalls) {
        self.names = names
        self.sysfsRoot = sysfsRoot
        self.devRoot = devRoot
        self.direction = direction
        self.calls = calls
    }

    /// The first `count` named buffers, each at least `byteCount` bytes; fails if fewer are named,
    /// one is too small or cannot be opened, or buffers were already handed out.
    public func allocateBuffers(count: Int, byteCount: Int) -> Result<[UDMABuffer], DriverSetupError> {
        guard buffers.isEmpty else {
            return .failure(DriverSetupError("u-dma-buf: \(buffers.count) buffer(s) were already handed out; allocate the ring once, at start"))
        }
        guard count > 0 else { return .failure(DriverSetupError("u-dma-buf: expected a positive buffer count, found \(count)")) }
        guard names.count >= count else {
            return .failure(DriverSetupError("u-dma-buf: expected \(count) buffer name(s), found \(names.count)"
                + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))")))
        }
        var opened: [UDMABuffer] = []
        for name in names.prefix(count) {
            let buffer: UDMABuffer
            do throws(LinuxUIOError) {
                buffer = try UDMABuffer.open(name: name, sysfsRoot: sysfsRoot, devRoot: devRoot, direction: direction, calls: calls)
            } catch {
                return .failure(DriverSetupError("u-dma-buf \(name): \(error)"))
            }
            guard buffer.byteCount >= byteCount else {
                let path = sysfsRoot.appending("class").appending("u-dma-buf").appending(name).appending("size")
                return .failure(DriverSetupError("\(path): expected at least \(byteCount) bytes, found \(buffer.byteCount)"))
            }
            opened.append(buffer)
        }
        buffers = opened
        return .success(opened)
    }

    public func driverStarted() { isDriverStarted = true }
}
