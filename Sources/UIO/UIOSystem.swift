import Board
import Reactor

/// Everything UIO on one board: a `UIODevice` per profile UIO node (`/dev/uio0`, `/dev/uio1`, ... in
/// profile order) and the DMA buffer heap over the board's reserved pool.
public final class UIOSystem {
    public let board: Board
    public let devices: [UIODevice]
    public let heap: DMABufferHeap
    /// The policy to hand to `DeviceSet(accessPolicy:)` so every DMA transfer is checked by the heap.
    public let dmaGuard: DMABufferGuard

    /// `guardEnabled`: nil takes the profile's `dma-pool.guard` (on by default).
    /// `stormThreshold`: interrupts in a row with no register write to the device before the line is
    /// held disabled as a storm.
    /// `cacheCopy`: see `DMABufferHeap` (false for an attached driver process).
    /// `seed`: the run's seed; each node draws its interrupt delivery latencies (the profile's
    /// `interrupt-delivery`) from its own split of it. Irrelevant when delivery is immediate.
    public init(
        board: Board, reactor: Reactor, guardEnabled: Bool? = nil, stormThreshold: Int = 1_000, cacheCopy: Bool = true,
        seed: UInt64 = 0
    ) {
        self.board = board
        var activity: [String: RegisterActivity] = [:]
        var random = SplitMix64(seed: seed)
        devices = board.profile.uioNodes.enumerated().map { index, spec in
            let shared = activity[spec.device] ?? RegisterActivity()
            activity[spec.device] = shared
            return UIODevice(index: index, spec: spec, board: board, reactor: reactor, activity: shared,
                             stormThreshold: stormThreshold, random: random.split())
        }
        heap = DMABufferHeap(board: board, reactor: reactor, guardEnabled: guardEnabled ?? board.profile.dmaPool.guardEnabled,
                             cacheCopy: cacheCopy)
        dmaGuard = DMABufferGuard(heap: heap)
    }

    public func device(named name: String) -> UIODevice? { devices.first { $0.name == name } }
}
