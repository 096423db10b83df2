import Foundation

extension BoardProfile {
    /// Reads and checks the profile at `path`, its devices read by the kinds of `registry`
    /// (`DeviceKinds.standard` for uioemu's). Throws every problem found (file:line:column each),
    /// not only the first.
    public static func load(path: String, registry: DeviceKindRegistry) throws(Diagnostics) -> BoardProfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            var diagnostics = Diagnostics()
            diagnostics.error("cannot read file: expected a readable board profile", at: SourceLocation(file: path, line: 1, column: 1))
            throw diagnostics
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, registry: registry)
    }

    /// Checks profile text; `file` names it in diagnostics.
    public static func parse(_ text: String, file: String, registry: DeviceKindRegistry) throws(Diagnostics) -> BoardProfile {
        var diagnostics = Diagnostics()
        let document = YAMLDocument(text: text, file: file, diagnostics: &diagnostics)
        guard diagnostics.isEmpty else { throw diagnostics }
        let reader = ProfileReader(file: file, registry: registry)
        guard let profile = reader.read(document) else { throw reader.diagnostics }
        return profile
    }
}

/// Finds shipped profiles: `NAME` resolves to `DIRECTORY/NAME.yaml`; anything that looks like a
/// path (has a `/` or ends in `.yaml`/`.yml`) is used as given.
public struct BoardCatalog: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The `boards` directory: `$UIOEMU_BOARDS` if set, else the first `boards/` holding `.yaml`
    /// files found walking up from the current directory, then from `executablePath`.
    public static func locate(executablePath: String? = CommandLine.arguments.first) -> BoardCatalog? {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment["UIOEMU_BOARDS"], !directory.isEmpty { return BoardCatalog(directory: directory) }
        // From the current directory the result stays relative (`boards`, `../boards`), so the
        // paths printed are short; from the executable it is absolute.
        var relative = ""
        for url in upwards(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
            if let found = existing(url, shown: relative + "boards") { return found }
            relative += "../"
        }
        guard let executablePath else { return nil }
        for url in upwards(from: URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()) {
            if let found = existing(url, shown: url.appendingPathComponent("boards").path) { return found }
        }
        return nil
    }

    /// `directory` and each directory above it, up to the root: as many as the path has components.
    public static func upwards(from directory: URL) -> [URL] {
        var result = [directory.standardizedFileURL]
        for _ in directory.standardizedFileURL.pathComponents {
            let parent = result.last!.deletingLastPathComponent()
            if parent.path == result.last!.path { break }
            result.append(parent)
        }
        return result
    }

    private static func existing(_ url: URL, shown: String) -> BoardCatalog? {
        let candidate = BoardCatalog(directory: url.appendingPathComponent("boards").path)
        return candidate.profilePaths.isEmpty ? nil : BoardCatalog(directory: shown)
    }

    /// `.yaml` files in the directory, sorted by name.
    public var profilePaths: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }

    public static func looksLikePath(_ argument: String) -> Bool {
        argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml")
    }

    /// The file a board argument names.
    public func path(for argument: String) -> String {
        Self.looksLikePath(argument) ? argument : (directory as NSString).appendingPathComponent("\(argument).yaml")
    }
}
