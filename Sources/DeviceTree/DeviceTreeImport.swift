import Board
import Devices

/// `uioemu board import` without the command line: file in, profile text out, checked by the same
/// loader every command uses.
public enum DeviceTreeImport {
    public struct Outcome: Sendable {
        public var board: ImportedBoard
        public var profileText: String
    }

    /// Reads `path` (.dts or .dtb), imports it as the profile `name`, and loads the result with
    /// `DeviceKinds.standard` so that nothing is written that `uioemu validate` would refuse.
    public static func run(path: String, includeDirectories: [String] = [], name: String) -> Result<Outcome, DeviceTreeErrors> {
        let input: DeviceTreeInput
        switch DeviceTreeSource.load(path: path, includeDirectories: includeDirectories) {
        case .success(let loaded): input = loaded
        case .failure(let errors): return .failure(errors)
        }
        let tree: DeviceTree
        switch DeviceTree.parse(blob: input.blob, file: path) {
        case .success(let parsed): tree = parsed
        case .failure(let error): return .failure(DeviceTreeErrors([error]))
        }
        let board: ImportedBoard
        switch BoardImporter.importBoard(tree, options: ImportOptions(name: name, source: path, header: input.header)) {
        case .success(let imported): board = imported
        case .failure(let errors): return .failure(errors)
        }
        let text = ProfileText.render(board)
        do throws(Diagnostics) {
            _ = try BoardProfile.parse(text, file: "\(name).yaml", registry: DeviceKinds.standard)
        } catch {
            return .failure(DeviceTreeErrors(error.all.map {
                DeviceTreeError(
                    "the imported profile does not load (\($0.location.line):\($0.location.column) of the output): \($0.message)",
                    at: DeviceTreeLocation(file: path))
            }))
        }
        return .success(Outcome(board: board, profileText: text))
    }

    /// The profile name for an output or input path: its file name without the extension.
    public static func profileName(forPath path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let stem = file.split(separator: ".", maxSplits: 1).first.map(String.init) ?? file
        return ProfileNames.sanitized(stem)
    }
}
