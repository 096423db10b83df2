import Board
import Reactor

/// Every modelled device of a board, built from its profile and attached to the bus: what the UIO
/// and scenario layers ask for by name ("the axi-dma named X").
///
/// Ownership: the set keeps the board alive; the bus owns the models (through their register
/// windows) and the reactor owns their timers, so the models reach the bus and the reactor through
/// unretained references. Keep the reactor alive for as long as the set.
public final class DeviceSet {
    public let board: Board
    /// AXI DMA cores in profile order.
    public let axiDMAs: [AXIDMA]

    /// Builds a model for every device of a kind the Devices layer knows (`axi-dma`); windows of
    /// other kinds stay unattached (accesses fault as unmodelled). Each device draws its random
    /// choices from its own split of `seed`, so adding a device does not change another's.
    public init(board: Board, reactor: Reactor, seed: UInt64, accessPolicy: DMAAccessPolicy = DMAAccessPolicy()) {
        self.board = board
        var random = SplitMix64(seed: seed)
        var dmas: [AXIDMA] = []
        for (index, spec) in board.profile.devices.enumerated() {
            var deviceRandom = random.split()
            switch spec.kind {
            case AXIDMAKind().name:
                let dma = AXIDMA(spec: spec, index: index, board: board, reactor: reactor, random: &deviceRandom, accessPolicy: accessPolicy)
                board.bus.attach(dma, toWindow: spec.name)
                dmas.append(dma)
            default:
                continue
            }
        }
        axiDMAs = dmas
    }

    /// The AXI DMA core named `name` in the profile.
    public func axiDMA(named name: String) -> AXIDMA? { axiDMAs.first { $0.name == name } }
}
