import Board
import Reactor

/// A device kind the Devices layer models: besides reading its profile keys (`DeviceKind`, what the
/// board's loader asks) it builds the model of one device. Each kind lives in its device's folder
/// (`AXIDMA/AXIDMAKind.swift`), so adding a kind touches that folder and `DeviceKinds`.
public protocol DeviceModelKind: DeviceKind {
    /// The model of `spec`, a device of this kind (its parameters are this kind's), the `index`-th
    /// device of `board`'s profile, drawing its random choices from `random` and checking its DMA
    /// against `accessPolicy`. `DeviceSet` attaches it to the device's bus window; `board` and
    /// `reactor` must outlive it.
    func makeModel(
        spec: DeviceSpec, index: Int, board: Board, reactor: Reactor, random: inout SplitMix64, accessPolicy: DMAAccessPolicy
    ) -> RegisterWindow
}
