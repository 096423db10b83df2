import Foundation

/// A device tree input made ready for `DeviceTree.parse(blob:file:)`: a DTB as read, or a DTS
/// compiled by dtc (after the C preprocessor, when include directories are given).
public struct DeviceTreeInput: Sendable {
    public var blob: [UInt8]
    /// The DTS's leading comment lines (empty for a DTB).
    public var header: [String]
    public var isSource: Bool
}

/// Reads a `.dts` or `.dtb` file. A DTS is compiled the way the kernel's build does it
/// (scripts/Makefile.lib, cmd_dtc_cpp): with `--include` directories, first `cpp -nostdinc -undef
/// -D__DTS__ -x assembler-with-cpp -I DIR...`, then `dtc -I dts -O dtb -@ -i DIR...`; without them,
/// dtc alone (its `/include/` searches the file's directory). dtc's and cpp's errors come back with
/// their file and line.
public enum DeviceTreeSource {
    public static func load(path: String, includeDirectories: [String]) -> Result<DeviceTreeInput, DeviceTreeErrors> {
        let whole = DeviceTreeLocation(file: path)
        var info = stat()
        guard stat(path, &info) == 0 else {
            return failure("cannot read: \(String(cString: strerror(errno)))", whole)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return failure("not a regular file: expected a .dts or .dtb file", whole) }
        guard Int(info.st_size) <= DeviceTree.maximumInputBytes else {
            return failure(
                "the file is \(describeSize(Int(info.st_size))): a device tree is at most \(describeSize(DeviceTree.maximumInputBytes)) here (real ones are well under 1 MiB); refusing to read it",
                whole)
        }
        guard let data = FileManager.default.contents(atPath: path) else { return failure("cannot read the file", whole) }
        let bytes = [UInt8](data)
        if DeviceTree.looksLikeBlob(bytes) { return .success(DeviceTreeInput(blob: bytes, header: [], isSource: false)) }
        let text = String(decoding: bytes, as: UTF8.self)
        if includeDirectories.isEmpty, let line = firstPreprocessorInclude(in: text) {
            return failure(
                "#include needs the C preprocessor: give --include DIR (the directory holding the included path, such as the kernel's include/ for dt-bindings headers, or --include . for files beside the DTS); dtc's own /include/ needs no option",
                DeviceTreeLocation(file: path, line: line, column: 1))
        }
        return compile(path: path, text: text, includeDirectories: includeDirectories).map {
            DeviceTreeInput(blob: $0, header: leadingComment(of: text), isSource: true)
        }
    }

    static func failure<T>(_ message: String, _ location: DeviceTreeLocation) -> Result<T, DeviceTreeErrors> {
        .failure(DeviceTreeErrors([DeviceTreeError(message, at: location)]))
    }

    /// The line of the first `#include` directive, if any.
    static func firstPreprocessorInclude(in text: String) -> Int? {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#include") { return number + 1 }
        }
        return nil
    }

    /// The comment before anything else in the file: `//` lines or one `/* */` block, markers
    /// removed, trailing blank lines dropped.
    public static func leadingComment(of text: String) -> [String] {
        var lines: [String] = []
        var inBlock = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingSpaces
            if inBlock {
                var body = Substring(line)
                let closes = body.hasSuffix("*/")
                if closes { body = body.dropLast(2) }
                if body.hasPrefix("*") { body = body.dropFirst() }
                if body.hasPrefix(" ") { body = body.dropFirst() }
                if !(closes && body.trimmingSpaces.isEmpty) { lines.append(String(body).trimmingTrailingSpaces) }
                if closes { break }
            } else if line.hasPrefix("//") {
                var body = line.dropFirst(2)
                if body.hasPrefix(" ") { body = body.dropFirst() }
                lines.append(String(body))
            } else if line.hasPrefix("/*") {
                var body = Substring(line).dropFirst(2)
                if body.hasSuffix("*/") {
                    lines.append(String(body.dropLast(2)).trimmingSpaces)
                    break
                }
                inBlock = true
                if body.hasPrefix("*") { body = body.dropFirst() }
                if !body.trimmingSpaces.isEmpty { lines.append(body.trimmingSpaces) }
            } else {
                break
            }
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// (cpp and) dtc into a temporary directory; the blob's bytes, or the tools' errors.
    static func compile(path: String, text: String, includeDirectories: [String]) -> Result<[UInt8], DeviceTreeErrors> {
        var template = Array((NSTemporaryDirectory() + "/uioemu-dtc-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { return failure("cannot make a temporary directory", DeviceTreeLocation(file: path)) }
        let directory = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let here = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var source = path
        if !includeDirectories.isEmpty {
            let preprocessed = directory + "/preprocessed.dts"
            let arguments = ["-nostdinc", "-undef", "-D__DTS__", "-x", "assembler-with-cpp"] + includeDirectories.flatMap { ["-I", $0] }
                + ["-o", preprocessed, path]
            guard let outcome = ExternalTool(name: "cpp").run(arguments, in: directory) else {
                return failure("cpp (the C preprocessor) is not installed: run make deps, or apt-get install cpp", DeviceTreeLocation(file: path))
            }
            guard outcome.status == 0 else { return .failure(DeviceTreeErrors(ToolMessages.errors(outcome.standardError, tool: "cpp", input: path, text: text))) }
            source = preprocessed
        }
        let blob = directory + "/out.dtb"
        let arguments = ["-q", "-I", "dts", "-O", "dtb", "-@", "-o", blob] + ([here] + includeDirectories).flatMap { ["-i", $0] } + [source]
        guard let outcome = ExternalTool(name: "dtc").run(arguments, in: directory) else {
            return failure("dtc is not installed: run make deps, or apt-get install device-tree-compiler", DeviceTreeLocation(file: path))
        }
        guard outcome.status == 0, let data = FileManager.default.contents(atPath: blob) else {
            return .failure(DeviceTreeErrors(ToolMessages.errors(outcome.standardError, tool: "dtc", input: path, text: text)))
        }
        return .success([UInt8](data))
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var result = Substring(self)
        while result.last == " " { result.removeLast() }
        return String(result)
    }
}
