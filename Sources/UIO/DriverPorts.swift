import Board
import DriverPorts
import Reactor
import SystemPackage

// The emulated platform for the driver: the same ports a real board provides through `LinuxUIO`,
// backed by the UIO device model, its mappings and the DMA buffer heap.

extension EmulatedRegisterMapping: RegisterPort {
    @inlinable @inline(__always)
    public func read32(_ offset: UInt32, _ order: RegisterByteOrder) -> UInt32 {
        switch read32(at: UInt64(offset), assuming: order == .little ? .little : .big) {
        case let .success(value): return value
        case .failure: return 0xFFFF_FFFF  // a master abort reads all ones
        }
    }

    @inlinable @inline(__always)
    public func write32(_ offset: UInt32, _ value: UInt32, _ order: RegisterByteOrder) {
        write32(value, at: UInt64(offset), assuming: order == .little ? .little : .big)
    }
}

extension UIOFile: InterruptSource {
    public var lastInterruptTime: Instant? { device.lastInterruptTime }
}

extension DMABuffer: DMABufferHandle {
    public var dmaAddress: UInt64 { physicalAddress.rawValue }
    public var byteCount: Int { Int(size) }

    // A range that does not fit (or a freed buffer) does nothing, as `syncForDevice(offset:length:)`
    // would; the driver's port has no use for the error, so none is built.
    public func syncForDevice(length: Int) { _ = sync(to: .device, offset: 0, length: UInt64(length)) }
    public func syncForCPU(length: Int) { _ = sync(to: .cpu, offset: 0, length: UInt64(length)) }
    public func syncRangeForDevice(offset: Int, length: Int) { _ = sync(to: .device, offset: UInt64(offset), length: UInt64(length)) }
    public func syncRangeForCPU(offset: Int, length: Int) { _ = sync(to: .cpu, offset: UInt64(offset), length: UInt64(length)) }

    @inline(__always)
    public func withCPUBytes<R>(count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withCPUBytes(count: Optional(count), body)
    }

    @inline(__always)
    public func withMutableCPUBytes<R>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try withMutableCPUBytes(count: Optional(count), body)
    }
}

extension DMABufferHeap: DMABufferProvider {
    public func allocateBuffers(count: Int, byteCount: Int) -> Result<[DMABuffer], DriverSetupError> {
        var buffers: [DMABuffer] = []
        for n in 0..<count {
            switch allocate(size: UInt64(byteCount)) {
            case let .success(buffer): buffers.append(buffer)
            case let .failure(error):
                for b in buffers { _ = free(b) }
                return .failure(DriverSetupError("buffer \(n) of \(count): \(error)"))
            }
        }
        return .success(buffers)
    }
}
