/// A kind of device a profile can name (`kind: axi-dma`). A kind declares its own keys and parses
/// them into a typed parameter struct; the loader handles the keys every device has (`name`,
/// `kind`, `base`, `size`, `bus-endianness`) and knows nothing else about the kind. The kinds
/// themselves live with their models in the Devices layer (`DeviceKinds.standard`); the board only
/// asks the registry it is given.
public protocol DeviceKind: Sendable {
    /// The profile spelling, such as `axi-dma`.
    var name: String { get }
    /// Keys beyond the common ones.
    var keys: [String] { get }
    /// Reads the kind's keys from a device mapping. Reports problems into `diagnostics` and returns
    /// nil if the device cannot be used.
    func parse(_ mapping: YAMLMapping, context: DeviceParseContext, _ diagnostics: inout Diagnostics) -> ParsedDevice?
}

/// What the common part of the loader knows when a kind parses its keys.
public struct DeviceParseContext {
    public let deviceName: String
    /// Nil when the profile's controller section itself was broken.
    public let controller: InterruptControllerKind?

    /// Reads an interrupt sense: a name (`level-high`) or the controller's device-tree cell value.
    public func sense(_ value: YAMLValue, _ diagnostics: inout Diagnostics) -> InterruptSense? {
        let names = InterruptSense.allCases.map(\.name)
        if let text = value.scalarText, let name = InterruptSense(name: text) { return name }
        if let controller, let text = value.scalarText, let cell = YAMLValue.parseInteger(text) {
            if let sense = controller.sense(deviceTreeCell: Int(clamping: cell)) { return sense }
            let cells = controller.deviceTreeSenses.map { "\($0.cell) (\($0.sense))" }.joined(separator: ", ")
            diagnostics.error("unknown sense \(cell) for \(controller.rawValue): expected one of \(cells), or a name", at: value.location)
            return nil
        }
        let expected = "an interrupt sense: " + names.map { "'\($0)'" }.joined(separator: ", ") + " or a device-tree cell value"
        return value.mismatch(expected, &diagnostics, suggestion: value.scalarText.flatMap { Suggestion.closest(to: $0, among: names) })
    }
}

/// A kind's parse result: its typed parameters and the interrupt outputs it drives.
public struct ParsedDevice: Sendable {
    public var parameters: any DeviceParameters
    /// Each route with the location of its line number, for range checks and messages.
    public var interrupts: [(route: InterruptRoute, location: SourceLocation)]

    public init(parameters: any DeviceParameters, interrupts: [(route: InterruptRoute, location: SourceLocation)]) {
        self.parameters = parameters
        self.interrupts = interrupts
    }
}

/// Kind-specific parameters (for `axi-dma`: `AXIDMAParameters`). Encodable so `board show --json`
/// can print them.
public protocol DeviceParameters: Sendable, Encodable {
    /// One line for the memory map in `board show`, such as `100 MHz, 8-byte data, 23-bit length`.
    var summary: String { get }
}

/// The kinds a loader accepts, by name. The board has no list of its own: whoever loads a profile
/// passes one (uioemu's is `DeviceKinds.standard`, in Devices).
public struct DeviceKindRegistry: Sendable {
    public private(set) var kinds: [String: any DeviceKind] = [:]

    public init(_ kinds: [any DeviceKind] = []) {
        for kind in kinds { register(kind) }
    }

    public mutating func register(_ kind: any DeviceKind) { kinds[kind.name] = kind }

    public subscript(name: String) -> (any DeviceKind)? { kinds[name] }

    public var names: [String] { kinds.keys.sorted() }
}
