import Synchronization
import Yams

/// A YAML file read with Yams, where every value remembers its file, line and column, and every
/// reader reports problems into `Diagnostics` instead of stopping. Shared by board profiles and
/// (later) scenario files.
public struct YAMLDocument {
    public let file: String
    /// Nil when the file is empty or not valid YAML (a syntax error is then in the diagnostics).
    public let root: YAMLValue?

    private static let oneParseAtATime = Mutex(())

    public init(text: String, file: String, diagnostics: inout Diagnostics) {
        self.file = file
        if let refusal = YAMLDocument.refusal(of: text, file: file) {
            root = nil
            diagnostics.error(refusal.message, at: refusal.location)
            return
        }
        let text = YAMLDocument.normalised(text)
        do {
            // One parse at a time in the process: Yams resolves plain scalars' tags with regular
            // expressions shared by every parse (`Resolver.default`), and two tests reading boards
            // at once crashed in `Node.Scalar.resolveTag` (corelibs Foundation, Linux). Tags are
            // resolved while the values are made, so both happen under the lock.
            root = try Self.oneParseAtATime.withLock { _ in try Yams.compose(yaml: text).map { YAMLValue($0, file: file) } }
        } catch let error as YamlError {
            root = nil
            let (message, mark) = YAMLDocument.describe(error, text: text)
            diagnostics.error(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        } catch {
            root = nil
            diagnostics.error("YAML syntax: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// The text as libyaml reads it best: without a UTF-8 byte-order mark and with CRLF line ends
    /// as LF (files written on Windows). Lines and columns stay where they were.
    static func normalised(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.first == "\u{FEFF}" || scalars.contains("\r") else { return text }
        var result = String.UnicodeScalarView()
        var previousWasReturn = false
        for scalar in scalars.drop(while: { $0 == "\u{FEFF}" }) {  // bounded by the text
            if previousWasReturn && scalar != "\n" { result.append("\r") }
            previousWasReturn = scalar == "\r"
            if !previousWasReturn { result.append(scalar) }
        }
        if previousWasReturn { result.append("\r") }
        return String(result)
    }

    private static func describe(_ error: YamlError, text: String) -> (String, (line: Int, column: Int)) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return ("YAML syntax: \(problem)\(during)", (mark.line, mark.column))
        case .reader(let problem, let offset, _, _):
            return ("YAML syntax: \(problem)", position(ofUTF8Offset: offset ?? 0, in: text))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.prefix(5).map { "'\(Excerpt.of($0))'" }.joined(separator: ", ")
            return ("duplicate key \(keys) in this mapping; expected each key once", (context.mark.line, context.mark.column))
        default:
            return ("YAML syntax: \(error)", (1, 1))
        }
    }

    private static func position(ofUTF8Offset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}

/// One YAML node with its location.
public struct YAMLValue {
    public let node: Node
    public let location: SourceLocation

    init(_ node: Node, file: String) {
        self.node = node
        let mark = node.mark
        location = SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// A scalar's text, nil for a null scalar (`~`, `null` or nothing) or a collection.
    public var scalarText: String? {
        guard let scalar = node.scalar else { return nil }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
        return scalar.string
    }

    /// How the value reads in "found ..." messages.
    public var found: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            guard let text = scalarText else { return "nothing" }
            let shown = Excerpt.of(text)
            return scalar.style == .plain ? "'\(shown)'" : "the string '\(shown)'"
        }
    }

    /// Reports "expected ..., found ..." here; returns nil so readers can `return mismatch(...)`.
    public func mismatch<T>(_ expected: String, _ diagnostics: inout Diagnostics, suggestion: String? = nil) -> T? {
        diagnostics.error("expected \(expected), found \(found)", at: location, suggestion: suggestion)
        return nil
    }

    /// This value as a mapping whose keys must come from `keys`. Unknown keys are reported (with a
    /// suggestion from `keys`), as are non-string keys; the mapping is still returned with the rest.
    public func mapping(_ expected: String, keys: [String], _ diagnostics: inout Diagnostics) -> YAMLMapping? {
        guard let mapping = node.mapping else { return mismatch(expected, &diagnostics) }
        var entries: [YAMLMapping.Entry] = []
        for (keyNode, valueNode) in mapping {
            let key = YAMLValue(keyNode, file: location.file)
            guard let name = key.scalarText else {
                diagnostics.error("expected a key name, found \(key.found)", at: key.location)
                continue
            }
            guard keys.contains(name) else {
                let known = keys.map { "'\($0)'" }.joined(separator: ", ")
                diagnostics.error(
                    "unknown key '\(Excerpt.of(name))' in \(expected); expected one of \(known)", at: key.location,
                    suggestion: Suggestion.closest(to: name, among: keys))
                continue
            }
            entries.append(.init(key: name, keyLocation: key.location, value: YAMLValue(valueNode, file: location.file)))
        }
        return YAMLMapping(what: expected, location: location, entries: entries)
    }

    /// This value as a list.
    public func list(_ expected: String, _ diagnostics: inout Diagnostics) -> [YAMLValue]? {
        guard let sequence = node.sequence else { return mismatch(expected, &diagnostics) }
        return sequence.map { YAMLValue($0, file: location.file) }
    }
}

/// A mapping whose keys have been checked against the allowed set.
public struct YAMLMapping {
    public struct Entry {
        public let key: String
        public let keyLocation: SourceLocation
        public let value: YAMLValue
    }

    /// What the mapping is, for messages: "the cpu section", "device 'fpga-dma'".
    public let what: String
    public let location: SourceLocation
    public let entries: [Entry]

    public subscript(key: String) -> YAMLValue? { entries.first { $0.key == key }?.value }

    public func keyLocation(_ key: String) -> SourceLocation? { entries.first { $0.key == key }?.keyLocation }

    /// The value for `key`; if absent, reports "missing key" at the mapping's start.
    public func required(_ key: String, expecting expected: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        if let value = self[key] { return value }
        diagnostics.error("missing key '\(key)' in \(what): expected \(expected)", at: location)
        return nil
    }
}
