import Board
import Reactor

/// Everything UIO on one board: a `EmulatedUIODevice` per profile UIO node (`/dev/uio0`, `/dev/uio1`, ... in
/// profile order) and the DMA buffer heap over the board's reserved pool.
public final class UIOSystem {
    public let board: Board
    public let devices: [EmulatedUIODevice]
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
            return EmulatedUIODevice(index: index, spec: spec, board: board, reactor: reactor, activity: shared,
                                     stormThreshold: stormThreshold, random: random.split())
        }
        heap = DMABufferHeap(board: board, reactor: reactor, guardEnabled: guardEnabled ?? board.profile.dmaPool.guardEnabled,
                             cacheCopy: cacheCopy)
        dmaGuard = DMABufferGuard(heap: heap)
    }

    public func device(named name: String) -> EmulatedUIODevice? { devices.first { $0.name == name } }

    /// The end of the run: every node leaves the interrupt controller and forgets its open files,
    /// which breaks the reference cycles between the board and the UIO side (with
    /// `Reactor.shutdown()`, nothing of a finished run stays alive). Counts and findings stay
    /// readable; interrupts are no longer delivered.
    public func shutdown() {
        for device in devices { device.detach() }
    }
}

extension UIOSystem {
    /// `profile`'s board as a driver leaves it after allocating its ring: `count` buffers of
    /// `byteCount` bytes carved from the DMA pool, in virtual time. What `uioemu sysfs export` shows
    /// (`SysfsTree.files(for:)`), and the tree the Linux backend's tests read.
    public static func withBuffers(profile: BoardProfile, count: Int, byteCount: UInt64) -> Result<UIOSystem, BufferAllocationFailure> {
        let system = UIOSystem(board: Board(profile: profile), reactor: Reactor(clock: .virtual))
        for index in 0..<count {
            if case let .failure(error) = system.heap.allocate(size: byteCount) {
                return .failure(BufferAllocationFailure(index: index, error: error))
            }
        }
        return .success(system)
    }
}

/// Buffer number `index` (from 0) could not be allocated.
public struct BufferAllocationFailure: Error, CustomStringConvertible {
    public let index: Int
    public let error: DMABufferError
    public var description: String { "buffer \(index): \(error)" }
}
