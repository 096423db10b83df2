import Board
import Checks
import Devices
import Foundation
import Reactor
import Scenario
import Trace

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A shipped board profile by name.
func shippedBoard(_ name: String) throws -> BoardProfile {
    try BoardProfile.load(path: repositoryRoot.appendingPathComponent("boards/\(name).yaml").path, registry: DeviceKinds.standard)
}

/// The scenario `text` (located as `file`, so a relative board path resolves), played on its board.
func play(_ text: String, file: String, strict: Bool = false) throws -> ScenarioRunner.Outcome {
    let spec = try ScenarioParser.parse(text, file: file)
    let profile = try spec.board.hasSuffix(".yaml")
        ? BoardProfile.load(path: URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(spec.board).path,
                            registry: DeviceKinds.standard)
        : shippedBoard(spec.board)
    return try ScenarioRunner(spec: spec, profile: profile, strict: strict).run()
}

/// The text of a file in the repository.
func repositoryText(_ path: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
}
