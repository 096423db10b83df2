import Devices

/// The DMA engine's access policy backed by the buffer heap: guard mode and ownership checks for
/// every transfer (`DMABufferHeap.admit`). Give it to `DeviceSet(accessPolicy:)`.
public final class DMABufferGuard: DMAAccessPolicy {
    public let heap: DMABufferHeap

    public init(heap: DMABufferHeap) {
        self.heap = heap
    }

    override public func admit(_ access: DMAAccess) -> Bool { heap.admit(access) }
}
