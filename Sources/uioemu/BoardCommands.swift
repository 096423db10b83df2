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

/// `uioemu validate <file>...`: board profiles and scenario files, each told from the other by its
/// top-level keys; a scenario is checked as `play` checks it before running (its board found and
/// loaded too), so what `play` refuses, `validate` refuses with the same located message. Every
/// problem of every file on stderr, exit 2 if there was one.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check board profiles and scenario files for errors.")

    @Argument(help: "Board profile or scenario files.")
    var files: [String]

    @Option(name: .customLong("boards-dir"), help: "Directory of board profiles for the scenarios' board names (default: as play finds them).")
    var boardsDirectory: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one profile or scenario file.") }
    }

    func run() throws {
        var failures = Diagnostics()
        for file in files {
            do throws(Diagnostics) {
                switch try InputKind.of(file: file) {
                case .scenario:
                    let spec = try ScenarioParser.load(path: file)
                    _ = try ScenarioBoard.load(for: spec, boardsDirectory: boardsDirectory)
                    print("\(file): ok (scenario)")
                case .profile:
                    _ = try BoardProfile.load(path: file, registry: DeviceKinds.standard)
                    print("\(file): ok (board profile)")
                }
            } catch {
                failures.append(contentsOf: error)
            }
        }
        try exitIfFailed(failures)
    }
}
