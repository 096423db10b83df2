import Board
import Devices

/// What the checker needs to know of the board, taken once from its profile: each AXI DMA's channels
/// (their trace names, LENGTH width) and register map, and which channel each UIO node reports.
/// Everything else it learns from the trace.
struct CheckedBoard {
    struct Device {
        let name: String
        let registerMap: AXIDMARegisterMap
        /// The trace name of each channel the core has (`fpga-dma.s2mm`), by direction.
        let channels: [DMADirection: String]
    }

    struct Channel {
        let name: String
        let device: String
        let direction: DMADirection
        let lengthWidthBits: Int
        /// Built with scatter-gather: CURDESC/TAILDESC and descriptors.
        let scatterGather: Bool
        /// The address bits a buffer must have clear: data width - 1 without DRE, 0 with it.
        let alignmentMask: UInt64
        var lengthMask: UInt32 { UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(lengthWidthBits)) - 1) }
    }

    let devices: [String: Device]
    let channels: [String: Channel]
    /// The trace name of the channel whose interrupt each UIO node reports, by node name.
    let nodeChannels: [String: String]
    /// Addresses at or above 2^bits cannot be physical: such a DMA address is a CPU virtual address.
    let physicalAddressBits: Int
    /// RAM and the DMA pool: where a descriptor's pointers can point.
    let memory: [AddressRange]

    init(profile: BoardProfile) {
        var devices: [String: Device] = [:]
        var channels: [String: Channel] = [:]
        for spec in profile.devices {
            guard let parameters = spec.parameters(as: AXIDMAParameters.self) else { continue }
            var names: [DMADirection: String] = [:]
            for direction in DMADirection.allCases where (direction == .mm2s ? parameters.mm2s : parameters.s2mm) != nil {
                let name = "\(spec.name).\(direction)"
                names[direction] = name
                channels[name] = Channel(name: name, device: spec.name, direction: direction, lengthWidthBits: parameters.lengthWidthBits,
                                         scatterGather: parameters.scatterGather,
                                         alignmentMask: parameters.dataRealignment ? 0 : UInt64(parameters.dataWidthBytes - 1))
            }
            // The map the device itself decodes with (AXIDMA.init): the SG registers exist only on an SG core.
            let map = AXIDMARegisterMap(lengthWidthBits: parameters.lengthWidthBits, addressWidthBits: parameters.addressWidthBits,
                                        scatterGather: parameters.scatterGather)
            devices[spec.name] = Device(name: spec.name, registerMap: map, channels: names)
        }
        var nodeChannels: [String: String] = [:]
        for node in profile.uioNodes {
            guard let route = node.interrupt, let direction = DMADirection(rawValue: route.output),
                  let channel = devices[node.device]?.channels[direction] else { continue }
            nodeChannels[node.name] = channel
        }
        self.devices = devices
        self.channels = channels
        self.nodeChannels = nodeChannels
        physicalAddressBits = profile.cpu.physicalAddressBits
        memory = profile.memory.map(\.range) + [profile.dmaPool.range]
    }
}
