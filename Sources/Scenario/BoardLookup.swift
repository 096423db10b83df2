import Board
import Foundation

/// A board name that no catalog holds: the boards there are, and the nearest name.
public struct UnknownBoard: Error, Sendable, CustomStringConvertible {
    public let name: String
    /// The directories looked in, in order.
    public let searched: [String]
    /// The boards of the first directory that has any.
    public let known: [String]
    /// The known name nearest to `name`, when it looks like a typo of it.
    public let suggestion: String?

    /// `no board named 'p2020-fpgaa' in boards: expected one of ml507-ppc440, p2020-fpga`.
    public var message: String {
        let places = searched.isEmpty ? "no boards/ directory was found" : "in \(searched.joined(separator: ", "))"
        let expected = known.isEmpty ? "no board profiles there" : "expected one of \(known.joined(separator: ", "))"
        return "no board named '\(name)' \(places): \(expected)"
    }

    public var description: String { message + (suggestion.map { " (did you mean '\($0)'?)" } ?? "") }
}

extension BoardCatalog {
    /// The boards this directory holds (its `.yaml` files' names), sorted.
    public var boardNames: [String] {
        profilePaths.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
    }

    /// Where a bare board name is looked for: `explicit` alone when given (`--boards-dir`); else
    /// `$UIOEMU_BOARDS`, then the `boards/` directories from `directory` (a scenario file's own)
    /// upwards, then the usual place (`locate()`: from the current directory, then the executable).
    public static func searchOrder(from directory: String? = nil, explicit: String? = nil) -> [BoardCatalog] {
        if let explicit { return [BoardCatalog(directory: explicit)] }
        var catalogs: [BoardCatalog] = []
        if let directory = ProcessInfo.processInfo.environment["UIOEMU_BOARDS"], !directory.isEmpty {
            catalogs.append(BoardCatalog(directory: directory))
        }
        if let directory {
            for url in upwards(from: URL(fileURLWithPath: directory)) {
                let candidate = BoardCatalog(directory: url.appendingPathComponent("boards").path)
                if !candidate.profilePaths.isEmpty { catalogs.append(candidate) }
            }
        }
        if let located = locate() { catalogs.append(located) }
        return catalogs
    }

    /// The profile path for `argument`: a path as given (relative to `base` when it is not
    /// absolute and `base` is given), else `NAME.yaml` in the first catalog that has it.
    public static func resolve(_ argument: String, in catalogs: [BoardCatalog], relativeTo base: String? = nil) -> Result<String, UnknownBoard> {
        if looksLikePath(argument) {
            guard let base, !argument.hasPrefix("/") else { return .success(argument) }
            return .success(URL(fileURLWithPath: base).appendingPathComponent(argument).path)
        }
        for catalog in catalogs {
            let path = catalog.path(for: argument)
            if FileManager.default.fileExists(atPath: path) { return .success(path) }
        }
        let known = catalogs.lazy.map(\.boardNames).first { !$0.isEmpty } ?? []
        var searched: [String] = []
        for catalog in catalogs where !searched.contains(catalog.directory) { searched.append(catalog.directory) }
        return .failure(UnknownBoard(name: argument, searched: searched, known: known,
                                     suggestion: Suggestion.closest(to: argument, among: known)))
    }
}
