import SystemPackage

/// Why the Linux backend could not find, open, map or use a UIO device or a u-dma-buf buffer.
/// Every case names the file it is about and says what was expected and what was found.
public enum LinuxUIOError: Error, Equatable, CustomStringConvertible {
    /// A system call on `path` failed (`call` is its name: "open", "mmap", ...).
    case systemCall(_ call: String, path: String, Errno)
    /// A sysfs attribute does not hold what the kernel prints there.
    case format(path: String, expected: String, found: String)
    /// No `class/uio/uioX/name` under `directory` holds `name`; `available` lists what was there.
    case deviceNotFound(name: String, directory: String, available: [String])
    /// The device has no `maps/mapN` with this index.
    case noSuchMap(path: String, index: Int, available: [Int])
    /// A map's or buffer's values cannot be mapped (zero size, offset beyond a page, overflow).
    case invalidMap(path: String, reason: String)
    /// A regular file standing in for a device node is shorter than the range to be mapped.
    case shortFile(path: String, fileBytes: Int64, neededBytes: Int64, purpose: String)
    /// A read or write moved fewer bytes than the kernel interface always moves.
    case shortTransfer(_ call: String, path: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .systemCall(call, path, errno):
            return "\(path): \(call) failed: \(errno) (errno \(errno.rawValue))"
        case let .format(path, expected, found):
            return "\(path): expected \(expected), found '\(found)'"
        case let .deviceNotFound(name, directory, available):
            let list = available.isEmpty ? "no UIO devices" : available.joined(separator: ", ")
            return "\(directory): expected a uioX whose name is '\(name)', found \(list)"
        case let .noSuchMap(path, index, available):
            let list = available.isEmpty ? "no maps" : available.map { "map\($0)" }.joined(separator: ", ")
            return "\(path): expected map\(index), found \(list)"
        case let .invalidMap(path, reason):
            return "\(path): \(reason)"
        case let .shortFile(path, fileBytes, neededBytes, purpose):
            return "\(path): expected at least \(neededBytes) bytes for \(purpose), found a regular file of \(fileBytes) bytes"
        case let .shortTransfer(call, path, expected, actual):
            return "\(path): expected \(call) to move \(expected) bytes, it moved \(actual)"
        }
    }
}
