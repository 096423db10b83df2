import Glibc

/// A file-system call that failed on a path: printed as `PATH: error: cannot CALL: No such file or
/// directory (errno 2)`, never as a Foundation error dump.
struct OutputFileError: Error, CustomStringConvertible {
    let path: String
    /// What was being done: "create the directory", "write", ...
    let action: String
    let code: Int32

    var description: String { "\(path): error: cannot \(action): \(String(cString: strerror(code))) (errno \(code))" }
}

/// Writing what uioemu produces (`sysfs export`, `board import -o`) with plain system calls.
enum FileTree {
    /// Nil when `path` does not exist; its entries (without `.` and `..`) when it is a directory.
    static func entries(of path: String) throws(OutputFileError) -> [String]? {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return nil }
            throw OutputFileError(path: path, action: "open the directory", code: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {  // bounded: the directory's entries
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `mkdir -p`.
    static func createDirectories(_ path: String) throws(OutputFileError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {  // bounded: the path's components
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw OutputFileError(path: prefix, action: "create the directory", code: errno)
            }
            prefix += "/"
        }
    }

    /// Writes `text` to a temporary file beside `path`, then renames it over `path`: a reader never
    /// sees half a file.
    static func write(_ text: String, to path: String) throws(OutputFileError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputFileError(path: path, action: "create the file", code: errno) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {  // bounded: each write moves at least one byte or fails
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw OutputFileError(path: path, action: "write", code: code)
            }
            written += n
        }
        guard close(fd) == 0 else {
            let code = errno
            unlink(temporary)
            throw OutputFileError(path: path, action: "write", code: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw OutputFileError(path: path, action: "replace the file", code: code)
        }
    }

    /// Removes `path` and everything below it (no symbolic link is followed).
    static func removeTree(_ path: String, depth: Int = 0) throws(OutputFileError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw OutputFileError(path: path, action: "remove", code: errno)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            // Bounded: an export is five levels deep; anything past 64 is refused, not recursed into.
            guard depth < 64 else { throw OutputFileError(path: path, action: "remove (nested too deep)", code: ELOOP) }
            for name in try entries(of: path) ?? [] { try removeTree(path + "/" + name, depth: depth + 1) }
            guard rmdir(path) == 0 else { throw OutputFileError(path: path, action: "remove", code: errno) }
        } else if unlink(path) != 0 {
            throw OutputFileError(path: path, action: "remove", code: errno)
        }
    }
}
