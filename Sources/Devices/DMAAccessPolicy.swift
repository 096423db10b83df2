import Board

/// One DMA access to memory, as the engine is about to perform it: a transfer's data, or a
/// scatter-gather descriptor being fetched or updated.
public struct DMAAccess: Hashable, Sendable, CustomStringConvertible {
    /// What the engine moves.
    public enum Kind: String, Hashable, Sendable {
        /// A transfer's (or a descriptor's buffer's) data.
        case data
        /// Scatter-gather: the engine reads a descriptor.
        case descriptorFetch = "descriptor fetch"
        /// Scatter-gather: the engine writes a descriptor's STATUS back.
        case descriptorUpdate = "descriptor update"
    }

    /// The device's index in its `DeviceSet` (profile order).
    public var deviceIndex: Int
    public var direction: DMADirection
    public var address: PhysicalAddress
    public var byteCount: UInt64
    public var kind: Kind
    /// Data: S2MM writes memory, MM2S reads it. Descriptors: fetches read, updates write.
    public var writesMemory: Bool {
        switch kind {
        case .data: direction == .s2mm
        case .descriptorFetch: false
        case .descriptorUpdate: true
        }
    }

    public init(deviceIndex: Int, direction: DMADirection, address: PhysicalAddress, byteCount: UInt64, kind: Kind = .data) {
        self.deviceIndex = deviceIndex
        self.direction = direction
        self.address = address
        self.byteCount = byteCount
        self.kind = kind
    }

    public var description: String {
        let what = kind == .data ? "" : " (\(kind.rawValue))"
        return "\(direction) \(writesMemory ? "write" : "read") \(byteCount) bytes at \(address)\(what)"
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
