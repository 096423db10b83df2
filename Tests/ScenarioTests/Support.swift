import Board
import Devices
import Foundation
import Glibc
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
        return try BoardProfile.load(path: path, registry: DeviceKinds.standard)
    } catch {
        fatalError("\(path): \(error)")
    }
}

func play(_ text: String, seed: UInt64? = nil, handleSignals: Bool = false, prepare: (Reactor) -> Void = { _ in })
    -> ScenarioRunner.Outcome
{
    guard case let .success(spec) = parse(text) else { fatalError("scenario does not parse: \(parse(text))") }
    return try! ScenarioRunner(spec: spec, profile: board(for: spec), seed: seed).run(handleSignals: handleSignals, prepare: prepare)
}

import Reactor

/// The built `uioemu` executable, next to the test bundle.
var uioemuExecutable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uioemu")
}

/// Runs `uioemu` (or another built `executable`) with `arguments` from the repository root; returns
/// exit status, stdout and stderr.
///
/// Through `posix_spawn` of `/bin/sh` with the output redirected to files, not Foundation's
/// `Process` and `Pipe`: tests run in parallel in one process, and a descriptor closed twice by a
/// pipe's bookkeeping would close another test's eventfd or socket that reused the number.
func runUIOEmu(_ arguments: [String], executable: String = "uioemu") throws -> (status: Int32, out: String, err: String) {
    func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let stamp = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-out-\(stamp)").path
    let err = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-err-\(stamp)").path
    defer {
        unlink(out)
        unlink(err)
    }
    let command = "cd \(quote(repositoryRoot.path)) && " + ([uioemuExecutable.deletingLastPathComponent().appendingPathComponent(executable).path] + arguments).map(quote).joined(separator: " ")
        + " >\(quote(out)) 2>\(quote(err))"
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitStatus = (status >> 8) & 0xFF
    return (exitStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}
