import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension BoardProfile {
    /// Reads and checks the profile at `path`, its devices read by the kinds of `registry`
    /// (`DeviceKinds.standard` for uioemu's). Throws every problem found (file:line:column each),
    /// not only the first.
    public static func load(path: String, registry: DeviceKindRegistry) throws(Diagnostics) -> BoardProfile {
        try parse(InputFile.read(path, what: "a board profile"), file: path, registry: registry)
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

/// Reads a profile or scenario for its loader. A file larger than `YAMLDocument.maximumInputBytes`
/// is refused at once with its size (not read, not parsed); a file-system error names the path
/// and the errno in words; bytes that are not UTF-8 are located. All of them as diagnostics at the
/// file's first line (or the bad byte), like every other input error.
public enum InputFile {
    public static func read(_ path: String, what: String) throws(Diagnostics) -> String {
        let start = SourceLocation(file: path, line: 1, column: 1)
        func fail(_ message: String, at location: SourceLocation? = nil) -> Diagnostics {
            var diagnostics = Diagnostics()
            diagnostics.error(message, at: location ?? start)
            return diagnostics
        }
        func systemError(_ call: String, _ code: Int32) -> Diagnostics {
            fail("cannot \(call) \(what): \(String(cString: strerror(code))) (errno \(code))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw systemError("stat", errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw systemError("read", EISDIR) }
        let limit = YAMLDocument.maximumInputBytes
        if (info.st_mode & S_IFMT) == S_IFREG, info.st_size > limit {
            let size = UInt64(info.st_size)
            throw fail("the file is \(Units.size(size)) (\(size) bytes): expected at most \(Units.size(UInt64(limit))) for \(what)")
        }
        // A pipe or device has no size up front: read one byte past the limit at most.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var filled = 0
        while filled < bytes.count {  // bounded: limit + 1 bytes
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw systemError("read", errno)
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= limit else {
            throw fail("the input is larger than \(Units.size(UInt64(limit))): expected at most that for \(what)")
        }
        bytes.removeSubrange(filled...)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        let (offset, line, column) = firstInvalidUTF8(bytes)
        throw fail("expected UTF-8 text, found the byte 0x\(String(bytes[offset], radix: 16, uppercase: true))",
                   at: SourceLocation(file: path, line: line, column: column))
    }

    /// The first byte that is not part of valid UTF-8, and its line and column (columns in
    /// characters, as the YAML reader counts them).
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int, column: Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        var column = 1
        while true {  // bounded: each step consumes at least one byte
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                return (min(offset, bytes.count - 1), line, column)
            case .emptyInput:
                return (max(0, bytes.count - 1), line, column)
            }
        }
    }
}
