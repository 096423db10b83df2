import Foundation
import Testing

/// `scripts/check-layers` (run by `make test`) against the real tree and against copies of it with
/// one planted violation each: a check that never fails would pass the first test too.
@Suite("the layering check")
struct LayerCheckTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs the check on `root`: its exit status and everything it printed.
    func checkLayers(_ root: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repositoryRoot.appendingPathComponent("scripts/check-layers").path, root.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A copy of Package.swift and Sources in a fresh temporary directory, changed by `plant`.
    func plantedTree(_ plant: (URL) throws -> Void) throws -> URL {
        let files = FileManager.default
        let root = files.temporaryDirectory.appendingPathComponent("check-layers-\(UUID().uuidString)")
        try files.createDirectory(at: root, withIntermediateDirectories: true)
        for item in ["Package.swift", "Sources"] {
            try files.copyItem(at: Self.repositoryRoot.appendingPathComponent(item), to: root.appendingPathComponent(item))
        }
        try plant(root)
        return root
    }

    /// Inserts `line` before line `number` (1-based) of the file at `path` under `root`.
    func insert(_ line: String, before number: Int, in path: String, under root: URL) throws {
        let url = root.appendingPathComponent(path)
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        lines.insert(line, at: number - 1)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    @Test("the tree as committed keeps to the layer table")
    func committedTreePasses() throws {
        let (status, output) = try checkLayers(Self.repositoryRoot)
        #expect(status == 0, "\(output)")
    }

    @Test("Board importing UIO fails, naming the file, the line and the import")
    func boardImportingUIOFails() throws {
        let root = try plantedTree { try insert("import UIO", before: 1, in: "Sources/Board/Bus/Bus.swift", under: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/Board/Bus/Bus.swift:1: Board imports UIO: forbidden"), "\(output)")
    }

    @Test("the driver importing Devices fails, also when the import is not on the first line")
    func driverImportingDevicesFails() throws {
        let root = try plantedTree { try insert("@testable import Devices", before: 3, in: "Sources/Driver/ReceiveDriver.swift", under: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/Driver/ReceiveDriver.swift:3: Driver imports Devices: forbidden"), "\(output)")
    }

    @Test("the device tree importer importing Scenario fails")
    func deviceTreeImportingScenarioFails() throws {
        let root = try plantedTree { try insert("import Scenario", before: 1, in: "Sources/DeviceTree/BoardImporter.swift", under: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/DeviceTree/BoardImporter.swift:1: DeviceTree imports Scenario: forbidden"), "\(output)")
    }

    @Test("the protocol checker importing Scenario or UIO fails")
    func checksImportingScenarioFails() throws {
        let root = try plantedTree {
            try insert("import Scenario", before: 1, in: "Sources/Checks/ProtocolChecker.swift", under: $0)
            try insert("import UIO", before: 1, in: "Sources/Checks/CheckedBoard.swift", under: $0)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/Checks/ProtocolChecker.swift:1: Checks imports Scenario: forbidden"), "\(output)")
        #expect(output.contains("Sources/Checks/CheckedBoard.swift:1: Checks imports UIO: forbidden"), "\(output)")
    }

    @Test("the protocol checker reading a file fails (it is fed by events, not files)")
    func checksFileIOFails() throws {
        let root = try plantedTree {
            try insert("let rules = FileManager.default.contents(atPath: \"rules\")", before: 3, in: "Sources/Checks/ProtocolRule.swift", under: $0)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/Checks/ProtocolRule.swift:3: Checks uses FileManager: forbidden"), "\(output)")
    }

    @Test("a model target using Foundation's file APIs fails")
    func modelFileIOFails() throws {
        let root = try plantedTree {
            try insert("let profileText = try? String(contentsOfFile: \"boards/p2020-fpga.yaml\")", before: 3, in: "Sources/Devices/DeviceSet.swift", under: $0)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Sources/Devices/DeviceSet.swift:3: Devices uses String(contentsOfFile:): forbidden"), "\(output)")
    }

    @Test("a forbidden dependency in Package.swift fails at its line, even with no import using it")
    func packageDependencyFails() throws {
        let root = try plantedTree { root in
            let url = root.appendingPathComponent("Package.swift")
            let text = try String(contentsOf: url, encoding: .utf8)
            let planted = text.replacingOccurrences(
                of: "dependencies: [\"Board\", \"Reactor\", \"Devices\", \"DriverPorts\"",
                with: "dependencies: [\"Board\", \"Reactor\", \"Devices\", \"Driver\", \"DriverPorts\"")
            #expect(planted != text, "the UIO target's dependency list moved: update this test")
            try planted.write(to: url, atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.range(of: #"Package.swift:\d+: UIO depends on Driver: forbidden"#, options: .regularExpression) != nil, "\(output)")
    }

    @Test("a model linking Crypto through a dependency fails, naming the dependency")
    func modelLinkingCryptoFails() throws {
        let root = try plantedTree { root in
            let url = root.appendingPathComponent("Package.swift")
            let text = try String(contentsOf: url, encoding: .utf8)
            let planted = text.replacingOccurrences(
                of: ".target(name: \"Trace\", dependencies: [\"Reactor\"]),",
                with: ".target(name: \"Trace\", dependencies: [\"Reactor\", .product(name: \"Crypto\", package: \"swift-crypto\")]),")
            #expect(planted != text, "the Trace target's declaration moved: update this test")
            try planted.write(to: url, atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(at: root) }
        let (status, output) = try checkLayers(root)
        #expect(status == 1)
        #expect(output.contains("Devices links Crypto (through Trace): forbidden"), "\(output)")
    }
}
