import Foundation
import Glibc

/// Runs dtc or cpp and collects its exit status and output. Through `posix_spawnp` with the output
/// redirected to files, not Foundation's `Process` and `Pipe`, whose descriptor bookkeeping can close
/// a descriptor another thread reused (the reason Tests/ScenarioTests/Support.swift does the same).
struct ExternalTool {
    struct Outcome {
        let status: Int32
        let standardError: String
    }

    let name: String

    /// Runs `name arguments...` (found on PATH); nil when it cannot be started (not installed).
    func run(_ arguments: [String], in directory: String) -> Outcome? {
        let errorPath = directory + "/\(name).stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([name] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, name, &actions, nil, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        // Bounded: waitpid returns once the child exits; EINTR only repeats the wait.
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        // posix_spawnp reports a missing program through the child's exit status 127.
        let exited = status & 0x7F == 0
        let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        if code == 127 && output.isEmpty { return nil }
        return Outcome(status: code, standardError: output)
    }
}
