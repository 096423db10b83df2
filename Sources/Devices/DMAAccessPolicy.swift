import Board

/// One DMA data movement, as the engine is about to perform it.
public struct DMAAccess: Hashable, Sendable, CustomStringConvertible {
    /// The device's index in its `DeviceSet` (profile order).
    public var deviceIndex: Int
    public var direction: DMADirection
    public var address: PhysicalAddress
    public var byteCount: UInt64
    /// S2MM writes memory; MM2S reads it.
    public var writesMemory: Bool { direction == .s2mm }

    public init(deviceIndex: Int, direction: DMADirection, address: PhysicalAddress, byteCount: UInt64) {
        self.deviceIndex = deviceIndex
        self.direction = direction
        self.address = address
        self.byteCount = byteCount
    }

    public var description: String {
        "\(direction) \(writesMemory ? "write" : "read") \(byteCount) bytes at \(address)"
    }
}

/// Decides whether a DMA access may happen, and observes the ones that do. The UIO layer subclasses
/// it for guard mode (IOMMU-like: refuse DMA outside a live buffer) and for ownership checks (DMA
/// into a CPU-owned buffer on a non-coherent board). The base class permits everything.
///
/// Called once per transfer, right before the bytes move (at completion, with the range actually
/// moved), never per byte. A refusal ends the transfer with DMADecErr, as a DECERR from an
/// interconnect (or an IOMMU) would. A class rather than a protocol so the engine calls it through a
/// strong `let` with one virtual call and no existential box (DESIGN.md, "The per-completion hot
/// path").
open class DMAAccessPolicy {
    public init() {}

    /// True to let `access` proceed.
    open func admit(_ access: DMAAccess) -> Bool { true }
}
