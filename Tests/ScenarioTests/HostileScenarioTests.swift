import Board
import Foundation
import Glibc
import Scenario
import Testing

/// Scenario files read through the same YAML reader as profiles: the hostile inputs of issue 16
/// end at once with one located error here too.
@Suite("Scenario files: hostile inputs")
struct HostileScenarioTests {
    @Test("a timeline step repeated through an anchor and aliases is refused at the anchor")
    func aliasesAreRefused() {
        let text = """
            board: p2020-fpga
            duration: 10ms
            timeline:
              - &fault { at: 2ms, inject: slave-error }
              - *fault
            """
        guard case let .failure(d) = parse(text, file: "alias.yaml") else {
            Issue.record("a scenario with aliases parsed")
            return
        }
        #expect(d.all.map(\.description) == [
            "alias.yaml:4:5: error: anchor '&fault': expected every value written out (anchors and aliases are not accepted in board profiles and scenarios)",
        ])
    }

    @Test("a 17 MiB scenario file is refused with its size; a missing one names the errno in words")
    func sizeAndFileSystemErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-big-\(UUID().uuidString).yaml").path
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        #expect(ftruncate(fd, 17 << 20) == 0)
        close(fd)
        func message(_ path: String) -> String {
            do throws(Diagnostics) {
                _ = try ScenarioParser.load(path: path)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message(path) == "\(path):1:1: error: the file is 17 MiB (17825792 bytes): expected at most 16 MiB for a scenario")
        #expect(message("/nonexistent.yaml") == "/nonexistent.yaml:1:1: error: cannot open a scenario: No such file or directory (errno 2)")
    }
}
