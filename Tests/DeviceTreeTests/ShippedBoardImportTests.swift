import Board
import DeviceTree
import Devices
import Foundation
import Testing

@Suite("the shipped boards' device trees (uioemu board import, the executable)", .serialized)
struct ShippedBoardImportTests {
    static let names = ["p2020-fpga", "ml507-ppc440"]

    @Test(arguments: names)
    func importingTheShippedDTSPrintsTheShippedProfileExactly(name: String) throws {
        let r = try runUIOEmu(["board", "import", "boards/dts/\(name).dts"])
        #expect(r.status == 0, "\(r.err)")
        let shipped = try String(contentsOf: repositoryRoot.appendingPathComponent("boards/\(name).yaml"), encoding: .utf8)
        #expect(r.out == shipped, "regenerate with: uioemu board import boards/dts/\(name).dts -o boards/\(name).yaml")
        #expect(r.err.hasPrefix("imported 1 device"), "\(r.err)")
    }

    /// The decompiled blob (`dtc -O dts`) imports to the same board as the source: every address and
    /// interrupt `board show` prints comes through dtc's own rendering of the tree.
    @Test(arguments: names)
    func theImportRoundTripsThroughDtcsDecompiledTree(name: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dtb = directory.appendingPathComponent("\(name).dtb").path
        let decompiled = directory.appendingPathComponent("\(name).dts").path
        let profile = directory.appendingPathComponent("\(name).yaml").path
        let decompiledProfile = directory.appendingPathComponent("decompiled/\(name).yaml")
        try FileManager.default.createDirectory(at: decompiledProfile.deletingLastPathComponent(), withIntermediateDirectories: true)
        #expect(dtc(["-q", "-@", "-I", "dts", "-O", "dtb", "-o", dtb, repositoryRoot.appendingPathComponent("boards/dts/\(name).dts").path]) == 0)
        #expect(dtc(["-q", "-I", "dtb", "-O", "dts", "-o", decompiled, dtb]) == 0)
        #expect(try runUIOEmu(["board", "import", dtb, "-o", profile]).status == 0)
        #expect(try runUIOEmu(["board", "import", decompiled, "-o", decompiledProfile.path]).status == 0)
        let fromBlob = try runUIOEmu(["board", "show", "--json", profile])
        let fromDecompiled = try runUIOEmu(["board", "show", "--json", decompiledProfile.path])
        let shipped = try runUIOEmu(["board", "show", "--json", "boards/\(name).yaml"])
        #expect(fromBlob.status == 0 && shipped.status == 0, "\(fromBlob.err)\(shipped.err)")
        func withoutFile(_ json: String) -> String { json.split(separator: "\n").filter { !$0.contains("\"file\"") }.joined(separator: "\n") }
        #expect(withoutFile(fromBlob.out) == withoutFile(shipped.out))
        #expect(withoutFile(fromDecompiled.out) == withoutFile(shipped.out))
        // Every channel's specifier in dtc's rendering is a line and sense of board show.
        let text = try String(contentsOfFile: decompiled, encoding: .utf8)
        let loaded = try BoardProfile.load(path: profile, registry: DeviceKinds.standard)
        let routes = Set(loaded.interruptRoutes.map { "\($0.route.line) \(loaded.interruptController.kind.deviceTreeCell(for: $0.route.sense))" })
        let channelInterrupts = text.split(separator: "\n").filter { $0.contains("interrupts = <") }
        let specifiers = Set(channelInterrupts.compactMap { line -> String? in
            let cells = line.split(separator: "<").last?.split(separator: ">").first?.split(separator: " ").compactMap { UInt32($0.dropFirst(2), radix: 16) } ?? []
            return cells.count >= 2 ? "\(cells[0]) \(cells[1])" : nil
        })
        #expect(routes.isSubset(of: specifiers), "\(routes) not all in \(specifiers)")
    }

    func dtc(_ arguments: [String]) -> Int32 {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dtc")
        process.arguments = arguments
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("uioemu board import (the executable)", .serialized)
struct BoardImportCommandTests {
    @Test func aMalformedBlobExits2WithALocatedErrorOnStderr() throws {
        try withFiles(["bad.dtb": "\u{D0}"]) { directory in
            let path = directory.appendingPathComponent("bad.dtb").path
            try Data([0xD0, 0x0D, 0xFE, 0xED, 0, 0, 0x10, 0]).write(to: URL(fileURLWithPath: path))
            let r = try runUIOEmu(["board", "import", path])
            #expect(r.status == 2)
            #expect(r.err.contains("\(path): error: truncated: 8 bytes, shorter than a device tree header (40 bytes)"), "\(r.err)")
            #expect(r.out.isEmpty)
        }
    }

    @Test func aHundredMegabyteFileIsRefusedAtOnceWithItsSize() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.dts").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 100 << 20) == 0)
        let r = try runUIOEmu(["board", "import", path])
        #expect(r.status == 2)
        #expect(r.err.contains("\(path): error: the file is 104857600 bytes (100.0 MiB)"), "\(r.err)")
    }

    @Test func aDTSWithASyntaxErrorExits2WithDtcsFileAndLine() throws {
        try withFiles(["broken.dts": "/dts-v1/;\n/ {\n\tmodel = \"x\"\n};\n"]) { directory in
            let path = directory.appendingPathComponent("broken.dts").path
            let r = try runUIOEmu(["board", "import", path])
            #expect(r.status == 2)
            #expect(r.err.contains("\(path):4:1: error: dtc: syntax error"), "\(r.err)")
        }
    }

    @Test func anUnusableTreeExits2NamingTheNodeAndProperty() throws {
        let source = board(axiDMA(sense: 4))
        try withFiles(["bad-sense.dts": source]) { directory in
            let r = try runUIOEmu(["board", "import", directory.appendingPathComponent("bad-sense.dts").path])
            #expect(r.status == 2)
            #expect(r.err.contains(": /dma@f80000000/dma-channel@30: interrupts: error: interrupt <3 4 0 0>: sense 4 is undefined for mpic"), "\(r.err)")
        }
    }

    /// README's three commands: import, validate, play.
    @Test func anImportedBoardValidatesAndPlaysAScenario() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = directory.appendingPathComponent("myboard.yaml").path
        let imported = try runUIOEmu(["board", "import", "boards/dts/ml507-ppc440.dts", "-o", profile])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.err.contains("\(profile): imported 1 device (axi-dma), 2 UIO nodes, 2 u-dma-bufs, 6 reserved windows; skipped 1 node: /chosen"), "\(imported.err)")
        #expect(try String(contentsOfFile: profile, encoding: .utf8).contains("name: myboard\n"))
        let validated = try runUIOEmu(["validate", profile])
        #expect(validated.status == 0, "\(validated.err)")
        let scenario = directory.appendingPathComponent("stream.yaml")
        try "board: myboard.yaml\nseed: 1\nduration: 1ms\nexpect:\n  mismatched-bytes: 0\n  violations: 0\n".write(to: scenario, atomically: true, encoding: .utf8)
        let played = try runUIOEmu(["play", "--no-trace-hash", scenario.path])
        #expect(played.status == 0, "\(played.out)\(played.err)")
        #expect(played.out.contains("PASS"), "\(played.out)")
    }
}
