import Board
import Reactor

/// Every modelled device of a board, built from its profile and attached to the bus: what the UIO
/// and scenario layers ask for by name ("the axi-dma named X", `DeviceSet.axiDMA(named:)`).
///
/// Ownership: the set keeps the board alive; the bus owns the models (through their register
/// windows) and the reactor owns their timers, so the models reach the bus and the reactor through
/// unretained references. Keep the reactor alive for as long as the set.
public final class DeviceSet {
    /// One device of the profile and its model.
    public struct Member {
        public let spec: DeviceSpec
        public let model: RegisterWindow
    }

    public let board: Board
    /// The modelled devices in profile order.
    public let models: [Member]

    /// Builds a model for every device whose kind `kinds` models (`DeviceModelKind`); windows of
    /// other kinds stay unattached (accesses fault as unmodelled). Each device draws its random
    /// choices from its own split of `seed`, so adding a device does not change another's.
    public init(
        board: Board, reactor: Reactor, seed: UInt64, accessPolicy: DMAAccessPolicy = DMAAccessPolicy(),
        kinds: DeviceKindRegistry = DeviceKinds.standard
    ) {
        self.board = board
        var random = SplitMix64(seed: seed)
        var members: [Member] = []
        for (index, spec) in board.profile.devices.enumerated() {
            var deviceRandom = random.split()
            guard let kind = kinds[spec.kind] as? any DeviceModelKind else { continue }
            let model = kind.makeModel(
                spec: spec, index: index, board: board, reactor: reactor, random: &deviceRandom, accessPolicy: accessPolicy)
            board.bus.attach(model, toWindow: spec.name)
            members.append(Member(spec: spec, model: model))
        }
        models = members
    }
}
