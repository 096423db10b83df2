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

/// The built `uioemu` executable, next to the test bundle.
var uioemuExecutable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uioemu")
}

private func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// Runs `uioemu` with `arguments` from the repository root; returns exit status, stdout and stderr.
/// Through `posix_spawn` of /bin/sh with the output in files (not Foundation's `Process`: tests run
/// in parallel in one process, and a pipe's bookkeeping could close another test's descriptor).
func runUIOEmu(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let run = try BackgroundUIOEmu(arguments)
    let status = run.wait()
    defer { run.reap() }
    return (status, run.output, run.errors)
}

/// Runs a shell command line from the repository root; exit status, stdout and stderr.
func runShell(_ line: String) throws -> (status: Int32, out: String, err: String) {
    let run = try BackgroundUIOEmu(shell: line)
    let status = run.wait()
    defer { run.reap() }
    return (status, run.output, run.errors)
}

/// `uioemu` started in the background, for tests that act on it while it runs.
final class BackgroundUIOEmu {
    let pid: pid_t
    let outPath: String
    let errPath: String
    private var status: Int32? = nil

    convenience init(_ arguments: [String]) throws {
        try self.init(shell: "exec " + ([uioemuExecutable.path] + arguments).map(quote).joined(separator: " "))
    }

    /// `line` run by /bin/sh from the repository root, its output in files.
    init(shell line: String) throws {
        let stamp = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        outPath = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-attach-out-\(stamp)").path
        errPath = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-attach-err-\(stamp)").path
        // With `exec`, the shell becomes uioemu, so `pid` is uioemu's own.
        let command = "cd \(quote(repositoryRoot.path)) && " + line + " >\(quote(outPath)) 2>\(quote(errPath)) </dev/null"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        self.pid = pid
    }

    var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits for uioemu to exit; its exit status.
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        status = code
        return code
    }

    /// Ends uioemu if it still runs and removes the output files.
    func reap() {
        if status == nil {
            kill(pid, SIGKILL)
            wait()
        }
        unlink(outPath)
        unlink(errPath)
    }

    /// The pid of uioemu's child process named `name`, once it exists (at most 20 s of wall time).
    func waitForChild(named name: String) -> pid_t? {
        for _ in 0..<2_000 {  // bounded: 2,000 looks 10 ms apart
            if let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) {
                for word in children.split(separator: " ") {
                    guard let child = pid_t(word) else { continue }
                    let comm = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                    if comm == name { return child }
                }
            }
            usleep(10_000)
        }
        return nil
    }

    /// Waits (at most 20 s of wall time) until process `child` has opened a board file: besides the
    /// attach transport's notify eventfd it holds another (the stand-in for /dev/uioN).
    func waitUntilBoardFileOpen(_ child: pid_t) {
        for _ in 0..<2_000 {  // bounded: 2,000 looks 10 ms apart
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(child)/fd")) ?? []
            let eventfds = fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/fd/\($0)")) == "anon_inode:[eventfd]" }
            if eventfds.count >= 2 { return }
            usleep(10_000)
        }
    }
}
