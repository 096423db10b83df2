/// A place in a source file; line and column count from 1 (columns in Unicode scalars, as libyaml).
public struct SourceLocation: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem in an input file: where, what was wrong and what was expected, and possibly a
/// "did you mean" suggestion. Printed like a compiler: `file:line:column: error: message`.
public struct Diagnostic: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String
    public let suggestion: String?

    public init(_ message: String, at location: SourceLocation, suggestion: String? = nil) {
        self.location = location
        self.message = message
        self.suggestion = suggestion
    }

    public var description: String {
        let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
        return "\(location): error: \(message)\(hint)"
    }
}

/// All the problems found in one or more files, in the order they were found. Readers keep going
/// after an error so one run reports everything.
public struct Diagnostics: Error, Sendable, CustomStringConvertible {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public var isEmpty: Bool { all.isEmpty }

    public mutating func error(_ message: String, at location: SourceLocation, suggestion: String? = nil) {
        all.append(Diagnostic(message, at: location, suggestion: suggestion))
    }

    public mutating func append(contentsOf other: Diagnostics) { all.append(contentsOf: other.all) }

    /// Sorted by location, one per line.
    public var description: String { all.sorted { $0.location < $1.location }.map(\.description).joined(separator: "\n") }
}

/// A value from an input file as a message shows it: at most `limit` characters, with line breaks,
/// tabs, escape sequences and other invisible characters written as escapes (`\n`, `\t`,
/// `\u{1B}`), so whatever a file holds cannot reach the terminal raw; a longer value is cut, with
/// `...` and its length.
public enum Excerpt {
    public static func of(_ text: some StringProtocol, limit: Int = 40) -> String {
        var shown = ""
        var characters = 0
        for scalar in text.unicodeScalars {  // bounded: stops after `limit` characters
            if characters == limit {
                return shown + "... (\(text.unicodeScalars.count) characters)"
            }
            shown += escaped(scalar)
            characters += 1
        }
        return shown
    }

    /// All of `text` with its invisible characters escaped as `of` escapes them, for a message
    /// whose parts come from a file but are bounded already (a device tree's node path).
    public static func escaping(_ text: some StringProtocol) -> String {
        var shown = ""
        for scalar in text.unicodeScalars { shown += escaped(scalar) }  // bounded: the text's length
        return shown
    }

    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
                return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default:
                return String(scalar)
            }
        }
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggestion {
    /// The candidate closest to `word`, if it is close enough to be a plausible typo: at most a third
    /// of the word's length in edits (at least one, at most three).
    public static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let limit = min(3, max(1, word.count / 3))
        let length = word.unicodeScalars.count
        var best: (candidate: String, distance: Int)?
        // A length apart by more than the limit is more edits apart too: skipped without the
        // quadratic distance (a key a million characters long is no typo).
        for candidate in candidates where abs(candidate.unicodeScalars.count - length) <= limit {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one
    /// edit (optimal string alignment), over Unicode scalars.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
