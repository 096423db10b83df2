import Board
import Devices
import Driver
import Reactor
import Trace
import UIO

/// What every workload brings up first, in this order: the reactor, the board from its profile, the
/// UIO system (the kernel side: nodes, DMA heap and guard) and the device models wired to the bus
/// and the interrupt controller. Shared by the receive and transmit workloads and the fleet.
public struct EmulatedBoard {
    public let reactor: Reactor
    public let board: Board
    public let uio: UIOSystem
    public let devices: DeviceSet

    public init(profile: BoardProfile, clock: Reactor.Clock, seed: UInt64) {
        reactor = Reactor(clock: clock)
        board = Board(profile: profile)
        // The UIO nodes' latency draws get a sub-seed of their own (the devices keep the seed itself).
        var seeds = SplitMix64(seed: seed)
        uio = UIOSystem(board: board, reactor: reactor, seed: seeds.next())
        devices = DeviceSet(board: board, reactor: reactor, seed: seed, accessPolicy: uio.dmaGuard)
    }

    /// The end of the run, once its figures are read or no longer needed: the UIO side and the
    /// reactor let go of the board and of everything they drive, so all of it is freed with the
    /// workload (it otherwise lived on in reference cycles: LeakSanitizer, issue 16). The
    /// reactor must not run again.
    public func shutdown() {
        uio.shutdown()
        reactor.shutdown()
    }

    /// A UIO node's register map as its driver sees it after mmap, and the AXI DMA channel behind it.
    public struct MappedChannel {
        public let node: EmulatedUIODevice
        public let mapping: EmulatedRegisterMapping
        public let channel: DMAChannel
    }

    /// The UIO node named `name` (nil: the board's first node whose interrupt is an AXI DMA's
    /// `direction` channel), its map 0 mapped, and that channel; or why not.
    func mappedChannel(node name: String?, _ direction: DMADirection) throws(WorkloadError) -> MappedChannel {
        guard let name else {
            for node in uio.devices {  // bounded: the board's nodes
                if let mapped = mappedChannel(node, direction), node.interruptLine == mapped.channel.route.line { return mapped }
            }
            throw WorkloadError("board \(board.profile.name) has no UIO node on an AXI DMA's \(direction.rawValue.uppercased()) interrupt "
                                + "(UIO nodes: \(uio.devices.map(\.name).joined(separator: ", ")))", isInputError: true)
        }
        guard let node = uio.device(named: name) else {
            throw WorkloadError("board \(board.profile.name) has no UIO node named \(name) (UIO nodes: \(uio.devices.map(\.name).joined(separator: ", ")))",
                                isInputError: true)
        }
        guard let mapped = mappedChannel(node, direction) else {
            throw WorkloadError("UIO node \(node.name) does not map an AXI DMA with an \(direction.rawValue.uppercased()) channel")
        }
        return mapped
    }

    /// `node` mapped, with its AXI DMA's `direction` channel, or nil when its map 0 is not an AXI
    /// DMA with that channel or cannot be mapped.
    func mappedChannel(_ node: EmulatedUIODevice, _ direction: DMADirection) -> MappedChannel? {
        guard let map = node.maps.first, let channel = devices.axiDMA(named: map.region)?.channel(direction),
              case let .success(mapping) = node.mmap(offset: 0, length: map.mappableBytes)
        else { return nil }
        return MappedChannel(node: node, mapping: mapping, channel: channel)
    }

    /// A direct-register-mode driver needs a core built without scatter-gather: on one built with it
    /// SA/DA and LENGTH do not exist (PG021), and the driver would wait for ever.
    static func requireDirectMode(_ mapped: MappedChannel) throws(WorkloadError) {
        guard mapped.channel.scatterGather else { return }
        throw WorkloadError("UIO node \(mapped.node.name)'s AXI DMA is built with scatter-gather (scatter-gather: true): the direct-register-mode "
                            + "driver cannot drive it (no SA/DA or LENGTH); write mode: sg-receive, or use a profile without scatter-gather",
                            isInputError: true)
    }

    /// `configuration` with the register poll interval of a driver on `mapped` set to one access of
    /// its device on this board's bus (the profile's `access-time`): how long each read of a core
    /// that has not caught up yet takes (`CoreWait`).
    func driverConfiguration(_ configuration: DriverConfiguration, for mapped: MappedChannel) -> DriverConfiguration {
        var adjusted = configuration
        if let device = board.profile.device(named: mapped.node.maps[0].region) {
            adjusted.registerPollInterval = .nanoseconds(Int64(device.accessTimeNanoseconds))
        }
        return adjusted
    }

    /// Records the board's side of a workload into `tracer`: the interrupt controller, every AXI
    /// DMA (and so every channel), the driver's UIO file, the DMA heap and its buffers.
    func attach(_ tracer: Tracer, file: UIOFile) {
        board.attach(tracer)
        for dma in devices.axiDMAs { dma.tracer = tracer }
        file.tracer = tracer
        for node in uio.devices { node.tracer = tracer }
        uio.heap.tracer = tracer
    }
}
