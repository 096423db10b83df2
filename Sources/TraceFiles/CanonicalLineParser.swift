import Trace

/// Reads a canonical JSON line back into its event and time: the inverse of `CanonicalLine`, for
/// `uioemu trace hash FILE` (which re-encodes the events as records and hashes them). A line must
/// be one JSON object with `t`, `ev` and exactly the keys of its kind (in any order); numbers are
/// integers in their field's range, booleans 0 or 1. Anything else is an error naming the column.
public enum CanonicalLineParser {
    /// Why a line is not a canonical event: what was expected, at which column (1-based, bytes).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let column: Int
        public let message: String
        public var description: String { "column \(column): \(message)" }
    }

    enum Value {
        case string(String)
        /// The integer's text (`-12`), kept whole until its field says its range.
        case integer(String)
    }

    public static func parse(_ line: String) throws(Failure) -> (nanoseconds: Int64, event: TraceEvent) {
        let fields = try object(Array(line.utf8))
        var reader = FieldReader(fields: fields)
        let t = try reader.integer("t", Int64.self)
        let kind = try reader.string("ev")
        let event = try reader.event(kind)
        if let extra = reader.unused.first {
            throw Failure(column: extra.column, message: "unexpected key \"\(extra.key)\" in a \(kind) event (expected \(reader.used.joined(separator: ", ")))")
        }
        return (t, event)
    }

    /// `{"key":value,...}`: keys in order with their values and the column each value starts at.
    static func object(_ bytes: [UInt8]) throws(Failure) -> [(key: String, value: Value, column: Int)] {
        var i = 0
        func fail(_ message: String) -> Failure { Failure(column: i + 1, message: message) }
        func expect(_ c: UInt8, _ what: String) throws(Failure) {
            guard i < bytes.count, bytes[i] == c else { throw fail("expected \(what)") }
            i += 1
        }
        func string() throws(Failure) -> String {
            try expect(UInt8(ascii: "\""), "a string")
            var out: [UInt8] = []
            while true {  // bounded: each turn consumes a byte of the line
                guard i < bytes.count else { throw fail("unterminated string") }
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") { break }
                if b < 0x20 { i -= 1; throw fail("a control character in a string (expected it escaped)") }
                guard b == UInt8(ascii: "\\") else { out.append(b); continue }
                guard i < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                        throw fail("expected 4 hex digits after \\u")
                    }
                    i += 4
                    guard let scalar = Unicode.Scalar(code) else { throw fail("a \\u escape of a surrogate (not written by uioemu)") }
                    out += Array(String(Character(scalar)).utf8)
                default:
                    i -= 1
                    throw fail("an unknown escape \\\(Character(Unicode.Scalar(e)))")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        try expect(UInt8(ascii: "{"), "{ (a JSON object per line)")
        var result: [(key: String, value: Value, column: Int)] = []
        while true {  // bounded: each turn consumes a key and value
            let key = try string()
            try expect(UInt8(ascii: ":"), ": after a key")
            let column = i + 1
            guard i < bytes.count else { throw fail("expected a value") }
            if bytes[i] == UInt8(ascii: "\"") {
                result.append((key, .string(try string()), column))
            } else {
                let start = i
                if bytes[i] == UInt8(ascii: "-") { i += 1 }
                let digits = i
                while i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") { i += 1 }  // bounded by the line
                guard i > digits else { throw fail("expected an integer or a string") }
                result.append((key, .integer(String(decoding: bytes[start..<i], as: UTF8.self)), column))
            }
            guard i < bytes.count else { throw fail("expected , or }") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"), ", or }")
            break
        }
        guard i == bytes.count else { throw fail("expected the end of the line after }") }
        return result
    }
}

/// Takes an event's fields by key, each once, with located errors.
private struct FieldReader {
    let fields: [(key: String, value: CanonicalLineParser.Value, column: Int)]
    private(set) var used: [String] = []

    init(fields: [(key: String, value: CanonicalLineParser.Value, column: Int)]) { self.fields = fields }

    var unused: [(key: String, column: Int)] { fields.filter { !used.contains($0.key) }.map { ($0.key, $0.column) } }

    private mutating func take(_ key: String) throws(CanonicalLineParser.Failure) -> (value: CanonicalLineParser.Value, column: Int) {
        used.append(key)
        let matches = fields.filter { $0.key == key }
        guard let field = matches.first else { throw .init(column: 1, message: "missing key \"\(key)\"") }
        guard matches.count == 1 else { throw .init(column: matches[1].column, message: "key \"\(key)\" twice") }
        return (field.value, field.column)
    }

    mutating func string(_ key: String) throws(CanonicalLineParser.Failure) -> String {
        let (value, column) = try take(key)
        guard case let .string(text) = value else { throw .init(column: column, message: "expected a string for \"\(key)\"") }
        return text
    }

    /// A string field that events carry as a `TraceName`.
    mutating func name(_ key: String) throws(CanonicalLineParser.Failure) -> TraceName {
        TraceName(try string(key))
    }

    mutating func integer<T: FixedWidthInteger>(_ key: String, _ type: T.Type) throws(CanonicalLineParser.Failure) -> T {
        let (value, column) = try take(key)
        guard case let .integer(text) = value else { throw .init(column: column, message: "expected an integer for \"\(key)\"") }
        guard let n = T(text) else { throw .init(column: column, message: "expected an integer from \(T.min) to \(T.max) for \"\(key)\", found \(text)") }
        return n
    }

    mutating func flag(_ key: String) throws(CanonicalLineParser.Failure) -> Bool {
        let column = fields.first { $0.key == key }?.column ?? 1
        switch try integer(key, Int.self) {
        case 0: return false
        case 1: return true
        default: throw .init(column: column, message: "expected 0 or 1 for \"\(key)\"")
        }
    }

    mutating func access(_ key: String) throws(CanonicalLineParser.Failure) -> TraceEvent.RegisterAccess {
        let column = fields.first { $0.key == key }?.column ?? 1
        let text = try string(key)
        guard let access = TraceEvent.RegisterAccess(rawValue: text) else {
            throw .init(column: column, message: "expected read or write for \"\(key)\", found \(text)")
        }
        return access
    }

    mutating func event(_ kind: String) throws(CanonicalLineParser.Failure) -> TraceEvent {
        switch kind {
        case "register":
            return .register(device: try name("device"), register: try name("register"), offset: try integer("offset", UInt32.self),
                             value: try integer("value", UInt32.self), access: try access("access"))
        case "irq": return .interruptLine(line: try integer("line", Int.self), high: try flag("level"))
        case "uio-read":
            return .uioRead(device: try name("device"), count: try integer("count", Int32.self), previous: try integer("previous", Int32.self))
        case "uio-enable": return .uioEnable(device: try name("device"), enabled: try flag("enabled"))
        case "uio-irq": return .uioInterrupt(device: try name("device"), count: try integer("count", Int32.self))
        case "uio-storm": return .uioStorm(device: try name("device"), events: try integer("events", Int.self))
        case "dma-start":
            return .dmaStart(channel: try name("channel"), address: try integer("address", UInt64.self), bytes: try integer("bytes", Int.self))
        case "descriptor-fetch":
            return .descriptorFetch(channel: try name("channel"), address: try integer("address", UInt64.self), next: try integer("nxtdesc", UInt32.self),
                                    buffer: try integer("buffer-address", UInt32.self), control: try integer("control", UInt32.self),
                                    status: try integer("status", UInt32.self))
        case "dma-done": return .dmaDone(channel: try name("channel"), bytes: try integer("bytes", Int.self))
        case "dma-error": return .dmaError(channel: try name("channel"), status: try integer("dmasr", UInt32.self))
        case "dma-status":
            return .channelStatus(channel: try name("channel"), control: try integer("dmacr", UInt32.self), status: try integer("dmasr", UInt32.self))
        case "driver-state":
            return .driverState(driver: try name("driver"), from: try name("from"), to: try name("to"), code: try integer("code", Int.self))
        case "slot-owner":
            return .slotOwner(driver: try name("driver"), slot: try integer("slot", Int.self), from: try name("from"), to: try name("to"))
        case "buffer-owner": return .bufferOwner(buffer: try name("buffer"), from: try name("from"), to: try name("to"))
        case "buffer":
            return .bufferLifetime(buffer: try name("buffer"), address: try integer("address", UInt64.self), bytes: try integer("bytes", UInt64.self),
                                   live: try flag("live"))
        case "buffer-sync":
            let buffer = try name("buffer")
            let column = fields.first { $0.key == "to" }?.column ?? 1
            let to = try string("to")
            guard to == "device" || to == "cpu" else { throw .init(column: column, message: "expected device or cpu for \"to\", found \(to)") }
            return .bufferSync(buffer: buffer, toDevice: to == "device", offset: try integer("offset", UInt64.self), bytes: try integer("bytes", UInt64.self))
        case "cpu-access":
            return .cpuAccess(buffer: try name("buffer"), offset: try integer("offset", UInt64.self), bytes: try integer("bytes", UInt64.self),
                              access: try access("access"))
        case "byte-order":
            return .byteOrder(device: try name("device"), offset: try integer("offset", UInt32.self), access: try access("access"),
                              assumed: try string("assumed"), deviceValue: try integer("device-value", UInt32.self),
                              cpuValue: try integer("cpu-value", UInt32.self))
        case "lost-irqs": return .lostInterrupts(driver: try name("driver"), count: try integer("count", Int.self))
        case "fault": return .fault(channel: try name("channel"), fault: try string("fault"))
        case "finding": return .finding(kind: try string("kind"), severity: try string("severity"), detail: try string("detail"))
        case "protocol-finding":
            return .protocolFinding(rule: try string("rule"), device: try string("device"), register: try string("register"),
                                    values: try string("values"))
        default:
            let column = fields.first { $0.key == "ev" }?.column ?? 1
            throw .init(column: column, message: "unknown event kind \"\(kind)\"")
        }
    }
}

extension TraceHasher {
    /// Why `hash(ofJSONLines:)` failed: the file could not be read, or a line is not a canonical event.
    public enum FileFailure: Error, Sendable, CustomStringConvertible {
        case cannotRead(TraceError)
        case badLine(path: String, line: Int, CanonicalLineParser.Failure)

        public var description: String {
            switch self {
            case let .cannotRead(error): "\(error)"
            case let .badLine(path, line, failure): "\(path):\(line):\(failure.column): \(failure.message)"
            }
        }
    }

    /// The trace hash of a JSON-lines trace file (as `--trace` writes it): each line read back into
    /// its event, the events encoded as canonical records and hashed, as the run that wrote the
    /// file did. Equal to the hash the run printed.
    public static func hash(ofJSONLines path: String) throws(FileFailure) -> String {
        let reader: LineReader
        do throws(TraceError) { reader = try LineReader(path: path) } catch { throw .cannotRead(error) }
        let hasher = TraceHasher()
        let records = CanonicalRecords()
        var number = 0
        while let line = reader.next() {  // bounded by the file
            number += 1
            let parsed: (nanoseconds: Int64, event: TraceEvent)
            do throws(CanonicalLineParser.Failure) { parsed = try CanonicalLineParser.parse(line) } catch {
                throw .badLine(path: path, line: number, error)
            }
            records.encode(parsed.event, at: parsed.nanoseconds)
            if records.isFull {
                hasher.write(stream: records.bytes)
                records.clear()
            }
        }
        if reader.failure != 0 { throw .cannotRead(.cannotRead(path: path, errno: reader.failure)) }
        hasher.write(stream: records.bytes)
        return hasher.digest!
    }
}
