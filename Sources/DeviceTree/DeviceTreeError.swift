import Board

/// Where in a device tree something is: the input file, and when known a node, one of its
/// properties, and a line and column of the source (dtc's and cpp's own errors carry those).
public struct DeviceTreeLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// The node's full path (`/soc@fffe00000/pic@40000`), nil for the file as a whole.
    public var node: String?
    public var property: String?
    public var line: Int?
    public var column: Int?

    public init(file: String, node: String? = nil, property: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.node = node
        self.property = property
        self.line = line
        self.column = column
    }

    /// `file:line:column` when the source position is known, then the node and property:
    /// `p2020.dtb: /localbus@fffe05000/dma@2,0: reg`.
    /// Node and property names come from the blob, which may hold any bytes: escaped (`Excerpt`).
    public var description: String {
        var text = file
        if let line { text += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        if let node { text += ": \(Excerpt.escaping(node))" }
        if let property { text += ": \(Excerpt.escaping(property))" }
        return text
    }
}

/// A device tree the importer cannot use, or a DTS that does not compile: where and what, and what
/// was expected. Printed like a compiler's message; `uioemu board import` exits 2 on any.
public struct DeviceTreeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: DeviceTreeLocation
    public var message: String

    public init(_ message: String, at location: DeviceTreeLocation) {
        self.location = location
        self.message = message
    }

    /// The message quotes names and values from the tree, which may hold any bytes: escaped.
    public var description: String { "\(location): error: \(Excerpt.escaping(message))" }
}

/// Something the importer did that the user should look at (a value the Linux driver would read
/// differently, a default taken for a value the device tree does not carry). Printed on stderr and
/// as a comment in the profile; never stops the import.
public struct DeviceTreeWarning: Hashable, Sendable, CustomStringConvertible {
    public var location: DeviceTreeLocation
    public var message: String

    public init(_ message: String, at location: DeviceTreeLocation) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): warning: \(Excerpt.escaping(message))" }
}

/// Every error of one import, in the order found.
public struct DeviceTreeErrors: Error, Sendable, CustomStringConvertible {
    public var all: [DeviceTreeError]

    public init(_ all: [DeviceTreeError]) { self.all = all }

    public var description: String { all.map(\.description).joined(separator: "\n") }
}
