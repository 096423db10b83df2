import Board
import Devices
import Foundation
import Glibc
import Scenario

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped scenario files, sorted. Throws when there are none (a missing or empty scenarios/
/// directory): a parameterised test over them must fail then, not pass with zero cases.
func shippedScenarioFiles() throws -> [String] {
    try scenarioFiles(in: repositoryRoot.appendingPathComponent("scenarios"))
}

/// The `.yaml` files of `dir`, sorted; throws when it cannot be read or holds none.
func scenarioFiles(in dir: URL) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    let files = names.filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appendingPathComponent($0).path }
    guard !files.isEmpty else { throw NoScenarios(directory: dir.path) }
    return files
}

struct NoScenarios: Error, CustomStringConvertible {
    let directory: String
    var description: String { "no scenario files (*.yaml) in \(directory)" }
}

func parse(_ text: String, file: String = "test.yaml") -> Result<ScenarioSpec, Diagnostics> {
    do throws(Diagnostics) {
        return .success(try ScenarioParser.parse(text, file: file))
    } catch {
        return .failure(error)
    }
}

/// The scenario's board, found as `play` finds it (the repository's boards/ for a name).
func board(for spec: ScenarioSpec) -> BoardProfile {
    do throws(Diagnostics) {
        return try ScenarioBoard.load(for: spec, boardsDirectory: repositoryRoot.appendingPathComponent("boards").path)
    } catch {
        fatalError("\(spec.file): \(error)")
    }
}

/// Plays scenario `text` as if it were `file` (a board path in it is relative to that file).
func play(_ text: String, file: String = "test.yaml", seed: UInt64? = nil, handleSignals: Bool = false, prepare: (Reactor) -> Void = { _ in })
    -> ScenarioRunner.Outcome
{
    guard case let .success(spec) = parse(text, file: file) else { fatalError("scenario does not parse: \(parse(text, file: file))") }
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
/// `environment`: variables set for the command only (`NAME=value`, as a shell sets them).
func runUIOEmu(_ arguments: [String], executable: String = "uioemu", environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let err = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-err-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
    defer { unlink(err) }
    let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuoted($0.value)) " }.joined()
    let command = assignments + ([uioemuExecutable.deletingLastPathComponent().appendingPathComponent(executable).path] + arguments).map(shellQuoted).joined(separator: " ")
    let run = try runShellLine(command + " 2>\(shellQuoted(err))")
    return (run.status, run.out, (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// A command line for /bin/sh, run from the repository root (through `posix_spawn`, as `runUIOEmu`
/// says why); its exit status and what it wrote to stdout, which goes to a file.
func runShellLine(_ line: String) throws -> (status: Int32, out: String) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-out-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
    defer { unlink(out) }
    let command = "cd \(shellQuoted(repositoryRoot.path)) && " + line + " >\(shellQuoted(out))"
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return ((status >> 8) & 0xFF, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
}

/// `s` as one word for /bin/sh.
func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// A `uioemu` process started on its own (not through `runUIOEmu`'s shell), its output going to
/// files, so a test can signal exactly it and see how it exits. It starts with SIGINT and SIGTERM
/// at their defaults and unblocked, whatever the test runner's threads have.
struct SpawnedUIOEmu {
    let pid: pid_t
    let out: String
    let err: String

    init(_ arguments: [String]) throws {
        let stamp = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        out = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-spawn-out-\(stamp)").path
        err = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-spawn-err-\(stamp)").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), stops = sigset_t()
        sigemptyset(&none)
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &stops)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // From the repository root, through a shell that execs uioemu: the pid is uioemu's own.
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = "cd \(quote(repositoryRoot.path)) && exec " + ([uioemuExecutable.path] + arguments).map(quote).joined(separator: " ")
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        self.pid = pid
    }

    /// Waits until uioemu has installed its SIGINT and SIGTERM handlers (the caught-signal mask in
    /// /proc/PID/status), so a signal sent next is one it handles, not one that kills it. A wait for
    /// a condition, not for a time: false if it never came within the bound or the process ended.
    func waitForStopSignalHandlers() -> Bool {
        let wanted: UInt64 = (1 << (UInt64(SIGINT) - 1)) | (1 << (UInt64(SIGTERM) - 1))
        for _ in 0..<20_000 {  // bounded: 20,000 looks, 1 ms apart at most
            guard let mask = Self.caughtSignals(pid) else { return false }
            if mask & wanted == wanted { return true }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
        return false
    }

    /// The SigCgt mask of /proc/PID/status (read with read(2): /proc files report no size).
    static func caughtSignals(_ pid: pid_t) -> UInt64? {
        let fd = open("/proc/\(pid)/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }) else { return nil }
        return UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    }

    /// Waits for the process (at most about a minute, then kills it: a test never leaves one
    /// behind); `exited` is false when a signal ended it (then `status` is the signal).
    func wait() -> (exited: Bool, status: Int32, out: String, err: String) {
        var raw: Int32 = 0
        var reaped = false
        for _ in 0..<60_000 {  // bounded: 60,000 looks, 1 ms apart at most
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { reaped = true; break }
            if r < 0 && errno != EINTR { break }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
        if !reaped {
            kill(pid, SIGKILL)
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        }
        defer {
            unlink(out)
            unlink(err)
        }
        let signalled = raw & 0x7F
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        return signalled == 0 ? (true, (raw >> 8) & 0xFF, output, errors) : (false, signalled, output, errors)
    }
}

/// A scenario file in a fresh temporary directory (removed with `directory`).
func temporaryScenario(_ text: String, name: String = "scenario.yaml") throws -> (directory: URL, file: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let file = directory.appendingPathComponent(name).path
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    return (directory, file)
}
