import Board
import Devices
import Foundation

/// The repository root, found from this file's path (Tests/AttachTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

enum ShippedBoard {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func profile(_ name: String) throws -> BoardProfile {
        do throws(Diagnostics) {
            return try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/\(name).yaml").path, registry: DeviceKinds.standard)
        } catch {
            throw LoadError(description: "boards/\(name).yaml does not load: \(error)")
        }
    }
}
