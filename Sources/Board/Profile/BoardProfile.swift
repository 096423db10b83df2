/// A board as described by a profile (`boards/NAME.yaml`), checked and resolved: every address is
/// absolute, every interrupt sense is in Linux numbering, every reference points at something.
/// `BoardProfile.load(path:registry:)` produces it; `Board(profile:)` builds the running model from it.
/// The format is documented in boards/README.md.
public struct BoardProfile: Sendable {
    public var name: String
    public var description: String
    /// The file it was read from, as given.
    public var file: String
    public var cpu: CPU
    public var memory: [MemoryRegion]
    public var dmaPool: DMAPool
    public var reserved: [ReservedRegion]
    public var interruptController: InterruptControllerSpec
    public var devices: [DeviceSpec]
    public var uioNodes: [UIONodeSpec]
    /// u-dma-buf devices (`/dev/udmabufN`) the board's device tree declares; empty when the profile
    /// has no `u-dma-buf` list.
    public var udmaBuffers: [UDMABufferSpec] = []
    /// How long an interrupt takes from its line rising to the process waiting on the UIO file
    /// running (the profile's `interrupt-delivery`); immediate when the profile does not say.
    public var interruptDelivery = InterruptDelivery.immediate

    public struct CPU: Sendable, Codable {
        /// `e500v2`, `ppc440`, ...
        public var core: String
        public var cores: Int
        public var clockHz: UInt64
        public var endianness: Endianness
        public var physicalAddressBits: Int
    }

    public struct MemoryRegion: Sendable {
        public var name: String
        public var range: AddressRange
    }

    /// The reserved DMA pool, carved from one RAM region and given one contiguous block of address
    /// space at start (`RAM.back`; the host fills its pages on first touch); the UIO layer's buffer
    /// heap allocates from it.
    public struct DMAPool: Sendable {
        /// The largest pool uioemu backs: its block must fit the host's address space (128 TiB of
        /// user space on x86-64 Linux) in uioemu and again in an attached program. Real pools are
        /// a CMA or `reserved-memory` carve-out of a few MiB to a few GiB.
        public static let maximumBytes: UInt64 = 1 << 40

        public var name: String
        public var range: AddressRange
        /// Whether device DMA snoops the CPU caches (e500 on the P2020: yes; PPC440: no).
        public var coherent: Bool
        /// IOMMU-like guard mode: DMA outside a live buffer is refused (DMADecErr). Default on.
        public var guardEnabled: Bool = true
        /// The memory region holding it.
        public var memoryRegion: String
    }

    /// A window of the real board that is not modelled (CCSR, flash, other IP): it appears in the
    /// map and takes part in the overlap check, and accesses to it fault as `unmodelled`.
    public struct ReservedRegion: Sendable {
        public var name: String
        public var range: AddressRange
        public var note: String?
    }

    public struct InterruptControllerSpec: Sendable {
        public var kind: InterruptControllerKind
        public var lineCount: Int
    }

    /// Every interrupt route of every device, in device order.
    public var interruptRoutes: [(device: DeviceSpec, route: InterruptRoute)] {
        devices.flatMap { device in device.interrupts.map { (device, $0) } }
    }

    public func device(named name: String) -> DeviceSpec? { devices.first { $0.name == name } }
}

/// Interrupt-to-userspace latency as a distribution, given by its quantiles: the kernel's handler,
/// the wake-up and the scheduling of the process blocked on `/dev/uioN`. The UIO layer draws one
/// value per interrupt (piecewise linear between the quantiles) from the board's seed.
public struct InterruptDelivery: Hashable, Sendable, Codable {
    public var minimumNanoseconds: Int64
    /// The median.
    public var p50Nanoseconds: Int64
    public var p99Nanoseconds: Int64
    /// The slowest delivery; the profile's `max`, by default p99 + (p99 - p50).
    public var maximumNanoseconds: Int64

    public init(minimumNanoseconds: Int64, p50Nanoseconds: Int64, p99Nanoseconds: Int64, maximumNanoseconds: Int64? = nil) {
        precondition(0 <= minimumNanoseconds && minimumNanoseconds <= p50Nanoseconds && p50Nanoseconds <= p99Nanoseconds)
        self.minimumNanoseconds = minimumNanoseconds
        self.p50Nanoseconds = p50Nanoseconds
        self.p99Nanoseconds = p99Nanoseconds
        self.maximumNanoseconds = maximumNanoseconds ?? p99Nanoseconds + (p99Nanoseconds - p50Nanoseconds)
        precondition(p99Nanoseconds <= self.maximumNanoseconds)
    }

    /// Every interrupt is delivered the instant its line rises.
    public static let immediate = InterruptDelivery(minimumNanoseconds: 0, p50Nanoseconds: 0, p99Nanoseconds: 0)

    public var isImmediate: Bool { maximumNanoseconds == 0 }

    /// The latency at `quantile` parts per million (0 ..< 1_000_000): linear between (0, min),
    /// (500_000, p50), (990_000, p99) and (1_000_000, max). Integer arithmetic only, so a seed
    /// gives the same draws on every platform.
    public func latencyNanoseconds(atPartsPerMillion quantile: UInt64) -> Int64 {
        func between(_ q: UInt64, _ q0: UInt64, _ v0: Int64, _ q1: UInt64, _ v1: Int64) -> Int64 {
            v0 + Int64((UInt64(v1 - v0) * (q - q0)) / (q1 - q0))
        }
        let q = min(quantile, 999_999)
        if q < 500_000 { return between(q, 0, minimumNanoseconds, 500_000, p50Nanoseconds) }
        if q < 990_000 { return between(q, 500_000, p50Nanoseconds, 990_000, p99Nanoseconds) }
        return between(q, 990_000, p99Nanoseconds, 1_000_000, maximumNanoseconds)
    }
}

/// A device in the profile: the common part every kind has, plus its kind's parsed parameters.
public struct DeviceSpec: Sendable {
    public var name: String
    /// The registry name of its kind, such as `axi-dma`.
    public var kind: String
    /// Its register window.
    public var range: AddressRange
    public var busEndianness: Endianness
    /// One per interrupt output the device drives.
    public var interrupts: [InterruptRoute]
    /// What one register access from the CPU to this device costs: the bus's access time (an
    /// attached program's loads and stores pay it in board time). Default 100 ns.
    public var accessTimeNanoseconds: UInt64 = DeviceSpec.defaultAccessTimeNanoseconds
    public static let defaultAccessTimeNanoseconds: UInt64 = 100
    /// Kind-specific parameters; read them with `parameters(as:)`.
    public var parameters: any DeviceParameters

    public func parameters<P: DeviceParameters>(as type: P.Type) -> P? { parameters as? P }

    public func interrupt(named output: String) -> InterruptRoute? { interrupts.first { $0.output == output } }
}

/// A device output wired to a controller input.
public struct InterruptRoute: Hashable, Sendable, Codable {
    /// The device's name for the output (`mm2s`, `s2mm`).
    public var output: String
    public var line: Int
    public var sense: InterruptSense

    public init(output: String, line: Int, sense: InterruptSense) {
        self.output = output
        self.line = line
        self.sense = sense
    }
}

/// A u-dma-buf device as its device-tree node declares it (ikwzm/udmabuf: `device-name`, `size`,
/// `sync-mode`, `dma-coherent`); its buffer comes from the DMA pool.
public struct UDMABufferSpec: Sendable, Hashable {
    public var name: String
    public var sizeBytes: UInt64
    /// 1 uncached on O_SYNC (u-dma-buf's default), 2 write-combine, 3 DMA-coherent.
    public var syncMode: Int
    public var dmaCoherent: Bool

    public init(name: String, sizeBytes: UInt64, syncMode: Int, dmaCoherent: Bool) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.syncMode = syncMode
        self.dmaCoherent = dmaCoherent
    }
}

/// A UIO device (`/dev/uioN` via uio_pdrv_genirq) exposing a device to userspace.
public struct UIONodeSpec: Sendable {
    /// Linux allows at most this many maps per UIO device (MAX_UIO_MAPS in include/linux/uio_driver.h).
    public static let maximumMaps = 5

    public var name: String
    public var device: String
    /// The device output whose line this node reports; nil for a UIO device without an interrupt
    /// (its read, write and poll fail with EIO).
    public var interrupt: InterruptRoute?
    public var maps: [Map]

    public struct Map: Sendable {
        public var name: String
        /// The region, device window or pool it maps from.
        public var region: String
        public var range: AddressRange
    }
}
