import ArgumentParser
import Board
import Devices
import Foundation
import Scenario

/// `uioemu boards`: the shipped profiles as a table (or JSON).
struct BoardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "boards", abstract: "List the shipped boards.")

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
    var boardsDirectory: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let catalog = try BoardCatalogOption.catalog(boardsDirectory)
        var profiles: [BoardProfile] = []
        var failures = Diagnostics()
        for path in catalog.profilePaths {
            do throws(Diagnostics) {
                profiles.append(try BoardProfile.load(path: path, registry: DeviceKinds.standard))
            } catch {
                failures.append(contentsOf: error)
            }
        }
        let listing = BoardListing(profiles: profiles)
        print(json ? try encodeJSON(listing) : listing.text)
        try exitIfFailed(failures)
    }
}

/// `uioemu board show <name|path>`.
struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board", abstract: "Inspect a board profile.", subcommands: [Show.self, BoardImportCommand.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print a board's memory map, interrupt routing and UIO nodes.")

        @Argument(help: "A shipped board's name (boards/NAME.yaml) or a profile's path.")
        var board: String

        @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
        var boardsDirectory: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
            let report = BoardReport(profile: profile)
            if json { print(try encodeJSON(report)) } else { print(report.text, terminator: "") }
        }
    }
}

/// `uioemu validate <file>...`: board profiles and scenario files (a file with a top-level `board`
/// key is a scenario); every problem of every file on stderr, exit 2 if there was one.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check board profiles and scenario files for errors.")

    @Argument(help: "Board profile or scenario files.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one profile or scenario file.") }
    }

    func run() throws {
        var failures = Diagnostics()
        for file in files {
            do throws(Diagnostics) {
                if Self.isScenario(file) {
                    _ = try ScenarioParser.load(path: file)
                } else {
                    _ = try BoardProfile.load(path: file, registry: DeviceKinds.standard)
                }
                print("\(file): ok")
            } catch {
                failures.append(contentsOf: error)
            }
        }
        try exitIfFailed(failures)
    }

    /// A scenario names the board it runs on; a profile never has that key.
    static func isScenario(_ file: String) -> Bool {
        // A file too large or unreadable is left to the profile loader, which says why.
        guard let text = try? InputFile.read(file, what: "a file") else { return false }
        return text.split(separator: "\n").contains { $0.hasPrefix("board:") }
    }
}

enum BoardCatalogOption {
    /// A shipped board's name (boards/NAME.yaml) or a profile's path, loaded; profile errors are
    /// printed as `file:line:column: error: ...` and exit 2.
    static func loadProfile(_ board: String, boardsDirectory: String?) throws -> BoardProfile {
        let path = BoardCatalog.looksLikePath(board) ? board : try catalog(boardsDirectory).path(for: board)
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
            throw ValidationError("No boards/ directory found: run from the uioemu checkout, or set UIOEMU_BOARDS or --boards-dir.")
        }
        return catalog
    }
}

/// Prints each diagnostic as `file:line:column: error: ...` on stderr and exits 2 if there was any.
func exitIfFailed(_ diagnostics: Diagnostics) throws {
    guard !diagnostics.isEmpty else { return }
    var stderr = StandardError()
    print(diagnostics.description, to: &stderr)
    throw ExitCode(2)
}

func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
