/// How an interrupt input is sensed, numbered like Linux's `IRQ_TYPE_*` (include/dt-bindings/
/// interrupt-controller/irq.h): 1 rising edge, 2 falling edge, 4 level high, 8 level low.
public enum InterruptSense: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case risingEdge = 1
    case fallingEdge = 2
    case levelHigh = 4
    case levelLow = 8

    @inline(__always) public var isEdge: Bool { self == .risingEdge || self == .fallingEdge }

    /// The input level at which the line is inactive (levels) or from which the edge starts (edges).
    public var idleLevel: Bool { self == .fallingEdge || self == .levelLow }

    /// The profile spelling: `rising-edge`, `falling-edge`, `level-high`, `level-low`.
    public var name: String {
        switch self {
        case .risingEdge: "rising-edge"
        case .fallingEdge: "falling-edge"
        case .levelHigh: "level-high"
        case .levelLow: "level-low"
        }
    }

    public init?(name: String) {
        guard let sense = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = sense
    }

    public var description: String { name }
}

/// The interrupt controllers a profile can name. Each has its own device-tree encoding of the sense
/// cell, translated to `InterruptSense` on load.
public enum InterruptControllerKind: String, Sendable, Codable, CaseIterable {
    /// Freescale/NXP MPIC (OpenPIC) as on the P2020. Encoding from the Linux binding
    /// Documentation/devicetree/bindings/powerpc/fsl/mpic.txt (2nd interrupt cell):
    /// 0 rising edge, 1 level low, 2 level high, 3 falling edge.
    case mpic
    /// Xilinx XPS interrupt controller (`xlnx,xps-intc-1.00.a`) as on the ML507.
    ///
    /// What we found: the Linux binding (interrupt-controller/xlnx,intc.yaml, formerly xilinx.txt)
    /// fixes `#interrupt-cells = <2>` and says the second cell "is not used": the driver takes the
    /// sense from `xlnx,kind-of-intr` (1 edge, 0 level). The cell *is* filled in by Xilinx's EDK
    /// device-tree generator (gen_mhs_devtree.tcl, `get_intr_type`, "follow the openpic
    /// specification"): 0 rising edge, 1 level low, 2 level high, 3 falling edge. That is what the
    /// kernel's own arch/powerpc/boot/dts/virtex440-ml507.dts contains (`interrupts = <9 2>`, level
    /// high), so that is the encoding used here. It is not Linux's IRQ_TYPE numbering.
    case xpsIntc = "xps-intc"

    /// The device-tree sense cell values this controller accepts, and their meaning.
    public var deviceTreeSenses: [(cell: Int, sense: InterruptSense)] {
        switch self {
        case .mpic, .xpsIntc:
            [(0, .risingEdge), (1, .levelLow), (2, .levelHigh), (3, .fallingEdge)]
        }
    }

    /// Translates a device-tree sense cell; nil for a value the encoding does not define.
    public func sense(deviceTreeCell cell: Int) -> InterruptSense? {
        deviceTreeSenses.first { $0.cell == cell }?.sense
    }

    /// The device-tree sense cell for `sense` in this controller's encoding.
    public func deviceTreeCell(for sense: InterruptSense) -> Int {
        deviceTreeSenses.first { $0.sense == sense }!.cell
    }
}
