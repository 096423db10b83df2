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

        @Argument(help: "Directory to write into (created if missing; existing files are replaced).")
        var directory: String

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
            let root = URL(fileURLWithPath: directory)
            for file in SysfsTree.files(for: system) {
                let url = root.appendingPathComponent(file.path)
                do {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(file.contents.utf8).write(to: url)
                } catch {
                    throw InputError("cannot write: \((error as NSError).localizedDescription)", path: url.path)
                }
            }
            print("wrote \(system.devices.count) UIO device(s) and \(buffers) u-dma-buf buffer(s) under \(directory)")
        }
    }
}
