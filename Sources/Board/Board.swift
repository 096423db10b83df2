import Trace

/// A running board built from a profile: the bus with its RAM regions (lazily backed), the DMA pool
/// (eagerly backed), reserved windows and one empty register window per device, and the interrupt
/// controller with every device line's sense configured.
///
/// The Devices layer creates a model per `DeviceSpec` and attaches it with
/// `bus.attach(_:toWindow:)`; the UIO layer subscribes to `interrupts` and carves buffers from
/// `dmaPool`.
public final class Board {
    public let profile: BoardProfile
    public let bus: Bus
    public let interrupts: InterruptController
    /// RAM regions by profile name.
    public let ram: [String: RAM]
    /// The pool's span; its pages are resident from the start.
    public let dmaPool: AddressRange

    /// `sharedDMAPool`: a memfd (size 0) to back the DMA pool with, so an attached driver process can
    /// map the same pages (`RAM.back(_:sharedMemory:)`); nil backs it with private memory.
    public init(profile: BoardProfile, sharedDMAPool: Int32? = nil) {
        self.profile = profile
        bus = Bus(physicalAddressBits: profile.cpu.physicalAddressBits)
        var ram: [String: RAM] = [:]
        for region in profile.memory {
            let memory = RAM(name: region.name, range: region.range)
            ram[region.name] = memory
            bus.map(region.range, to: .ram(memory))
        }
        for region in profile.reserved {
            bus.map(region.range, to: .reserved(name: region.name))
        }
        for device in profile.devices {
            bus.map(device.range, to: .device(DeviceWindow(name: device.name, range: device.range, endianness: device.busEndianness)))
        }
        ram[profile.dmaPool.memoryRegion]!.back(profile.dmaPool.range, sharedMemory: sharedDMAPool)
        self.ram = ram
        dmaPool = profile.dmaPool.range

        interrupts = InterruptController(kind: profile.interruptController.kind, lineCount: profile.interruptController.lineCount)
        for (_, route) in profile.interruptRoutes {
            interrupts.configure(line: route.line, sense: route.sense)
        }
    }

    /// Records the board's own events into `tracer` (nil: stops): the interrupt lines' levels and
    /// register accesses in the wrong byte order.
    public func attach(_ tracer: Tracer?) {
        interrupts.tracer = tracer
        bus.tracer = tracer
    }
}
