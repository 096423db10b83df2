import Trace
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `uioemu diff A.jsonl B.jsonl`: where two canonical traces first part ways. Canonical lines are
/// compared as they are (the same run gives the same bytes), so the first line that differs is the
/// first event that differs; around it a few events of context, and which keys of the two events
/// differ. Read a line at a time: traces of millions of events are compared in constant memory.
public struct TraceDiff: Sendable, Equatable {
    /// The first event (1-based line number) where the traces differ; nil in `a` or `b` when that
    /// trace has ended there.
    public let event: Int
    public let a: String?
    public let b: String?
    /// Up to `context` events before it (equal in both traces), oldest first.
    public let before: [String]
    /// Up to `context` events after it in each trace.
    public let afterA: [String]
    public let afterB: [String]

    /// Events of context around the difference.
    public static let context = 3

    /// Compares two traces line by line; nil when they are equal. `nextA` and `nextB` return the
    /// next line without its newline, nil at the end; each is called at most once past the
    /// difference plus `context` times.
    public static func compare(_ nextA: () -> String?, _ nextB: () -> String?, context: Int = context) -> TraceDiff? {
        var before: [String] = []
        var event = 0
        while true {  // bounded: each turn consumes a line of both traces, which end
            event += 1
            let a = nextA(), b = nextB()
            if a == nil && b == nil { return nil }
            guard a == b, let line = a else {
                var afterA: [String] = [], afterB: [String] = []
                if a != nil { for _ in 0..<context { if let l = nextA() { afterA.append(l) } } }
                if b != nil { for _ in 0..<context { if let l = nextB() { afterB.append(l) } } }
                return TraceDiff(event: event, a: a, b: b, before: before, afterA: afterA, afterB: afterB)
            }
            before.append(line)
            if before.count > context { before.removeFirst() }
        }
    }

    /// The keys whose values differ between the two events, in the order of `a`'s line:
    /// `["t: 1040 vs 1050", "ev: irq vs dma-done"]`. Canonical lines are flat objects of numbers
    /// and strings; anything else is compared as a whole.
    public var differingKeys: [String] {
        guard let a, let b, let fieldsA = Self.fields(a), let fieldsB = Self.fields(b) else { return [] }
        var result: [String] = []
        for (key, value) in fieldsA where fieldsB.first(where: { $0.key == key })?.value != value {
            result.append("\(key): \(value) vs \(fieldsB.first { $0.key == key }?.value ?? "(absent)")")
        }
        for (key, value) in fieldsB where !fieldsA.contains(where: { $0.key == key }) {
            result.append("\(key): (absent) vs \(value)")
        }
        return result
    }

    /// The board time (the `t` key, ns) of the first differing event, from whichever trace has one.
    public var boardTimeNanoseconds: Int64? {
        [a, b].lazy.compactMap { $0.flatMap(Self.fields)?.first { $0.key == "t" }.flatMap { Int64($0.value) } }.first
    }

    /// `{"t":1,"ev":"irq","line":2}` as ordered (key, value text) pairs; nil if it is not that shape.
    static func fields(_ line: String) -> [(key: String, value: String)]? {
        guard line.hasPrefix("{"), line.hasSuffix("}") else { return nil }
        var result: [(key: String, value: String)] = []
        var rest = Substring(line.dropFirst().dropLast())
        while !rest.isEmpty {  // bounded: each turn consumes one key and value
            guard rest.hasPrefix("\""), let keyEnd = rest.dropFirst().firstIndex(of: "\"") else { return nil }
            let key = String(rest[rest.index(after: rest.startIndex)..<keyEnd])
            rest = rest[rest.index(after: keyEnd)...]
            guard rest.hasPrefix(":") else { return nil }
            rest = rest.dropFirst()
            var value = ""
            if rest.hasPrefix("\"") {
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex && rest[index] != "\"" {  // bounded by the line
                    index = rest[index] == "\\" ? rest.index(index, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex : rest.index(after: index)
                }
                guard index < rest.endIndex else { return nil }
                value = String(rest[rest.index(after: rest.startIndex)..<index])
                rest = rest[rest.index(after: index)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            result.append((key, value))
            if rest.hasPrefix(",") { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        }
        return result
    }
}

/// A text file read one line at a time (without the newline), for `TraceDiff`.
public final class LineReader {
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity = 0

    /// Opens `path`; throws the errno's message when it cannot be read.
    public init(path: String) throws(TraceError) {
        guard let file = fopen(path, "r") else { throw .cannotRead(path: path, errno: errno) }
        self.path = path
        self.file = file
    }

    deinit {
        if let file { fclose(file) }
        free(buffer)
    }

    /// The next line, nil at the end of the file (or on a read error, `failure` then says which).
    public func next() -> String? {
        guard let file else { return nil }
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else {
            if ferror(file) != 0 { failure = errno }
            return nil
        }
        var length = count
        if length > 0 && buffer[length - 1] == 0x0A { length -= 1 }
        return String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    }

    /// The errno of a read that failed, 0 if none did.
    public private(set) var failure: Int32 = 0
}
