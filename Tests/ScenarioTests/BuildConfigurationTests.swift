import Foundation
import Testing

/// The trace hash is the run's fingerprint in every build: the release build (`make test` builds
/// it) plays each shipped virtual-time scenario to the same canonical trace as the debug build.
@Suite("Debug and release builds give the same traces (the executables)")
struct BuildConfigurationTests {
    /// `.build/release/uioemu`, beside the debug build's directory.
    static var release: URL {
        uioemuExecutable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("release/uioemu")
    }

    @Test("every shipped virtual-time scenario has the same trace hash in the debug and the release build")
    func sameHashes() throws {
        let release = Self.release.path
        try #require(FileManager.default.isExecutableFile(atPath: release),
                     "no release build at \(release): build it with `swift build -c release --product uioemu` (make test does)")
        let files = try shippedScenarioFiles().filter { !(try String(contentsOfFile: $0, encoding: .utf8)).contains("time: realtime") }
        func hashes(_ executable: String) throws -> [String: String] {
            let r = try runUIOEmu(["play", "--json"] + files, executable: executable)
            #expect(r.status == 0, "\(executable): \(r.err)")
            var result: [String: String] = [:]
            for line in r.out.split(separator: "\n") where line.hasPrefix("{") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                result[try #require(object["scenario"] as? String)] = try #require(object["trace_hash"] as? String)
            }
            return result
        }
        let debug = try hashes("uioemu")
        let optimised = try hashes("../release/uioemu")
        #expect(debug.count == files.count)
        #expect(debug == optimised)
    }
}
