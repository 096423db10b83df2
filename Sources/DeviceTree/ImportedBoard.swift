/// What `BoardImporter` read from a device tree: a board profile's content, each entry with the
/// node it came from and a short note on where a value came from when that is not plain. `ProfileText`
/// writes it as `boards/NAME.yaml`.
public struct ImportedBoard: Sendable {
    /// A value and, when worth saying, where it came from (written as a trailing comment).
    public struct Sourced<Value: Sendable>: Sendable {
        public var value: Value
        public var source: String?

        public init(_ value: Value, _ source: String? = nil) {
            self.value = value
            self.source = source
        }
    }

    public struct CPU: Sendable {
        public var core: Sourced<String>
        public var cores: Int
        public var clockHz: Sourced<UInt64>
        public var physicalAddressBits: Sourced<Int>
        public var path: String
    }

    public struct Region: Sendable {
        public var name: String
        public var window: PhysicalWindow
        public var path: String
        public var note: String?
    }

    public struct Pool: Sendable {
        public var name: String
        public var window: PhysicalWindow
        public var coherent: Sourced<Bool>
        /// The node and what it says (`no-map`, `reusable`).
        public var path: String
        public var flags: [String]
    }

    public struct Controller: Sendable {
        /// `mpic` or `xps-intc` (the profile's `InterruptControllerKind`).
        public var kind: String
        public var lines: Sourced<Int>
        public var path: String
        public var compatible: String
        /// Where it is cascaded into, if it is not the root controller.
        public var cascade: String?
    }

    public struct Channel: Sendable {
        /// `mm2s` or `s2mm`.
        public var output: String
        public var line: Int
        /// The sense cell as the device tree has it, in the controller's encoding.
        public var senseCell: Int
        public var senseName: String
        public var stream: String?
        /// The specifier as written (`<1 2 0 0>`) and the node it came from.
        public var specifier: String
    }

    /// An AXI DMA core (`kind: axi-dma`).
    public struct AXIDMA: Sendable {
        public var name: String
        public var window: PhysicalWindow
        public var path: String
        public var compatible: String
        public var clockHz: Sourced<UInt64>
        public var dataWidthBytes: Sourced<Int>
        public var fifoDepthBytes: Sourced<UInt64>
        public var lengthWidthBits: Sourced<Int>
        public var setupCycles: Sourced<UInt64>?
        /// `uioemu,access-time-ns`: what one CPU register access costs (the profile's `access-time`).
        public var accessTimeNanoseconds: Sourced<UInt64>?
        /// `xlnx,include-sg` (PG021 C_INCLUDE_SG); written only when true.
        public var scatterGather: Bool
        /// `xlnx,addrwidth` (PG021 C_M_AXI_*_ADDR_WIDTH); written only when not 32.
        public var addressWidthBits: Int
        /// `xlnx,include-dre` (PG021 C_INCLUDE_*_DRE); written only when true.
        public var dre: Bool
        /// `xlnx,irq-delay` per channel as Linux reads it (one byte); no profile key yet, so a comment.
        public var irqDelay: [String: UInt8]
        public var channels: [Channel]
    }

    public struct UIONode: Sendable {
        public struct Map: Sendable {
            public var name: String
            public var region: String
            public var offset: UInt64
            /// Nil when the map runs to the end of the region.
            public var size: UInt64?
        }

        public var name: String
        public var path: String
        public var device: String
        public var interrupt: String?
        public var maps: [Map]
    }

    /// A u-dma-buf device (`ikwzm,u-dma-buf`).
    public struct UDMABuffer: Sendable {
        public var name: String
        public var path: String
        public var size: UInt64
        /// u-dma-buf's `sync-mode`: 1 (default) uncached on O_SYNC, 2 write-combine, 3 DMA-coherent.
        public var syncMode: Int
        public var dmaCoherent: Bool
    }

    /// A node that is in no profile section, with why.
    public struct Skipped: Sendable {
        public var path: String
        public var compatible: String?
        public var reason: String
    }

    public var name: String
    public var description: Sourced<String>
    /// The input file as given, for the header.
    public var source: String
    /// Comment lines for the top of the profile (the DTS's leading comment), without `#`.
    public var header: [String]
    public var cpu: CPU
    public var memory: [Region]
    public var pool: Pool
    public var reserved: [Region]
    public var controller: Controller
    public var devices: [AXIDMA]
    public var uio: [UIONode]
    public var udmaBuffers: [UDMABuffer]
    public var skipped: [Skipped]
    public var warnings: [DeviceTreeWarning]

    /// `imported 1 device (fpga-dma), 2 UIO nodes, ...; skipped 9 nodes: /aliases, ...`.
    public var summary: String {
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        var parts = [count(devices.count, "device", "devices") + (devices.isEmpty ? "" : " (\(devices.map(\.name).joined(separator: ", ")))")]
        parts.append(count(uio.count, "UIO node", "UIO nodes"))
        if !udmaBuffers.isEmpty { parts.append(count(udmaBuffers.count, "u-dma-buf", "u-dma-bufs")) }
        parts.append(count(reserved.count, "reserved window", "reserved windows"))
        let shown = skipped.prefix(8).map(\.path).joined(separator: ", ") + (skipped.count > 8 ? ", …" : "")
        let skippedText = count(skipped.count, "node", "nodes") + (skipped.isEmpty ? "" : ": \(shown)")
        return "imported \(parts.joined(separator: ", ")); skipped \(skippedText)"
    }
}
