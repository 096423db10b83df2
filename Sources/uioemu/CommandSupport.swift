import ArgumentParser
import Board
import Devices
import Foundation
import Reactor
import Scenario

/// Input that is wrong but not a usage mistake (a board nobody has, a file that cannot be read or
/// written, a device that is not there): printed as `PATH: error: MESSAGE` (or `error: MESSAGE`)
/// and exit 2, without the usage line, which only follows usage errors (`UIOEmu.main`).
struct InputError: Error, CustomStringConvertible {
    let path: String?
    let message: String

    init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    var description: String { (path.map { "\($0): " } ?? "") + "error: " + message }
}

/// Prints each diagnostic as `file:line:column: error: ...` on stderr and exits 2 if there was any.
func exitIfFailed(_ diagnostics: Diagnostics) throws {
    guard !diagnostics.isEmpty else { return }
    var stderr = StandardError()
    print(diagnostics.description, to: &stderr)
    throw ExitCode(2)
}

/// Every command's `--json`: keys in snake_case (`board_time_ns`), whatever the Swift property is
/// called; keys that are data (a DMASR bit name such as `DMASlvErr`, a finding such as
/// `dma-outside-buffers`, a percentile `p99.9`) are left as they are.
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .custom { path in JSONKey(snakeCase: path.last!.stringValue) }
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `--json` output on one line (play prints one object per scenario).
func encodeJSONLine(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .custom { path in JSONKey(snakeCase: path.last!.stringValue) }
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

struct JSONKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }

    /// `boardTimeNanoseconds` → `board_time_nanoseconds`; a key that is not lowerCamelCase letters
    /// and digits (data, not a property name) stays as it is.
    init(snakeCase key: String) {
        guard let first = key.unicodeScalars.first, first.properties.isLowercase,
              key.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) })
        else {
            stringValue = key
            return
        }
        var result = ""
        for character in key {  // bounded by the key
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        stringValue = result
    }
}

/// Option values that cannot be negative: `--seed -1` says so (`UIOEmu.main` joins `--seed -1`
/// into `--seed=-1`, which ArgumentParser would otherwise read as a missing value and an option).
enum NonNegative {
    static func uint64(_ text: String) throws -> UInt64 {
        guard let value = UInt64(text) else { throw problem(text) }
        return value
    }

    static func int(_ text: String) throws -> Int {
        guard let value = Int(text), value >= 0 else { throw problem(text) }
        return value
    }

    private static func problem(_ text: String) -> ValidationError {
        text.hasPrefix("-") ? ValidationError("must be ≥ 0, found \(text)") : ValidationError("expected a whole number ≥ 0, found \(text)")
    }
}

enum BoardCatalogOption {
    /// A shipped board's name (`NAME` in the boards directory) or a profile's path, loaded; profile
    /// errors are printed as `file:line:column: error: ...` and exit 2; an unknown name lists the
    /// boards there are and suggests the nearest.
    static func loadProfile(_ board: String, boardsDirectory: String?) throws -> BoardProfile {
        let path: String
        switch BoardCatalog.resolve(board, in: BoardCatalog.searchOrder(explicit: boardsDirectory)) {
        case let .success(found): path = found
        case let .failure(unknown): throw InputError(unknown.description)
        }
        do throws(Diagnostics) {
            return try BoardProfile.load(path: path, registry: DeviceKinds.standard)
        } catch {
            try exitIfFailed(error)
            preconditionFailure("exitIfFailed returns only for no diagnostics")
        }
    }

    static func catalog(_ directory: String?) throws -> BoardCatalog {
        if let directory { return BoardCatalog(directory: directory) }
        guard let catalog = BoardCatalog.locate() else {
            throw InputError("no boards/ directory found: run from the uioemu checkout, or set UIOEMU_BOARDS or --boards-dir")
        }
        return catalog
    }
}

/// `--duration` on the command line: the scenario files' durations, and a negative one says so.
func parseDuration(_ text: String, option: String = "--duration") throws -> TimeSpan {
    if text.hasPrefix("-") { throw ValidationError("\(option): must be ≥ 0, found \(text)") }
    guard let span = DurationText.parse(text) else { throw ValidationError("\(option): expected \(DurationText.expectation), found \(text)") }
    return span
}

/// One word of a `reproduce:` line, quoted for a POSIX shell when it holds anything a shell would
/// split or expand, so the line can be pasted as it is (`-- sh -c 'kill -SEGV $$'`).
func shellWord(_ word: String) -> String {
    let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "-_./=:,+@%".unicodeScalars.contains(scalar))
    }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
