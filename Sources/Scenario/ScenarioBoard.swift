import Board
import Devices
import Foundation

/// The board a scenario names, found and loaded the one way `play` and `validate` share: a path
/// relative to the scenario file, or a board name looked up in `--boards-dir`, `$UIOEMU_BOARDS`,
/// the `boards/` directories from the scenario file's own directory upwards, then from the
/// current directory and the executable. A name nobody has is an error at the `board:` value,
/// with the boards there are and the nearest one.
public enum ScenarioBoard {
    public static func load(for spec: ScenarioSpec, boardsDirectory: String? = nil) throws(Diagnostics) -> BoardProfile {
        let directory = URL(fileURLWithPath: spec.file).deletingLastPathComponent().path
        let catalogs = BoardCatalog.searchOrder(from: directory, explicit: boardsDirectory)
        switch BoardCatalog.resolve(spec.board, in: catalogs, relativeTo: directory) {
        case let .success(path):
            guard FileManager.default.isReadableFile(atPath: path) else {
                var diagnostics = Diagnostics()
                diagnostics.error("no readable board profile at \(path) (a path is relative to the scenario file)", at: spec.boardLocation)
                throw diagnostics
            }
            return try BoardProfile.load(path: path, registry: DeviceKinds.standard)
        case let .failure(unknown):
            var diagnostics = Diagnostics()
            diagnostics.error(unknown.message, at: spec.boardLocation, suggestion: unknown.suggestion)
            throw diagnostics
        }
    }
}
