import Synchronization

/// A name a trace event carries (a device, channel, register, UIO node, DMA buffer or driver, or a
/// label such as a driver state or a slot owner), as a small number: the name's place in the
/// process's table of names, which gives every distinct string (by its UTF-8 bytes) one number for
/// the life of the process.
///
/// Why not `String`: copying a `String` into an event at its recording site and out of it in each
/// encoder is a reference-count operation per name (about 70 a traced completion, the callgrind
/// gate's traced cases). A `TraceName` is a plain integer: making, copying and comparing one costs
/// no reference counting, and an encoder looks up what it has already written by number.
///
/// An instrumented object makes its names once (when it is made, or when a tracer is attached), not
/// per event. The fixed labels of the hot path (`read`, `write`, `running(3)`, slot owners) are
/// numbered in advance (`TraceName.read`), so naming them costs nothing at all.
///
/// Two names are equal exactly when their strings have the same UTF-8 bytes (not Swift's `==` on
/// `String`, which equates canonically equivalent Unicode: a trace compares bytes). A string literal
/// is a `TraceName` (`.register(device: "axi-dma0", ...)` in a test), looked up when it is made.
public struct TraceName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name's number, from 1 (0 is never a name).
    public let number: UInt32

    /// The name `string`, numbered on its first use in the process. Takes a lock: make names once,
    /// outside the per-event path.
    public init(_ string: String) {
        number = Self.table.withLock { $0.number(of: string) }
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// The name as text. Takes a lock: a sink that needs the text per event keeps what it looked up.
    public var string: String { Self.table.withLock { $0.strings[Int(number) - 1] } }

    public var description: String { string }

    /// Every name's UTF-8 bytes, by number (a copy, for an encoder meeting a name for the first time).
    func utf8() -> [UInt8] { Self.table.withLock { $0.utf8[Int(number) - 1] } }

    // MARK: the table

    private struct Table {
        var strings: [String] = []
        var utf8: [[UInt8]] = []
        var byBytes: [[UInt8]: UInt32] = [:]

        init() {
            for string in TraceName.wellKnown { _ = number(of: string) }  // bounded: the list
        }

        mutating func number(of string: String) -> UInt32 {
            let bytes = Array(string.utf8)
            if let known = byBytes[bytes] { return known }
            strings.append(string)
            utf8.append(bytes)
            let number = UInt32(strings.count)
            byBytes[bytes] = number
            return number
        }
    }

    private static let table = Mutex(Table())

    /// The names numbered in advance, in the order of their numbers (1, 2, …): the labels that hot
    /// recording sites name on every completion. Append only (the numbers are the process's own, never
    /// written to a trace, but the constants below name them by place).
    static let wellKnown: [String] = [
        "read", "write", "device", "cpu", "driver", "consumer", "producer", "queued", "stopped", "running(none)",
        "running(0)", "running(1)", "running(2)", "running(3)", "running(4)", "running(5)", "running(6)", "running(7)",
        "running(8)", "running(9)", "running(10)", "running(11)", "running(12)", "running(13)", "running(14)", "running(15)",
    ]

    @inlinable public static var read: TraceName { TraceName(number: 1) }
    @inlinable public static var write: TraceName { TraceName(number: 2) }
    @inlinable public static var device: TraceName { TraceName(number: 3) }
    @inlinable public static var cpu: TraceName { TraceName(number: 4) }
    @inlinable public static var driver: TraceName { TraceName(number: 5) }
    @inlinable public static var consumer: TraceName { TraceName(number: 6) }
    @inlinable public static var producer: TraceName { TraceName(number: 7) }
    @inlinable public static var queued: TraceName { TraceName(number: 8) }
    @inlinable public static var stopped: TraceName { TraceName(number: 9) }
    @inlinable public static var runningNone: TraceName { TraceName(number: 10) }
    /// `running(slot)` for slots 0 to 15.
    @inlinable public static func running(_ slot: Int) -> TraceName {
        precondition(slot >= 0 && slot < 16, "running(\(slot)) is not numbered in advance")
        return TraceName(number: 11 + UInt32(slot))
    }

    @usableFromInline
    init(number: UInt32) { self.number = number }
}
