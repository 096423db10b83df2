import SystemPackage

/// Reading and writing sysfs attributes through the `SystemCalls` seam, and parsing the formats the
/// kernel prints (`sysfs_emit`: one value and a newline, at most one page).
extension SystemCalls {
    /// The attribute as text (an attribute is at most a page; reading stops after about 64 KiB, so a
    /// wrong path to a huge file gives a format error rather than a long read).
    func readAttribute(_ path: FilePath) throws(LinuxUIOError) -> String {
        let fd = try open(path, .readOnly, [.closeOnExec]).get(orThrow: "open", path)
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        let chunk = 4096
        while bytes.count <= 65536 {
            let before = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            let n = try bytes.withUnsafeMutableBytes { read(fd, UnsafeMutableRawBufferPointer(rebasing: $0[before...])) }
                .get(orThrow: "read", path)
            bytes.removeLast(chunk - n)
            if n == 0 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to the attribute in one write(2), as `echo text > path` does (O_TRUNC so a
    /// regular file standing in for the attribute holds exactly the last value).
    func writeAttribute(_ path: FilePath, _ text: StaticString) throws(LinuxUIOError) {
        try writeAttribute(path, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Writes `value` in decimal and a newline (what kstrtoull(buf, 0, ...) accepts), formatted on the
    /// stack so a sync on the completion path allocates nothing.
    func writeAttribute(_ path: FilePath, decimal value: UInt64) throws(LinuxUIOError) {
        let result: Result<Void, LinuxUIOError> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var end = digits.count - 1
            digits[end] = UInt8(ascii: "\n")
            var rest = value
            repeat {
                end -= 1
                digits[end] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest != 0
            do throws(LinuxUIOError) {
                try writeAttribute(path, UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(digits)[end...]))
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    func writeAttribute(_ path: FilePath, _ bytes: UnsafeRawBufferPointer) throws(LinuxUIOError) {
        let fd = try open(path, .writeOnly, [.closeOnExec, .truncate]).get(orThrow: "open", path)
        defer { _ = close(fd) }
        let n = try write(fd, bytes).get(orThrow: "write", path)
        guard n == bytes.count else { throw .shortTransfer("write", path: path.string, expected: bytes.count, actual: n) }
    }
}

extension Result where Failure == Errno {
    /// The value, or a located `LinuxUIOError.systemCall`.
    func get(orThrow call: String, _ path: FilePath) throws(LinuxUIOError) -> Success {
        switch self {
        case let .success(value): return value
        case let .failure(errno): throw .systemCall(call, path: path.string, errno)
        }
    }
}

/// The formats of the attributes the backend reads.
enum SysfsFormat {
    /// The value without the one trailing newline the kernel prints.
    static func line(_ text: String) -> Substring {
        text.hasSuffix("\n") ? text.dropLast() : Substring(text)
    }

    /// `0x` and hex digits, then a newline: `%pa`/`%pad` (full width) and `0x%llx`.
    static func hex(_ text: String, path: FilePath, expected: String) throws(LinuxUIOError) -> UInt64 {
        let value = line(text)
        guard value.hasPrefix("0x"), value.count > 2, value.count <= 18,
              let number = UInt64(value.dropFirst(2), radix: 16)
        else { throw .format(path: path.string, expected: expected, found: shown(text)) }
        return number
    }

    /// Decimal digits, then a newline: `%zu`, `%u`, `%d` of a non-negative value.
    static func decimal(_ text: String, path: FilePath, expected: String) throws(LinuxUIOError) -> UInt64 {
        let value = line(text)
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(value)
        else { throw .format(path: path.string, expected: expected, found: shown(text)) }
        return number
    }

    /// A name attribute (`%s\n`): one line; empty only where `allowEmpty` (uio.c prints "" for a
    /// map without a name).
    static func name(_ text: String, path: FilePath, allowEmpty: Bool = false) throws(LinuxUIOError) -> String {
        let value = line(text)
        guard allowEmpty || !value.isEmpty, !value.contains("\n") else {
            throw .format(path: path.string, expected: "a name on one line", found: shown(text))
        }
        return String(value)
    }

    /// What was found, for an error message: without the trailing newline, at most 60 characters,
    /// and every line break, tab, escape sequence or other invisible character (bytes that are not
    /// UTF-8 read as U+FFFD) written as an escape (`\n`, `\u{1B}`), so a garbage file cannot reach
    /// the terminal raw.
    static func shown(_ text: String, limit: Int = 60) -> String {
        let value = text.hasSuffix("\n") ? text.dropLast() : Substring(text)
        var shown = ""
        var characters = 0
        for scalar in value.unicodeScalars {  // bounded: stops after `limit` characters
            if characters == limit { return shown + "... (\(value.unicodeScalars.count) characters)" }
            switch scalar {
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
                    shown += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                default:
                    shown.unicodeScalars.append(scalar)
                }
            }
            characters += 1
        }
        return shown
    }
}
