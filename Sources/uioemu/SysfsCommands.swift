import ArgumentParser
import Board
import Foundation
import UIO

/// `uioemu sysfs export --board NAME DIR`: the sysfs tree a real system would show for the board's
/// UIO nodes and DMA buffers, for the Linux backend and for reading next to a real board's `/sys`.
struct SysfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sysfs", abstract: "Export the sysfs view of a board.", subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write class/uio/uioN/... and class/u-dma-buf/udmabufN/... under DIR.")

        @Option(help: "A shipped board's name or a profile's path.")
        var board: String

        @Option(name: .customLong("boards-dir"), help: "Directory of board profiles (default: $UIOEMU_BOARDS, else the nearest boards/).")
        var boardsDirectory: String?

        @Option(help: "How many u-dma-buf buffers to allocate from the DMA pool, as the driver would at start.", transform: NonNegative.int)
        var buffers = 8

        @Option(name: .customLong("buffer-size"), help: "Size of each buffer: bytes, or a number with B, KiB, MiB, GiB.")
        var bufferSize = "4 KiB"

        @Argument(help: "Directory to write into: new or empty (created if missing).")
        var directory: String

        @Flag(help: "Replace an earlier export in DIR (a directory holding only class/).")
        var force = false

        func validate() throws {
            guard (0...1024).contains(buffers) else { throw ValidationError("--buffers: expected 0 to 1024, found \(buffers)") }
            _ = try bufferBytes()
        }

        func bufferBytes() throws -> UInt64 {
            var diagnostics = Diagnostics()
            let document = YAMLDocument(text: bufferSize, file: "--buffer-size", diagnostics: &diagnostics)
            guard let bytes = document.root?.size(&diagnostics), diagnostics.isEmpty else {
                throw ValidationError("--buffer-size: expected \(YAMLValue.sizeExpectation), found \(bufferSize)")
            }
            return bytes
        }

        func run() throws {
            let profile = try BoardCatalogOption.loadProfile(board, boardsDirectory: boardsDirectory)
            let system: UIOSystem
            switch UIOSystem.withBuffers(profile: profile, count: buffers, byteCount: try bufferBytes()) {
            case let .success(built): system = built
            case let .failure(failure): throw InputError("\(failure)")
            }
            var stderr = StandardError()
            let refusal: String?
            do throws(OutputFileError) {
                refusal = try prepareDirectory()
            } catch {
                print(error.description, to: &stderr)
                throw ExitCode(2)
            }
            if let refusal {
                print("\(directory): error: \(refusal)", to: &stderr)
                throw ExitCode(2)
            }
            do throws(OutputFileError) {
                for file in SysfsTree.files(for: system) {
                    let path = directory + "/" + file.path
                    try FileTree.createDirectories(String(path[..<path.lastIndex(of: "/")!]))
                    try FileTree.write(file.contents, to: path)
                }
            } catch {
                print(error.description, to: &stderr)
                throw ExitCode(2)
            }
            print("wrote \(system.devices.count) UIO device(s) and \(buffers) u-dma-buf buffer(s) under \(directory)")
        }

        /// An old tree must not survive next to the new one (a `uio5` the board no longer has): a
        /// directory with anything in it is refused (the reason is returned), and `--force` clears
        /// an earlier export only.
        func prepareDirectory() throws(OutputFileError) -> String? {
            guard let entries = try FileTree.entries(of: directory), !entries.isEmpty else { return nil }
            let listed = entries.prefix(3).map { "'\(Excerpt.of($0))'" }.joined(separator: ", ") + (entries.count > 3 ? ", ..." : "")
            guard force else {
                return "not empty (\(listed)): expected a new or empty directory, or --force to replace an earlier export"
            }
            guard entries == ["class"] else {
                return "holds more than an earlier export (\(listed)): --force replaces only a directory that holds class/ alone"
            }
            try FileTree.removeTree(directory + "/class")
            return nil
        }
    }
}
