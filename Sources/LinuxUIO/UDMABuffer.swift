import DriverPorts
import SystemPackage

/// One u-dma-buf buffer (github.com/ikwzm/udmabuf): `/sys/class/u-dma-buf/NAME/phys_addr` ("%pad\n")
/// is the address the device is programmed with, `size` ("%zu\n") its length, and `/dev/NAME`
/// mmap'ed shared is the CPU's view. Opened without O_SYNC, so the CPU caches the buffer and the
/// Linux DMA API syncs keep it coherent on boards where the hardware does not (`dma_coherent` 0).
///
/// Sync protocol, as u-dma-buf's source and README have it: `sync_offset` and `sync_size` (bytes)
/// and `sync_direction` (0 DMA_BIDIRECTIONAL, 1 DMA_TO_DEVICE, 2 DMA_FROM_DEVICE) select the range;
/// writing 1 to `sync_for_cpu` calls dma_sync_single_for_cpu on it (invalidates the cache for
/// directions 2 and 0) and makes the CPU the owner (`sync_owner` 0); writing 1 to `sync_for_device`
/// calls dma_sync_single_for_device (flushes for directions 1 and 0) and makes the device the owner
/// (`sync_owner` 1). A range past the buffer's end fails the write with EINVAL. With `dma_coherent`
/// 1 the kernel does no cache work but ownership still moves.
///
/// Newer u-dma-buf versions also take the whole command in one 64-bit write to `sync_for_cpu`
/// (offset << 32 | size & ~0xF | direction << 2 | 1); it is not used here because older versions
/// do not have it and it cannot sync a length that is not a multiple of 16.
///
/// This buffer is synced from its start only, so `sync_offset` (0) and `sync_direction` are written
/// once at open, and `sync_size` only when the length differs from the last one written: a sync on
/// the completion path is then usually a single attribute write. The buffer is this process's
/// alone while the driver runs; nothing else should write its sync attributes.
///
/// The sync calls of `DMABufferHandle` cannot fail; a failed attribute write is counted in
/// `syncFailures` and kept in `lastSyncError`.
public final class UDMABuffer: DMABufferHandle {
    /// `sync_direction`, the `enum dma_data_direction` values u-dma-buf accepts (0...2).
    public enum SyncDirection: Int, Sendable {
        case bidirectional = 0
        case toDevice = 1
        case fromDevice = 2
    }

    public let name: String
    public let dmaAddress: UInt64
    public let byteCount: Int
    /// `dma_coherent`, or nil where u-dma-buf does not have the attribute (kernels without
    /// dev_is_dma_coherent).
    public let isCoherent: Bool?
    public let direction: SyncDirection
    public private(set) var syncFailures = 0
    public private(set) var lastSyncError: LinuxUIOError?
    public private(set) var isMapped = true

    let cpuView: UnsafeMutableRawPointer
    let devicePath: FilePath
    let syncSizePath: FilePath
    let syncForCPUPath: FilePath
    let syncForDevicePath: FilePath
    let calls: SystemCalls
    /// The `sync_size` value last written, so an unchanged length is not written again.
    private var writtenSyncSize: Int?

    /// Reads the buffer's attributes under `SYSFS/class/u-dma-buf/NAME`, mmaps `DEV/NAME`, and sets
    /// `sync_offset` to 0 and `sync_direction` to `direction`.
    public static func open(name: String, sysfsRoot: FilePath = "/sys", devRoot: FilePath = "/dev",
                            direction: SyncDirection = .bidirectional) throws(LinuxUIOError) -> UDMABuffer {
        try open(name: name, sysfsRoot: sysfsRoot, devRoot: devRoot, direction: direction, calls: .live)
    }

    static func open(name: String, sysfsRoot: FilePath, devRoot: FilePath, direction: SyncDirection,
                     calls: SystemCalls) throws(LinuxUIOError) -> UDMABuffer {
        let directory = sysfsRoot.appending("class").appending("u-dma-buf").appending(name)
        let physPath = directory.appending("phys_addr")
        let address = try SysfsFormat.hex(try calls.readAttribute(physPath), path: physPath,
                                          expected: "a hex DMA address like 0x000000003c000000")
        let sizePath = directory.appending("size")
        let size = try SysfsFormat.decimal(try calls.readAttribute(sizePath), path: sizePath, expected: "a decimal size like 4096")
        guard size > 0, size <= UInt64(Int.max) else {
            throw .invalidMap(path: sizePath.string, reason: "expected a positive size that fits the address space, found \(size)")
        }
        let coherentPath = directory.appending("dma_coherent")
        let coherent: Bool?
        do throws(LinuxUIOError) {
            let flag = try SysfsFormat.decimal(try calls.readAttribute(coherentPath), path: coherentPath, expected: "0 or 1")
            guard flag <= 1 else { throw .format(path: coherentPath.string, expected: "0 or 1", found: "\(flag)") }
            coherent = flag == 1
        } catch .systemCall("open", _, .noSuchFileOrDirectory) {
            coherent = nil
        }
        try calls.writeAttribute(directory.appending("sync_offset"), "0\n")
        switch direction {
        case .bidirectional: try calls.writeAttribute(directory.appending("sync_direction"), "0\n")
        case .toDevice: try calls.writeAttribute(directory.appending("sync_direction"), "1\n")
        case .fromDevice: try calls.writeAttribute(directory.appending("sync_direction"), "2\n")
        }

        let devicePath = devRoot.appending(name)
        let fd = try calls.open(devicePath, .readWrite, [.closeOnExec]).get(orThrow: "open", devicePath)
        defer { _ = calls.close(fd) }
        let status = try calls.fileStatus(fd).get(orThrow: "fstat", devicePath)
        if status.isRegularFile, status.byteCount < Int64(size) {
            throw .shortFile(path: devicePath.string, fileBytes: status.byteCount, neededBytes: Int64(size),
                             purpose: "the \(size)-byte buffer \(name)")
        }
        let view = try calls.mmap(fd, Int(size), 0).get(orThrow: "mmap", devicePath)
        return UDMABuffer(name: name, dmaAddress: address, byteCount: Int(size), isCoherent: coherent, direction: direction,
                          cpuView: view, devicePath: devicePath, directory: directory, calls: calls)
    }

    init(name: String, dmaAddress: UInt64, byteCount: Int, isCoherent: Bool?, direction: SyncDirection,
         cpuView: UnsafeMutableRawPointer, devicePath: FilePath, directory: FilePath, calls: SystemCalls) {
        self.name = name
        self.dmaAddress = dmaAddress
        self.byteCount = byteCount
        self.isCoherent = isCoherent
        self.direction = direction
        self.cpuView = cpuView
        self.devicePath = devicePath
        syncSizePath = directory.appending("sync_size")
        syncForCPUPath = directory.appending("sync_for_cpu")
        syncForDevicePath = directory.appending("sync_for_device")
        self.calls = calls
    }

    deinit {
        if isMapped { _ = calls.munmap(cpuView, byteCount) }
    }

    /// dma_sync_single_for_device over the first `length` bytes (clamped to the buffer).
    public func syncForDevice(length: Int) { sync(length: length, trigger: syncForDevicePath) }

    /// dma_sync_single_for_cpu over the first `length` bytes (clamped to the buffer).
    public func syncForCPU(length: Int) { sync(length: length, trigger: syncForCPUPath) }

    private func sync(length: Int, trigger: FilePath) {
        let size = min(max(length, 0), byteCount)
        do throws(LinuxUIOError) {
            if writtenSyncSize != size {
                writtenSyncSize = nil
                try calls.writeAttribute(syncSizePath, decimal: UInt64(size))
                writtenSyncSize = size
            }
            try calls.writeAttribute(trigger, "1\n")
        } catch {
            syncFailures += 1
            lastSyncError = error
        }
    }

    /// The CPU's view of the first `count` bytes (clamped to the buffer; empty once unmapped).
    public func withCPUBytes<R>(count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: cpuView, count: isMapped ? min(max(count, 0), byteCount) : 0))
    }

    public func withMutableCPUBytes<R>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: cpuView, count: isMapped ? min(max(count, 0), byteCount) : 0))
    }

    /// munmap the CPU view.
    public func unmap() throws(LinuxUIOError) {
        guard isMapped else { return }
        isMapped = false
        try calls.munmap(cpuView, byteCount).get(orThrow: "munmap", devicePath)
    }
}
