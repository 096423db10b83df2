import Board
import Foundation
import Scenario

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped scenario files, sorted.
func shippedScenarioFiles() -> [String] {
    let dir = repositoryRoot.appendingPathComponent("scenarios")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appendingPathComponent($0).path }
}

func parse(_ text: String, file: String = "test.yaml") -> Result<ScenarioSpec, Diagnostics> {
    do throws(Diagnostics) {
        return .success(try ScenarioParser.parse(text, file: file))
    } catch {
        return .failure(error)
    }
}

func board(for spec: ScenarioSpec) -> BoardProfile {
    var path = spec.board
    if path.hasSuffix(".yaml") {
        path = URL(fileURLWithPath: spec.file).deletingLastPathComponent().appendingPathComponent(path).path
    } else {
        path = repositoryRoot.appendingPathComponent("boards/\(path).yaml").path
    }
    do throws(Diagnostics) {
        return try BoardProfile.load(path: path)
    } catch {
        fatalError("\(path): \(error)")
    }
}

func play(_ text: String, seed: UInt64? = nil, prepare: (Reactor) -> Void = { _ in }) -> ScenarioRunner.Outcome {
    guard case let .success(spec) = parse(text) else { fatalError("scenario does not parse: \(parse(text))") }
    return try! ScenarioRunner(spec: spec, profile: board(for: spec), seed: seed).run(prepare: prepare)
}

import Reactor

/// The built `uioemu` executable, next to the test bundle.
var uioemuExecutable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uioemu")
}

/// Runs `uioemu` with `arguments`; returns exit status, stdout and stderr.
func runUIOEmu(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = uioemuExecutable
    p.arguments = arguments
    p.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
