import Board
import Reactor

/// Every modelled device of a board, built from its profile and attached to the bus: what the UIO
/// and scenario layers ask for by name ("the axi-dma named X", `DeviceSet.axiDMA(named:)`).
///
/// Ownership: the set keeps the board alive; the bus owns the models (through their register
/// windows) and the reactor owns their timers, so the models reach the bus and the reactor through
/// unretained references. Keep the reactor alive for as long as the set.
public final class DeviceSet {
    public let board: Board
    /// The models of the modelled devices, in profile order.
    public let models: [RegisterWindow]

    /// Builds a model for every device whose kind `kinds` models (`DeviceModelKind`); windows of
    /// other kinds stay unattached (accesses fault as unmodelled). Each device draws its random
    /// choices from its own split of `seed`, so adding a device does not change another's.
    public init(
        board: Board, reactor: Reactor, seed: UInt64, accessPolicy: DMAAccessPolicy = DMAAccessPolicy(),
        kinds: DeviceKindRegistry = DeviceKinds.standard
    ) {
        self.board = board
        var random = SplitMix64(seed: seed)
        var built: [RegisterWindow] = []
        for (index, spec) in board.profile.devices.enumerated() {
            var deviceRandom = random.split()
            guard let kind = kinds[spec.kind] as? any DeviceModelKind else { continue }
            let model = kind.makeModel(
                spec: spec, index: index, board: board, reactor: reactor, random: &deviceRandom, accessPolicy: accessPolicy)
            board.bus.attach(model, toWindow: spec.name)
            built.append(model)
        }
        models = built
    }
}
