import Board
import Devices
import Foundation
import Glibc
import Testing

/// Inputs a new user (or a fuzzer) hands the profile loader that once ran for ever, aborted or
/// echoed raw bytes (issue 16): each ends at once with one located error.
@Suite struct HostileInputTests {
    /// Eleven levels of mappings whose keys are aliases of the level below: Yams composed each
    /// level about 9× slower than the last (eight took 16 s).
    static let aliasBomb = (["a0: &a0 {x: 1, y: 2}"] + (1...11).map { "a\($0): &a\($0) {*a\($0 - 1) : 1, *a\($0 - 1) : 2, x\($0): *a\($0 - 1)}" })
        .joined(separator: "\n")

    func elapsedSeconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let duration = clock.measure(body)
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("YAML aliases used as mapping keys are refused at the first anchor, in well under a second")
    func aliasesAsKeysAreRefusedAtOnce() {
        var found: [Diagnostic] = []
        let seconds = elapsedSeconds { found = diagnostics(of: Self.aliasBomb, file: "bomb.yaml") }
        #expect(seconds < 0.5)
        #expect(found.map(\.description) == [
            "bomb.yaml:1:5: error: anchor '&a0': expected every value written out (anchors and aliases are not accepted in board profiles and scenarios)",
        ])
    }

    @Test("an alias without its anchor is refused where it stands")
    func aLoneAliasIsRefused() {
        let found = diagnostics(of: profile(replacing: [10: "    size: *big"]))
        #expect(found.count == 1)
        #expect(found.first?.location.description == "test.yaml:10:11")
        #expect(found.first?.message.hasPrefix("alias '*big'") == true)
    }

    @Test("100,000 nested brackets are refused at the 65th level instead of overflowing the stack")
    func deepNestingIsRefused() {
        let found = diagnostics(of: "name: " + String(repeating: "[", count: 100_000))
        #expect(found.map(\.description) == ["test.yaml:1:70: error: lists and mappings nest deeper than 64 levels: expected a flatter file"])
    }

    @Test("profile text over 16 MiB is refused with its size before it is parsed")
    func oversizedTextIsRefused() {
        let text = String(repeating: "#", count: 17 << 20)
        var found: [Diagnostic] = []
        let seconds = elapsedSeconds { found = diagnostics(of: text, file: "big.yaml") }
        #expect(seconds < 0.5)
        #expect(found.map(\.description) == [
            "big.yaml:1:1: error: the file is 17 MiB (17825792 bytes): expected at most 16 MiB (a board profile or scenario is a few KiB)",
        ])
    }

    @Test("a 1 GiB file is refused from its size without being read")
    func anOversizedFileIsNotRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-huge-\(UUID().uuidString).yaml").path
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        #expect(ftruncate(fd, 1 << 30) == 0, "sparse: takes no disk space")
        close(fd)
        var message = ""
        let seconds = elapsedSeconds {
            do throws(Diagnostics) {
                _ = try BoardProfile.load(path: path, registry: DeviceKinds.standard)
            } catch {
                message = error.description
            }
        }
        #expect(seconds < 0.5)
        #expect(message == "\(path):1:1: error: the file is 1 GiB (1073741824 bytes): expected at most 16 MiB for a board profile")
    }

    @Test("a missing file and a directory are named with the errno in words")
    func fileSystemErrorsNameThePathAndErrno() {
        func message(_ path: String) -> String {
            do throws(Diagnostics) {
                _ = try BoardProfile.load(path: path, registry: DeviceKinds.standard)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("/nonexistent/board.yaml") == "/nonexistent/board.yaml:1:1: error: cannot open a board profile: No such file or directory (errno 2)")
        #expect(message("/tmp") == "/tmp:1:1: error: cannot read a board profile: Is a directory (errno 21)")
    }

    @Test("bytes that are not UTF-8 are located at the first bad byte")
    func nonUTF8IsLocated() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uioemu-latin1-\(UUID().uuidString).yaml").path
        try Data("name: b\u{F6}rd\ndescription: caf".utf8 + [0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        do throws(Diagnostics) {
            _ = try BoardProfile.load(path: path, registry: DeviceKinds.standard)
            Issue.record("loaded")
        } catch {
            #expect(error.description == "\(path):2:17: error: expected UTF-8 text, found the byte 0xE9")
        }
    }

    @Test("a bad value is echoed as a short excerpt with control characters escaped")
    func badValuesAreEchoedEscapedAndShort() {
        let found = diagnostics(of: profile(replacing: [1: "name: \"\\e[2J\\e[31mboard\\u0007 and more text than any name would ever need to have\""]))
        #expect(found.map(\.message) == [
            "expected a name (letters, digits, '-', '_' or '.'), found the string '\\u{1B}[2J\\u{1B}[31mboard\\u{7} and more text than any n... (67 characters)'",
        ])
        let longValue = String(repeating: "k", count: 1_000_000)
        let sizeMessage = diagnostics(of: profile(replacing: [10: "    size: \(longValue)"])).first?.message ?? ""
        #expect(sizeMessage.hasSuffix("found 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (1000000 characters)'"), "\(sizeMessage.prefix(300))")
        #expect(sizeMessage.count < 300)
        let longKey = String(repeating: "k", count: 1000)  // libyaml's longest key
        let keyMessage = diagnostics(of: profile(appending: ["\(longKey): 1"])).first?.message ?? ""
        #expect(keyMessage.hasPrefix("unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (1000 characters)'"), "\(keyMessage.prefix(300))")
    }
}
